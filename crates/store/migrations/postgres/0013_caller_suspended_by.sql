-- Who suspended a caller, so organisers can see it on the campaign page: an organiser's
-- account, or NULL with suspended_at set for a suspension made automatically.
ALTER TABLE campaign_callers ADD COLUMN suspended_by BIGINT REFERENCES users (id) ON DELETE SET NULL;
-- The campaign page counts each caller's calls.
CREATE INDEX call_attempts_caller ON call_attempts (caller_id, campaign_id);
