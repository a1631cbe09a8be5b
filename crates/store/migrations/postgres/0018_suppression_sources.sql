-- Where each suppression came from, so organisers can answer "why is this number not
-- called?": the campaign and caller whose call put a number on a group's do-not-call list
-- (or the organiser who added it by hand), and the file each TPS or CTPS number came from.
ALTER TABLE do_not_call ADD COLUMN campaign_id BIGINT REFERENCES call_campaigns (id) ON DELETE SET NULL;
ALTER TABLE do_not_call ADD COLUMN added_by BIGINT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE tps_numbers ADD COLUMN source TEXT NOT NULL DEFAULT '';
-- The suppression page lists a group's entries newest first.
CREATE INDEX do_not_call_recent ON do_not_call (group_id, created_at);
