-- Keyed digests (HMAC-SHA256 with the instance's erasure key) of the E.164 numbers and
-- email addresses of erased people: a later import still suppresses them, and nothing
-- here says who they were.
CREATE TABLE erased_subjects (
    digest TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('phone', 'email')),
    erased_at INTEGER NOT NULL
);

-- Secrets of the whole instance, made on first use (the erasure key).
CREATE TABLE instance_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
