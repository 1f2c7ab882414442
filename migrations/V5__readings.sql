-- Readings: corrections, confirmations, delivery to ГИС ЖКХ and reminders.

-- One importMeteringDeviceValues message of one УО: up to 1000 readings.
CREATE TABLE reading_exports (
    id               INTEGER PRIMARY KEY,
    organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
    -- The outbox job that owns this message.
    job_key          TEXT NOT NULL UNIQUE,
    -- Our MessageGUID of the request (ГИС ЖКХ dedups on it).
    message_guid     TEXT NOT NULL UNIQUE,
    -- new (collected, not yet acknowledged), sent (acknowledged), done, failed
    state            TEXT NOT NULL,
    -- ГИС ЖКХ's MessageGUID from the acknowledgement, to ask for the result.
    ack_guid         TEXT,
    polls            INTEGER NOT NULL DEFAULT 0,
    error            TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX reading_exports_organisation ON reading_exports(organisation_id, state);

-- The reading that replaced this one (a correction within the same window).
ALTER TABLE readings ADD COLUMN replaced_by INTEGER REFERENCES readings(id);
-- The resident confirmed a value that looked implausibly high.
ALTER TABLE readings ADD COLUMN jump_confirmed INTEGER NOT NULL DEFAULT 0;
-- Accepted with a notice (e.g. outside_window in lenient mode): the notice's code.
ALTER TABLE readings ADD COLUMN notice TEXT;
-- The ГИС ЖКХ message that carries (or carried) this reading.
ALTER TABLE readings ADD COLUMN export_id INTEGER REFERENCES reading_exports(id);
CREATE INDEX readings_export ON readings(export_id);
CREATE INDEX readings_undelivered ON readings(status, export_id) WHERE status = 'accepted';

-- Reminders already queued, so each goes out once: per MAX user, kind and subject
-- (the period for window reminders, meter + date for verification reminders).
CREATE TABLE reading_reminders (
    id           INTEGER PRIMARY KEY,
    max_user_id  INTEGER NOT NULL REFERENCES max_users(id),
    -- window_open, window_closing, verification
    kind         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (max_user_id, kind, subject)
);
