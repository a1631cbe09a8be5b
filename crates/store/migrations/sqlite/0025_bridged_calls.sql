-- Bridged calling: how a campaign's callers call (Barnstorm rings them, they dial in, or
-- tel: links) and the number contacts see; callers' own numbers for "call me"; a caller's
-- phone session on one node; and one record per call Barnstorm places, with its ring,
-- answer and hang-up times. Existing campaigns keep tel: links only.
ALTER TABLE call_campaigns ADD COLUMN bridge_caller_id TEXT;
ALTER TABLE call_campaigns ADD COLUMN bridge_call_me INTEGER NOT NULL DEFAULT 0;
ALTER TABLE call_campaigns ADD COLUMN bridge_dial_in INTEGER NOT NULL DEFAULT 0;
ALTER TABLE call_campaigns ADD COLUMN bridge_tel_links INTEGER NOT NULL DEFAULT 1;

CREATE TABLE caller_phones (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    phone TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX caller_phones_phone ON caller_phones (phone);

CREATE TABLE phone_sessions (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES call_campaigns (id) ON DELETE CASCADE,
    caller_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pin TEXT NOT NULL,
    join_kind TEXT NOT NULL CHECK (join_kind IN ('call_me', 'dial_in')),
    node TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    joined_at INTEGER,
    ended_at INTEGER,
    end_reason TEXT
);
-- A PIN names one open session, so a volunteer who dials in reaches their own.
CREATE UNIQUE INDEX phone_sessions_open_pin ON phone_sessions (pin) WHERE ended_at IS NULL;
CREATE INDEX phone_sessions_caller ON phone_sessions (campaign_id, caller_id, ended_at);

CREATE TABLE call_records (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES call_campaigns (id) ON DELETE CASCADE,
    lease_id INTEGER NOT NULL REFERENCES leases (id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    caller_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id INTEGER NOT NULL REFERENCES phone_sessions (id) ON DELETE CASCADE,
    node TEXT NOT NULL,
    dialled_at INTEGER NOT NULL,
    ringing_at INTEGER,
    answered_at INTEGER,
    ended_at INTEGER,
    hung_up_by TEXT CHECK (hung_up_by IN ('contact', 'caller', 'barnstorm', 'network')),
    sip_status INTEGER,
    cause TEXT,
    proposed_outcome TEXT
);
CREATE INDEX call_records_lease ON call_records (lease_id);
CREATE INDEX call_records_campaign ON call_records (campaign_id, dialled_at);
CREATE INDEX call_records_caller ON call_records (caller_id);
CREATE INDEX call_records_contact ON call_records (contact_id);
CREATE INDEX call_records_unfinished ON call_records (node) WHERE ended_at IS NULL;
