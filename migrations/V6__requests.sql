-- Requests (заявки): per-УО yearly numbers, the problem kind that set the deadline, and
-- the ГИС ЖКХ appeal number for appeals pulled from ГИС ЖКХ.

-- The last number given out per УО and year; bumped in the transaction that inserts the
-- request, so numbers have no gaps and never repeat.
CREATE TABLE request_counters (
    organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
    year             INTEGER NOT NULL,
    last_number      INTEGER NOT NULL,
    PRIMARY KEY (organisation_id, year)
);

-- The category tree's problem code is in requests.category; these say which place it
-- concerns, which deadline rule applied, and the ГИС ЖКХ number of a pulled appeal.
ALTER TABLE requests ADD COLUMN place TEXT NOT NULL DEFAULT 'flat';
-- emergency, ordinary, query
ALTER TABLE requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'ordinary';
ALTER TABLE requests ADD COLUMN gis_number TEXT;
-- When the request was last marked done: the reopen window counts from it.
ALTER TABLE requests ADD COLUMN done_at TEXT;

CREATE INDEX requests_person_created ON requests(person_id, created_at);

-- Photos are stored only after location metadata was removed; the flag records it, and
-- the original's file name is never kept.
ALTER TABLE attachments ADD COLUMN metadata_stripped INTEGER NOT NULL DEFAULT 0;
CREATE INDEX attachments_event ON attachments(event_id);
