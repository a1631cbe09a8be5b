-- Retention: when a campaign finished, per-group overrides of how long call lists and
-- RSVP details are kept, and one row per housekeeping run so that nodes running it at the
-- same time apply it once. RSVPs can outlive the supporter they named (their counts stay
-- after the personal data goes), so `rsvps.supporter_id` becomes optional.
ALTER TABLE call_campaigns ADD COLUMN finished_at BIGINT;
UPDATE call_campaigns SET finished_at = updated_at WHERE status = 'finished';

-- NULL: the instance default.
ALTER TABLE groups ADD COLUMN contact_retention_days BIGINT;
ALTER TABLE groups ADD COLUMN rsvp_retention_days BIGINT;

CREATE TABLE retention_runs (
    -- The hour the run is for (its clock divided by the run interval): the first node to
    -- insert it runs; the others find it taken.
    slot BIGINT PRIMARY KEY,
    ran_at BIGINT NOT NULL,
    contacts BIGINT NOT NULL,
    rsvps BIGINT NOT NULL,
    supporters BIGINT NOT NULL,
    audit_entries BIGINT NOT NULL
);

ALTER TABLE rsvps ALTER COLUMN supporter_id DROP NOT NULL;
CREATE INDEX events_ends ON events (ends_at);
