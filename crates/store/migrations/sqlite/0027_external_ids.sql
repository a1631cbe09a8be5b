-- CRM round trips: a contact's ids in the systems its list came from (VAN ID,
-- NationBuilder id, Action Network id or a column the organiser named), one value per
-- system per contact and one contact per value in a campaign; and the result code each of
-- a campaign's outcomes becomes in each CRM's export (JSON: outcome key -> code).
CREATE TABLE contact_external_ids (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES call_campaigns (id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    system TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (campaign_id, system, value),
    UNIQUE (contact_id, system)
);

CREATE TABLE campaign_crm_codes (
    campaign_id INTEGER NOT NULL REFERENCES call_campaigns (id) ON DELETE CASCADE,
    crm TEXT NOT NULL,
    codes TEXT NOT NULL DEFAULT '{}',
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, crm)
);
