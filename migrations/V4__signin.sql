-- Mini-app sign-in: ЕСИА round trips, ownership proofs, what ЕСИА told us about a person.

-- Match key and address hint kept for a person signed in through ЕСИА. The birth date and
-- СНИЛС themselves are never stored, only keyed hashes.
ALTER TABLE people ADD COLUMN name_birth_hash TEXT;
-- The ЕСИА address: house FIAS/ГАР GUID and flat, to pre-fill the ownership-proof form.
ALTER TABLE people ADD COLUMN address_house_guid TEXT;
ALTER TABLE people ADD COLUMN address_flat TEXT;

-- One ЕСИА sign-in attempt: the fresh `state` sent to ЕСИА and checked on return.
CREATE TABLE esia_states (
    id            INTEGER PRIMARY KEY,
    state         TEXT NOT NULL UNIQUE,
    max_user_id   INTEGER NOT NULL REFERENCES max_users(id),
    expires_at    TEXT NOT NULL,
    used_at       TEXT,
    -- signed_in, or the error code shown to the resident
    outcome       TEXT,
    created_at    TEXT NOT NULL
);
CREATE INDEX esia_states_user ON esia_states(max_user_id);

-- Ownership proofs by ЛС/ЕЛС plus premise number, to pause guessing.
CREATE TABLE ownership_attempts (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people(id),
    succeeded   INTEGER NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX ownership_attempts_person ON ownership_attempts(person_id, created_at);

-- Set by the callback after ЕСИА vouched for the person; the mini-app that started the
-- sign-in finishes it with the one-time completion code (stored hashed), so a sign-in
-- link forwarded to someone else cannot bind their account to the sender's MAX user.
ALTER TABLE esia_states ADD COLUMN person_id INTEGER REFERENCES people(id);
ALTER TABLE esia_states ADD COLUMN completion_hash TEXT;
ALTER TABLE esia_states ADD COLUMN completed_at TEXT;
CREATE UNIQUE INDEX esia_states_completion ON esia_states(completion_hash)
    WHERE completion_hash IS NOT NULL;
