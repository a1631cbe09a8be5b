-- Safeguards against phishing through events and outreach (issue #13).
--
-- New groups ask organisers to approve events from people they have not trusted: the
-- store now writes `event_approval = 'approval'` when it creates a group. The column's
-- default stays 'open' and no existing group changes its setting, so an instance keeps
-- behaving as its organisers chose until they change it on the group page.

-- A trusted host's events go live without approval in the group and every group below
-- it. Organisers set it on the members page or through the API.
ALTER TABLE memberships ADD COLUMN trusted_host INTEGER NOT NULL DEFAULT 0;
-- Hosts skipped approval before this flag existed; they keep doing so.
UPDATE memberships SET trusted_host = 1 WHERE role = 'host';

-- When a group last sent outreach to a supporter, for the per-recipient limit (one
-- message per group per 7 days by default). One row per group and supporter, with the
-- time only: which message they got is not recorded. Rows older than the limit's window
-- are deleted by the group's next send.
CREATE TABLE outreach_recipients (
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    supporter_id INTEGER NOT NULL REFERENCES supporters (id) ON DELETE CASCADE,
    last_sent_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, supporter_id)
);
CREATE INDEX outreach_recipients_group_sent ON outreach_recipients (group_id, last_sent_at);
