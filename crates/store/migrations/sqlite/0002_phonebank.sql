-- The phonebank: call campaigns, their contact lists, leases (who holds whom), call
-- attempts, invite links for callers, do-not-call and TPS lists, and list imports.
-- A contact is claimable when state = 0 and available_at <= now; available_at moves to a
-- lease's expiry on claim, to a cooldown's end after a retry outcome, and to the
-- requested time for a callback, so expired leases need no sweeper.

CREATE TABLE call_campaigns (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    briefing TEXT NOT NULL DEFAULT '',
    script TEXT NOT NULL DEFAULT '',
    survey TEXT NOT NULL DEFAULT '{"questions":[]}',
    outcomes TEXT NOT NULL,
    calling_hours TEXT NOT NULL,
    max_attempts INTEGER NOT NULL DEFAULT 3,
    min_minutes_between_attempts INTEGER NOT NULL DEFAULT 30,
    lease_seconds INTEGER NOT NULL DEFAULT 600,
    skip_limit INTEGER NOT NULL DEFAULT 20,
    leaderboard INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'live', 'paused', 'finished')),
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX call_campaigns_group ON call_campaigns (group_id);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES call_campaigns (id) ON DELETE CASCADE,
    phone TEXT NOT NULL,
    other_phone TEXT,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    email TEXT,
    postcode TEXT,
    extra TEXT NOT NULL DEFAULT '{}',
    source_line INTEGER,
    -- 0 queued, 1 finished, 2 suppressed (do not call)
    state INTEGER NOT NULL DEFAULT 0,
    -- 0 a callback that is due, 1 never called, 2 a retry
    priority INTEGER NOT NULL DEFAULT 1,
    available_at INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    callback_at INTEGER,
    lease_id INTEGER,
    last_outcome TEXT,
    last_called_at INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (campaign_id, phone)
);
CREATE INDEX contacts_queue ON contacts (campaign_id, state, priority, available_at);
CREATE INDEX contacts_phone ON contacts (phone);

CREATE TABLE leases (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    campaign_id INTEGER NOT NULL REFERENCES call_campaigns (id) ON DELETE CASCADE,
    caller_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    claimed_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- set when the caller releases it without an outcome (a skip or a break)
    released_at INTEGER,
    outcome_at INTEGER
);
CREATE INDEX leases_caller ON leases (caller_id, claimed_at);
CREATE INDEX leases_contact ON leases (contact_id);
CREATE INDEX leases_campaign ON leases (campaign_id, claimed_at);

CREATE TABLE call_attempts (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES call_campaigns (id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    lease_id INTEGER NOT NULL UNIQUE REFERENCES leases (id) ON DELETE CASCADE,
    caller_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    outcome TEXT NOT NULL,
    conversation INTEGER NOT NULL DEFAULT 0,
    answers TEXT NOT NULL DEFAULT '{}',
    notes TEXT NOT NULL DEFAULT '',
    callback_at INTEGER,
    -- when the outcome made the contact claimable again; NULL when it finished the contact
    next_available_at INTEGER,
    idempotency_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (caller_id, idempotency_key)
);
CREATE INDEX call_attempts_campaign ON call_attempts (campaign_id, created_at);
CREATE INDEX call_attempts_contact ON call_attempts (contact_id);

CREATE TABLE campaign_callers (
    campaign_id INTEGER NOT NULL REFERENCES call_campaigns (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    flagged_at INTEGER,
    flag_reason TEXT,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, user_id)
);

CREATE TABLE campaign_invites (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES call_campaigns (id) ON DELETE CASCADE,
    code TEXT NOT NULL UNIQUE,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    max_uses INTEGER,
    uses INTEGER NOT NULL DEFAULT 0,
    revoked_at INTEGER
);
CREATE INDEX campaign_invites_campaign ON campaign_invites (campaign_id);

CREATE TABLE do_not_call (
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    phone TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, phone)
);

CREATE TABLE tps_numbers (
    phone TEXT PRIMARY KEY,
    list TEXT NOT NULL DEFAULT 'TPS',
    imported_at INTEGER NOT NULL
);

CREATE TABLE import_jobs (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES call_campaigns (id) ON DELETE CASCADE,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    file_name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    rows_read INTEGER NOT NULL DEFAULT 0,
    imported INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    suppressed INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);

CREATE TABLE import_rejections (
    job_id INTEGER NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    line INTEGER NOT NULL,
    column_name TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX import_rejections_job ON import_rejections (job_id, line);
