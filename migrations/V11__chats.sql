-- House chats and announcements: one-time binding codes, the chats' invite links, what the
-- console shows when the bot was removed, residents asking for a chat, notification
-- settings per topic, and announcements with one delivery row per recipient.

-- A one-time code an admin makes for a house; `/bind <code>` in a group chat binds it.
-- Only the SHA-256 of the normalised code is kept.
CREATE TABLE chat_bind_codes (
    id           INTEGER PRIMARY KEY,
    house_id     INTEGER NOT NULL REFERENCES houses(id),
    code_hash    TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT,
    used_chat_id INTEGER,
    created_at   TEXT NOT NULL
);
CREATE INDEX chat_bind_codes_house ON chat_bind_codes(house_id);

-- The chat's invite link from `GET /chats/{id}`, refreshed on binding and daily.
ALTER TABLE max_chats ADD COLUMN link TEXT;
ALTER TABLE max_chats ADD COLUMN link_checked_at TEXT;

-- When the bot was removed from the house's bound chat (which unbinds it), and which chat.
ALTER TABLE houses ADD COLUMN chat_removed_at TEXT;
ALTER TABLE houses ADD COLUMN chat_removed_id INTEGER;

-- A resident told the УО that their house needs a chat in MAX.
CREATE TABLE house_chat_wishes (
    id          INTEGER PRIMARY KEY,
    house_id    INTEGER NOT NULL REFERENCES houses(id),
    person_id   INTEGER NOT NULL REFERENCES people(id),
    created_at  TEXT NOT NULL,
    UNIQUE (house_id, person_id)
);

-- Notification topics. `notify` stays the general switch (`/stop`, `bot_stopped`): off, only
-- emergency notices go out. Existing users keep their general switch and get every topic on,
-- so a user who stopped the bot and starts it again gets what everyone gets.
ALTER TABLE max_users ADD COLUMN notify_requests INTEGER NOT NULL DEFAULT 1;
ALTER TABLE max_users ADD COLUMN notify_readings INTEGER NOT NULL DEFAULT 1;
ALTER TABLE max_users ADD COLUMN notify_notices INTEGER NOT NULL DEFAULT 1;

CREATE TABLE announcements (
    id               INTEGER PRIMARY KEY,
    organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
    -- general, outage, emergency
    kind             TEXT NOT NULL,
    title            TEXT NOT NULL,
    text             TEXT NOT NULL,
    -- A planned outage's start and end.
    starts_at        TEXT,
    ends_at          TEXT,
    -- Every house of the УО (as of sending) instead of `announcement_houses`.
    all_houses       INTEGER NOT NULL DEFAULT 0,
    send_at          TEXT NOT NULL,
    -- scheduled, sending, queued (every message is in the outbox), cancelled
    status           TEXT NOT NULL,
    -- The fan-out's progress: the last `max_users.id` handled.
    cursor           INTEGER NOT NULL DEFAULT 0,
    created_by       TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX announcements_organisation ON announcements(organisation_id, id);

CREATE TABLE announcement_houses (
    announcement_id  INTEGER NOT NULL REFERENCES announcements(id),
    house_id         INTEGER NOT NULL REFERENCES houses(id),
    PRIMARY KEY (announcement_id, house_id)
);

-- One row per recipient (a resident's MAX user or a house chat). `job_key` is the outbox
-- key of its message, whose state says sent or failed; `skipped` says why there is none.
CREATE TABLE announcement_deliveries (
    id               INTEGER PRIMARY KEY,
    announcement_id  INTEGER NOT NULL REFERENCES announcements(id),
    max_user_id      INTEGER,
    chat_id          INTEGER,
    job_key          TEXT,
    -- hourly_limit, opted_out, bot_stopped
    skipped          TEXT,
    general          INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    UNIQUE (announcement_id, max_user_id),
    UNIQUE (announcement_id, chat_id)
);
CREATE INDEX announcement_deliveries_user ON announcement_deliveries(max_user_id, created_at);
