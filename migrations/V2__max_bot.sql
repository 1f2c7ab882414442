-- The MAX bot: group chats it was added to (for binding a house chat), what happened in
-- them, and what the sandbox MAX simulator received from the bot.

-- A group chat the bot is or was a member of. `houses.max_chat_id` binds one to a house.
CREATE TABLE max_chats (
    id           INTEGER PRIMARY KEY,
    chat_id      INTEGER NOT NULL UNIQUE,
    title        TEXT NOT NULL DEFAULT '',
    -- active: the bot is in the chat; removed: it was removed
    status       TEXT NOT NULL,
    -- MAX user id of who added the bot
    added_by     INTEGER,
    is_channel   INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

-- Membership and title events of group chats, as MAX reported them.
CREATE TABLE max_chat_events (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    -- bot_added, bot_removed, user_added, user_removed, chat_title_changed
    kind        TEXT NOT NULL,
    -- MAX user id the event is about
    user_id     INTEGER,
    -- MAX user id who did it (inviter, admin), when MAX says
    actor_id    INTEGER,
    happened_at TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX max_chat_events_chat ON max_chat_events(chat_id, happened_at);

-- Sandbox only: what the bot sent to the simulated MAX (messages, callback answers).
CREATE TABLE max_sim_messages (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER,
    user_id     INTEGER,
    -- message, edit, answer
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX max_sim_messages_chat ON max_sim_messages(chat_id, id);
