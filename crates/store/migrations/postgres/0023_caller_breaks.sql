-- When a caller last took a break on a campaign (cleared when they resume). A caller on a
-- break who has claimed nobody since does not count as online on the dashboard.
ALTER TABLE campaign_callers ADD COLUMN on_break_since BIGINT;
