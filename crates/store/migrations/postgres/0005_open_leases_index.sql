-- A caller's open leases (neither released nor recorded), so a claim finds the contact
-- the caller already holds without reading their whole history.
CREATE INDEX leases_open ON leases (caller_id, campaign_id) WHERE released_at IS NULL AND outcome_at IS NULL;
