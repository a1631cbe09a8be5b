-- Retention: when a campaign finished, per-group overrides of how long call lists and
-- RSVP details are kept, and one row per housekeeping run so that nodes running it at the
-- same time apply it once. RSVPs can outlive the supporter they named (their counts stay
-- after the personal data goes), so `rsvps.supporter_id` becomes optional: SQLite can only
-- do that by rebuilding the table. Migrations run in a transaction with foreign keys on,
-- so dropping the old table deletes the notices that reference it: they are kept aside
-- and put back.

ALTER TABLE call_campaigns ADD COLUMN finished_at INTEGER;
UPDATE call_campaigns SET finished_at = updated_at WHERE status = 'finished';

-- NULL: the instance default.
ALTER TABLE groups ADD COLUMN contact_retention_days INTEGER;
ALTER TABLE groups ADD COLUMN rsvp_retention_days INTEGER;

CREATE TABLE retention_runs (
    -- The hour the run is for (its clock divided by the run interval): the first node to
    -- insert it runs; the others find it taken.
    slot INTEGER PRIMARY KEY,
    ran_at INTEGER NOT NULL,
    contacts INTEGER NOT NULL,
    rsvps INTEGER NOT NULL,
    supporters INTEGER NOT NULL,
    audit_entries INTEGER NOT NULL
);

CREATE TABLE rsvps_optional_supporter (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    shift_id INTEGER REFERENCES event_shifts (id) ON DELETE SET NULL,
    -- NULL once the retention period has removed who it was.
    supporter_id INTEGER REFERENCES supporters (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('going', 'waitlist', 'cancelled')),
    -- NULL until the host marks it.
    attended INTEGER,
    -- SHA-256 of the token in the attendee's manage/cancel link.
    manage_token_hash TEXT NOT NULL UNIQUE,
    feedback_rating INTEGER,
    feedback_text TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    confirmation_mailed_at INTEGER,
    UNIQUE (event_id, supporter_id)
);
INSERT INTO rsvps_optional_supporter (id, event_id, shift_id, supporter_id, status, attended,
    manage_token_hash, feedback_rating, feedback_text, created_at, updated_at, confirmation_mailed_at)
SELECT id, event_id, shift_id, supporter_id, status, attended, manage_token_hash,
    feedback_rating, feedback_text, created_at, updated_at, confirmation_mailed_at
FROM rsvps;
CREATE TEMP TABLE rsvp_notices_kept AS SELECT rsvp_id, kind, queued_at FROM rsvp_notices;
DROP TABLE rsvps;
ALTER TABLE rsvps_optional_supporter RENAME TO rsvps;
CREATE INDEX rsvps_supporter ON rsvps (supporter_id);
CREATE INDEX rsvps_event_status ON rsvps (event_id, status, created_at);
INSERT INTO rsvp_notices (rsvp_id, kind, queued_at) SELECT rsvp_id, kind, queued_at FROM rsvp_notices_kept;
DROP TABLE rsvp_notices_kept;
CREATE INDEX events_ends ON events (ends_at);
