-- Core schema: one table per aggregate, integer keys, UTC timestamps as ISO-8601 text.

CREATE TABLE organisations (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    inn            TEXT NOT NULL UNIQUE,
    ogrn           TEXT NOT NULL,
    org_ppa_guid   TEXT,
    -- Per-УО overrides of [readings] and [requests] settings, as a JSON object.
    settings       TEXT NOT NULL DEFAULT '{}',
    demo           INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE houses (
    id               INTEGER PRIMARY KEY,
    organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
    fias_guid        TEXT,
    gis_guid         TEXT UNIQUE,
    address          TEXT NOT NULL,
    settings         TEXT NOT NULL DEFAULT '{}',
    max_chat_id      INTEGER UNIQUE,
    removed_at       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX houses_organisation ON houses(organisation_id);
CREATE UNIQUE INDEX houses_fias ON houses(organisation_id, fias_guid) WHERE fias_guid IS NOT NULL;

CREATE TABLE premises (
    id                INTEGER PRIMARY KEY,
    house_id          INTEGER NOT NULL REFERENCES houses(id),
    number            TEXT NOT NULL,
    kind              TEXT NOT NULL DEFAULT 'flat',
    premises_guid     TEXT UNIQUE,
    cadastral_number  TEXT,
    area              TEXT,
    removed_at        TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (house_id, number)
);

CREATE TABLE accounts (
    id               INTEGER PRIMARY KEY,
    premise_id       INTEGER NOT NULL REFERENCES premises(id),
    number           TEXT NOT NULL,
    unified_number   TEXT,
    service_id       TEXT,
    gis_guid         TEXT UNIQUE,
    removed_at       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX accounts_premise ON accounts(premise_id);
CREATE INDEX accounts_number ON accounts(number);
CREATE INDEX accounts_unified ON accounts(unified_number);

-- The УО's owners register: who owns what share of a premise, and the keys to match a
-- signed-in person (a keyed hash of СНИЛС, or a keyed hash of full name + birth date).
CREATE TABLE owners (
    id               INTEGER PRIMARY KEY,
    premise_id       INTEGER NOT NULL REFERENCES premises(id),
    share            TEXT NOT NULL DEFAULT '1',
    snils_hash       TEXT,
    name_birth_hash  TEXT,
    display_name     TEXT NOT NULL,
    source           TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX owners_premise ON owners(premise_id);
CREATE INDEX owners_snils ON owners(snils_hash);
CREATE INDEX owners_name_birth ON owners(name_birth_hash);

CREATE TABLE people (
    id           INTEGER PRIMARY KEY,
    esia_oid     TEXT UNIQUE,
    trusted      INTEGER NOT NULL DEFAULT 0,
    name         TEXT NOT NULL DEFAULT '',
    snils_hash   TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE max_users (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL UNIQUE,
    dialog_chat_id INTEGER,
    person_id      INTEGER REFERENCES people(id),
    first_name     TEXT NOT NULL DEFAULT '',
    notify         INTEGER NOT NULL DEFAULT 1,
    stopped_at     TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX max_users_person ON max_users(person_id);

CREATE TABLE property_links (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people(id),
    premise_id  INTEGER NOT NULL REFERENCES premises(id),
    share       TEXT,
    -- How ownership was proven: owners_register, account, registry, operator.
    proof       TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'linked',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (person_id, premise_id)
);
CREATE INDEX property_links_premise ON property_links(premise_id);

CREATE TABLE meters (
    id                 INTEGER PRIMARY KEY,
    premise_id         INTEGER NOT NULL REFERENCES premises(id),
    root_guid          TEXT UNIQUE,
    serial             TEXT NOT NULL,
    -- cold_water, hot_water, electricity, gas, heat
    resource           TEXT NOT NULL,
    tariffs            INTEGER NOT NULL DEFAULT 1 CHECK (tariffs BETWEEN 1 AND 3),
    unit               TEXT NOT NULL,
    digits             INTEGER NOT NULL DEFAULT 8,
    automatic          INTEGER NOT NULL DEFAULT 0,
    next_verification  TEXT,
    archived_at        TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX meters_premise ON meters(premise_id);

-- Values are exact decimals kept as text in the form ГИС ЖКХ accepts.
CREATE TABLE readings (
    id              INTEGER PRIMARY KEY,
    meter_id        INTEGER NOT NULL REFERENCES meters(id),
    t1              TEXT NOT NULL,
    t2              TEXT,
    t3              TEXT,
    taken_on        TEXT NOT NULL,
    -- resident, operator, gis, import, demo
    source          TEXT NOT NULL,
    person_id       INTEGER REFERENCES people(id),
    -- accepted, sent, confirmed, rejected, replaced
    status          TEXT NOT NULL,
    transport_guid  TEXT UNIQUE,
    error           TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX readings_meter ON readings(meter_id, taken_on);
CREATE INDEX readings_status ON readings(status);

CREATE TABLE requests (
    id            INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisations(id),
    number        TEXT NOT NULL,
    premise_id    INTEGER REFERENCES premises(id),
    house_id      INTEGER NOT NULL REFERENCES houses(id),
    person_id     INTEGER REFERENCES people(id),
    category      TEXT NOT NULL,
    text          TEXT NOT NULL,
    emergency     INTEGER NOT NULL DEFAULT 0,
    deadline_at   TEXT,
    status        TEXT NOT NULL,
    -- app, gis, operator
    source        TEXT NOT NULL,
    appeal_guid   TEXT UNIQUE,
    assignee      TEXT,
    deferred_until TEXT,
    rating        INTEGER,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (organisation_id, number)
);
CREATE INDEX requests_person ON requests(person_id);
CREATE INDEX requests_status ON requests(organisation_id, status, deadline_at);

CREATE TABLE request_events (
    id          INTEGER PRIMARY KEY,
    request_id  INTEGER NOT NULL REFERENCES requests(id),
    -- created, status, comment, assigned, deadline, rated
    kind        TEXT NOT NULL,
    status      TEXT,
    text        TEXT,
    visible     INTEGER NOT NULL DEFAULT 1,
    -- resident:<person id>, staff:<user id>, system, gis
    author      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX request_events_request ON request_events(request_id);

CREATE TABLE attachments (
    id          INTEGER PRIMARY KEY,
    request_id  INTEGER NOT NULL REFERENCES requests(id),
    event_id    INTEGER REFERENCES request_events(id),
    sha256      TEXT NOT NULL,
    mime        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX attachments_request ON attachments(request_id);

-- Durable outbox: every outbound call is a job here, delivered by a worker.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    payload          TEXT NOT NULL,
    -- pending, running, done, failed
    state            TEXT NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    -- Jobs with the same lane run one at a time, in order (a chat, a ГИС ЖКХ message).
    lane             TEXT,
    run_at           TEXT NOT NULL,
    lease_until      TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox(state, run_at);
CREATE INDEX outbox_lane ON outbox(lane, state) WHERE lane IS NOT NULL;

CREATE TABLE max_updates (
    id          INTEGER PRIMARY KEY,
    dedup_key   TEXT NOT NULL UNIQUE,
    update_type TEXT NOT NULL,
    body        TEXT NOT NULL,
    -- received, handled, failed
    state       TEXT NOT NULL DEFAULT 'received',
    created_at  TEXT NOT NULL,
    handled_at  TEXT
);
CREATE INDEX max_updates_state ON max_updates(state);

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    max_user_id INTEGER NOT NULL REFERENCES max_users(id),
    expires_at  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE console_users (
    id               INTEGER PRIMARY KEY,
    login            TEXT NOT NULL UNIQUE,
    password_hash    TEXT NOT NULL,
    -- operator, admin
    role             TEXT NOT NULL,
    -- NULL for a regional admin
    organisation_id  INTEGER REFERENCES organisations(id),
    disabled_at      TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL
);

CREATE TABLE usage_events (
    id          INTEGER PRIMARY KEY,
    -- dialog_started, app_button_sent, message_received, app_opened, signed_in,
    -- property_linked, reading_submitted, request_filed
    kind        TEXT NOT NULL,
    max_user_id INTEGER,
    person_id   INTEGER,
    day         TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX usage_events_day ON usage_events(day, kind);

CREATE TABLE kv (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
