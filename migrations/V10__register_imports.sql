-- Register imports made in the console: when, by whom, what kind, how many lines, and
-- every wrong line with its number (an import is all or nothing).
CREATE TABLE register_imports (
    id               INTEGER PRIMARY KEY,
    -- The УО the import was limited to; NULL for a regional admin's import.
    organisation_id  INTEGER REFERENCES organisations(id),
    -- houses, accounts, owners, meters
    kind             TEXT NOT NULL,
    -- Who imported it, as the audit log names them (staff:<id>).
    actor            TEXT NOT NULL,
    file_name        TEXT NOT NULL DEFAULT '',
    -- done (everything written) or failed (nothing written)
    outcome          TEXT NOT NULL,
    -- Data lines in the file (the header not counted).
    lines            INTEGER NOT NULL,
    created          INTEGER NOT NULL DEFAULT 0,
    updated          INTEGER NOT NULL DEFAULT 0,
    -- JSON array of {"line": n, "reason": "..."}; a header problem has line 1.
    errors           TEXT NOT NULL DEFAULT '[]',
    created_at       TEXT NOT NULL
);
CREATE INDEX register_imports_organisation ON register_imports(organisation_id, created_at);
