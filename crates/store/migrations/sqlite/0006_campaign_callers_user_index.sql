-- The campaigns a person calls, for their phone bank page (and for deleting an account).
CREATE INDEX campaign_callers_user ON campaign_callers (user_id);
