-- Whether an audience row's consent also counts for the outreach of the group's sub-groups
-- (the supporter agreed to hear from "{group} and its local groups"). Consents given
-- under earlier words, which named the group alone, stay 0 and reach that group only.
ALTER TABLE email_audience ADD COLUMN reaches_subgroups INTEGER NOT NULL DEFAULT 0;
