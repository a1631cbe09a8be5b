-- Safeguards against a caller harvesting the list: a pace limit per caller and campaign
-- (new contacts a minute and an hour), a limit on "do not call" outcomes an hour, the
-- fields callers are shown (NULL: first and last name and the mapped fields the script
-- uses), and callers suspended or removed by an organiser or automatically.
ALTER TABLE call_campaigns ADD COLUMN pace_per_minute INTEGER NOT NULL DEFAULT 6;
ALTER TABLE call_campaigns ADD COLUMN pace_per_hour INTEGER NOT NULL DEFAULT 120;
ALTER TABLE call_campaigns ADD COLUMN do_not_call_per_hour INTEGER NOT NULL DEFAULT 10;
ALTER TABLE call_campaigns ADD COLUMN shown_to_callers TEXT;
ALTER TABLE campaign_callers ADD COLUMN suspended_at INTEGER;
ALTER TABLE campaign_callers ADD COLUMN suspended_reason TEXT;
ALTER TABLE campaign_callers ADD COLUMN removed_at INTEGER;
-- Claims refused by the pace limit since pace_refused_since (the window's start).
ALTER TABLE campaign_callers ADD COLUMN pace_refusals INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaign_callers ADD COLUMN pace_refused_since INTEGER;
ALTER TABLE call_attempts ADD COLUMN do_not_call INTEGER NOT NULL DEFAULT 0;
-- A claim counts the caller's newest leases on the campaign, at most the limit of them.
CREATE INDEX leases_pace ON leases (caller_id, campaign_id, claimed_at);
-- A "do not call" outcome counts the caller's recent ones: a small share of attempts.
CREATE INDEX call_attempts_do_not_call ON call_attempts (caller_id, campaign_id, created_at) WHERE do_not_call = 1;
