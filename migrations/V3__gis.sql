-- ГИС ЖКХ exchange: one row per asynchronous message, the НСИ cache, sync bookkeeping.

-- A message to ГИС ЖКХ and where it stands. `request` is what the message carries (JSON),
-- so a message can be rebuilt (new MessageGUID, new signature) after EXP001000.
CREATE TABLE gis_messages (
    id               INTEGER PRIMARY KEY,
    operation        TEXT NOT NULL,
    -- import: never sent again once acknowledged; export: may be repeated.
    direction        TEXT NOT NULL,
    request          TEXT NOT NULL,
    -- new, sending, acked, done, failed
    state            TEXT NOT NULL DEFAULT 'new',
    -- Our MessageGUID of the last send, and the MessageGUID ГИС ЖКХ acknowledged.
    message_guid     TEXT,
    ack_guid         TEXT,
    sends            INTEGER NOT NULL DEFAULT 0,
    polls            INTEGER NOT NULL DEFAULT 0,
    -- JSON: per-item results keyed by TransportGUID, or the export's data.
    result           TEXT,
    error_code       TEXT,
    error            TEXT,
    -- Who consumes the result (e.g. readings), and its reference (e.g. a batch id).
    consumer         TEXT,
    consumer_ref     TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    acked_at         TEXT,
    done_at          TEXT
);
CREATE INDEX gis_messages_state ON gis_messages(state);
CREATE INDEX gis_messages_ack ON gis_messages(ack_guid);

-- Cached НСИ registries (2: municipal resources, 27: meter types).
CREATE TABLE gis_nsi (
    registry     INTEGER NOT NULL,
    code         TEXT NOT NULL,
    guid         TEXT NOT NULL,
    name         TEXT NOT NULL,
    actual       INTEGER NOT NULL DEFAULT 1,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (registry, code)
);

-- One row per sync run: when, what it found, how it ended.
CREATE TABLE gis_syncs (
    id            INTEGER PRIMARY KEY,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    -- running, done, failed
    state         TEXT NOT NULL,
    summary       TEXT NOT NULL DEFAULT '{}',
    error         TEXT
);
