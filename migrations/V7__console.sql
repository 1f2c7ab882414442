-- Operator console: sign-in sessions and login throttling.

-- A signed-in staff member. The cookie holds a random token; only its SHA-256 is kept.
-- The CSRF token travels in the `X-CSRF-Token` header of every change.
CREATE TABLE console_sessions (
    id            INTEGER PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    user_id       INTEGER NOT NULL REFERENCES console_users(id),
    csrf_token    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions(user_id);
CREATE INDEX console_sessions_seen ON console_sessions(last_seen_at);

-- Wrong passwords per login (`login:<login>`) and per address (`address:<ip>`).
CREATE TABLE console_login_failures (
    key              TEXT PRIMARY KEY,
    failures         INTEGER NOT NULL,
    last_failure_at  TEXT NOT NULL,
    blocked_until    TEXT
);

CREATE INDEX audit_log_created ON audit_log(created_at);
