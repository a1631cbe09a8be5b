-- Mail can name its sender (the group it is from; the address stays the instance's) and
-- carry files, such as an event's calendar entry.
ALTER TABLE outbox ADD COLUMN sender_name TEXT;
ALTER TABLE outbox ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';

-- Manage links to an RSVP besides the one in its confirmation (`rsvps.manage_token_hash`):
-- each reminder and "you have a place" mail carries a link of its own, and mailing one
-- leaves the earlier links working. A new confirmation replaces them all.
CREATE TABLE rsvp_links (
    token_hash TEXT PRIMARY KEY,
    rsvp_id BIGINT NOT NULL REFERENCES rsvps (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE INDEX rsvp_links_rsvp ON rsvp_links (rsvp_id);
