-- Proof of each consent (UK GDPR Art. 7(1)): the exact wording the person agreed to, kept
-- once per version; the privacy notice in force; the form's address or the import's file;
-- who collected it; and how it was withdrawn.
CREATE TABLE consent_wordings (
    id INTEGER PRIMARY KEY,
    wording TEXT NOT NULL UNIQUE,
    first_shown_at INTEGER NOT NULL
);

-- The instance's privacy notice, every version kept: the newest is the one in force.
CREATE TABLE privacy_notices (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL
);

ALTER TABLE consents ADD COLUMN wording_id INTEGER REFERENCES consent_wordings (id);
ALTER TABLE consents ADD COLUMN privacy_notice_id INTEGER REFERENCES privacy_notices (id);
-- The page the form was on, or the file (or data set) a bulk import read.
ALTER TABLE consents ADD COLUMN source_detail TEXT NOT NULL DEFAULT '';
-- The organiser who imported it; none when the person gave it on a form.
ALTER TABLE consents ADD COLUMN collected_by INTEGER REFERENCES users (id) ON DELETE SET NULL;
-- How it was withdrawn, in words ("unsubscribe link in a mail from the group").
ALTER TABLE consents ADD COLUMN withdrawn_how TEXT;
