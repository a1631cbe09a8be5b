-- Audit rows name, where known, the group, campaign, contact, supporter and account they are about,
-- so organisers can list who viewed, exported, imported, erased or changed personal data
-- by person, campaign and caller without parsing the free-text subject.
ALTER TABLE audit_log ADD COLUMN group_id BIGINT;
ALTER TABLE audit_log ADD COLUMN campaign_id BIGINT;
ALTER TABLE audit_log ADD COLUMN contact_id BIGINT;
ALTER TABLE audit_log ADD COLUMN subject_user_id BIGINT;
ALTER TABLE audit_log ADD COLUMN supporter_id BIGINT;
CREATE INDEX audit_log_group_at ON audit_log (group_id, at);
CREATE INDEX audit_log_campaign_at ON audit_log (campaign_id, at);
CREATE INDEX audit_log_contact ON audit_log (contact_id);
CREATE INDEX audit_log_subject_user ON audit_log (subject_user_id);
CREATE INDEX audit_log_supporter ON audit_log (supporter_id);
CREATE INDEX audit_log_actor_at ON audit_log (actor_user_id, at);
CREATE INDEX audit_log_action_at ON audit_log (action, at);
