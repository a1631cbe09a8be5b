-- Accounts proven before they are trusted, sign-in limits that hold under concurrency,
-- invite links with limits, and hashed campaign invite codes.

-- An account is trusted only once its owner has proved the address (an emailed link
-- followed, or a group invite accepted from the mail). email_verified_at records when.
--
-- Existing accounts: those made by an admin (barnstorm user add, the demo) or by
-- accepting a group invite were made for an address someone vouched for, and those that
-- ever redeemed a sign-in link proved it; they count as verified (at their first link's
-- use, or at creation). Accounts made by joining a phone bank through a caller invite
-- link ('user.create' audited as "joined a phone bank by invite link") were made for
-- any address typed into the join form, and stay unverified until a link is redeemed.
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;

UPDATE users SET email_verified_at = COALESCE(
    (SELECT MIN(l.used_at) FROM sign_in_links l
      WHERE l.user_id = users.id AND l.used_at IS NOT NULL),
    users.created_at)
WHERE EXISTS (SELECT 1 FROM sign_in_links l
               WHERE l.user_id = users.id AND l.used_at IS NOT NULL)
   OR NOT EXISTS (SELECT 1 FROM audit_log a
                   WHERE a.action = 'user.create'
                     AND a.subject = 'user ' || users.id
                     AND a.detail = 'joined a phone bank by invite link');

-- Fixed-window counters for every limit that must hold when requests race (wrong
-- passwords, sign-in link requests, invite joins, RSVPs): one row per key, bumped by a
-- single upsert so the check and the record are one statement on both databases.
CREATE TABLE rate_limit_counters (
    key TEXT PRIMARY KEY,
    window_started_at INTEGER NOT NULL,
    hits INTEGER NOT NULL
);
CREATE INDEX rate_limit_counters_window ON rate_limit_counters (window_started_at);

-- Campaign invite codes are stored as SHA-256 like every other secret. The column keeps
-- its name; code_hashed says the row holds the hash. Rows from before this migration are
-- hashed in place by the application right after migrating (SQLite has no sha256()),
-- and a lookup only ever matches hashed rows.
ALTER TABLE campaign_invites ADD COLUMN code_hashed INTEGER NOT NULL DEFAULT 0;
-- At most this many accounts are created through one link in any hour (NULL: no cap).
ALTER TABLE campaign_invites ADD COLUMN max_new_accounts_per_hour INTEGER;

-- Accounts created through each invite link, for the per-hour cap.
CREATE TABLE campaign_invite_signups (
    invite_id INTEGER NOT NULL REFERENCES campaign_invites (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (invite_id, user_id)
);
CREATE INDEX campaign_invite_signups_at ON campaign_invite_signups (invite_id, created_at);

-- When the RSVP confirmation (with its manage link) was last mailed, so a repeated RSVP
-- from the same address does not send another within the hour.
ALTER TABLE rsvps ADD COLUMN confirmation_mailed_at INTEGER;
