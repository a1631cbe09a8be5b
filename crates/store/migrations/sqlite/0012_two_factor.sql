-- Two-factor sign-in: authenticator apps (TOTP), single-use recovery codes, passkeys
-- (WebAuthn), sign-ins waiting for their second step, passkey registrations in progress,
-- and the per-group requirement. Times are milliseconds since the Unix epoch (UTC).

-- One authenticator app per account. `confirmed_at` is NULL while it is being set up;
-- `last_used_step` is the 30-second step of the last code accepted, so no code works twice.
CREATE TABLE totp_authenticators (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    last_used_step INTEGER NOT NULL DEFAULT 0
);

-- Only the SHA-256 of each recovery code is kept.
CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id, code_hash);

-- `credential` is the verified public key and its counter, as JSON.
CREATE TABLE passkeys (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    credential TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- A sign-in whose first step (password or emailed link) passed and whose second has not.
-- The browser holds the secret; only its SHA-256 is here. `passkey_state` is the
-- challenge of a passkey assertion in progress.
CREATE TABLE second_steps (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    next_path TEXT NOT NULL,
    passkey_state TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

-- The challenge of a passkey registration in progress, one per account.
CREATE TABLE passkey_registrations (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

-- Organisers of this group and of every group below it need two-factor sign-in.
ALTER TABLE groups ADD COLUMN require_two_factor INTEGER NOT NULL DEFAULT 0;
