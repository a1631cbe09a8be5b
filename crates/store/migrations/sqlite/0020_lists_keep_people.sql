-- Lists that keep people. A job keeps its file's header row (so rejected rows can be
-- written back with their original columns) and counts warnings apart; a job's notes are
-- rejected rows (with their original cells), warnings (a field left empty, a conflicting
-- duplicate) and merges (which line went into which). A contact remembers the upload
-- that brought it, so a later row with its number is merged into it.
ALTER TABLE import_jobs ADD COLUMN headers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE import_jobs ADD COLUMN warnings INTEGER NOT NULL DEFAULT 0;
ALTER TABLE import_rejections ADD COLUMN kind TEXT NOT NULL DEFAULT 'rejected'
    CHECK (kind IN ('rejected', 'warning', 'merged'));
ALTER TABLE import_rejections ADD COLUMN fields TEXT NOT NULL DEFAULT '[]';
ALTER TABLE contacts ADD COLUMN import_job_id INTEGER REFERENCES import_jobs (id) ON DELETE SET NULL;
-- Deleting a job (with its campaign, or by retention) clears the link without a scan.
CREATE INDEX contacts_import_job ON contacts (import_job_id);
