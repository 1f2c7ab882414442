-- ГИС ЖКХ appeals: where each УО's pull stands, and what each answered event sent.

-- One row per УО: the last creation date an exportAppeal covered (the next pull starts
-- there again, the dates being whole days), and the export in flight.
CREATE TABLE gis_appeal_pulls (
    organisation_id  INTEGER PRIMARY KEY REFERENCES organisations(id),
    pulled_to        TEXT,
    message_id       INTEGER,
    updated_at       TEXT NOT NULL
);

-- One row per request event answered through importAnswer: its message (NULL when the
-- event had nothing to send) and whether it sent the final answer (SendAnswer).
CREATE TABLE gis_answers (
    event_id     INTEGER PRIMARY KEY,
    request_id   INTEGER NOT NULL REFERENCES requests(id),
    appeal_guid  TEXT NOT NULL,
    message_id   INTEGER,
    final        INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL
);
CREATE INDEX gis_answers_appeal ON gis_answers(appeal_guid);
