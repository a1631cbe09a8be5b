//! Import jobs: one per uploaded list, with running totals the progress bar reads, the
//! file's header row, and the notes organisers download: rejected rows with their
//! original cells, warnings and merges. It must not insert contacts.

use super::{ImportBatchResult, to_i64, to_u64};
use crate::audit::{AuditAction, audit_campaign_in};
use crate::binds::Binds;
use crate::{Millis, Store, StoreError, now_millis};
use barnstorm_domain::contact_import::{RowRejection, RowWarning};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::ops::Range;
use std::str::FromStr;

/// Rows per multi-row `INSERT` into `import_rejections`.
const NOTES_PER_INSERT: usize = 1000;

/// What a note on a job's row says: stored in `import_rejections.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// The row was not imported.
    Rejected,
    /// A field was left empty because its value was not usable.
    Warning,
    /// The row was merged into an earlier one or an existing contact.
    Merged,
}

impl NoteKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Rejected => "rejected",
            Self::Warning => "warning",
            Self::Merged => "merged",
        }
    }
}

/// Where an import job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportJobStatus {
    /// Rows are still being read and inserted.
    Running,
    /// The whole file was read.
    Done,
    /// The import stopped early; contacts from batches before the failure remain.
    Failed,
}

impl ImportJobStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }
}

impl FromStr for ImportJobStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "running" => Ok(Self::Running),
            "done" => Ok(Self::Done),
            "failed" => Ok(Self::Failed),
            other => Err(format!("unknown import status '{other}'")),
        }
    }
}

/// One upload of a contact list into a campaign, with its running totals.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportJob {
    /// Stable id.
    pub id: i64,
    /// The campaign the contacts go into.
    pub campaign_id: i64,
    /// Who started it (`None` for the command line).
    pub created_by: Option<i64>,
    /// The uploaded file's name, for display.
    pub file_name: String,
    /// Where it stands.
    pub status: ImportJobStatus,
    /// Data rows read so far (blank rows not counted).
    pub rows_read: u64,
    /// Contacts added so far.
    pub imported: u64,
    /// Rows merged into a contact with the same number so far.
    pub duplicates: u64,
    /// Rows skipped as do-not-call or TPS so far.
    pub suppressed: u64,
    /// Rows rejected (no callable number, or unreadable) so far.
    pub rejected: u64,
    /// Warnings so far: fields left empty and merged rows that disagreed.
    pub warnings: u64,
    /// The file's header row, trimmed.
    pub headers: Vec<String>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// When it started.
    pub created_at: Millis,
    /// When it ended.
    pub finished_at: Option<Millis>,
}

impl ImportJob {
    /// The imported/duplicate/suppressed totals as one value.
    pub fn totals(&self) -> ImportBatchResult {
        ImportBatchResult {
            imported: self.imported,
            duplicates: self.duplicates,
            suppressed: self.suppressed,
        }
    }

    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let count = |column: &str| -> Result<u64, sqlx::Error> { Ok(to_u64(row.try_get(column)?)) };
        let status: String = row.try_get("status")?;
        let headers: String = row.try_get("headers")?;
        Ok(Self {
            id: row.try_get("id")?,
            campaign_id: row.try_get("campaign_id")?,
            created_by: row.try_get("created_by")?,
            file_name: row.try_get("file_name")?,
            status: status
                .parse()
                .map_err(|e: String| sqlx::Error::Decode(e.into()))?,
            rows_read: count("rows_read")?,
            imported: count("imported")?,
            duplicates: count("duplicates")?,
            suppressed: count("suppressed")?,
            rejected: count("rejected")?,
            warnings: count("warnings")?,
            headers: serde_json::from_str(&headers).unwrap_or_default(),
            error: row.try_get("error")?,
            created_at: row.try_get("created_at")?,
            finished_at: row.try_get("finished_at")?,
        })
    }
}

const JOB_COLUMNS: &str =
    "id, campaign_id, created_by, file_name, status, rows_read, imported, duplicates, suppressed,
    rejected, warnings, headers, error, created_at, finished_at";

impl Store {
    /// Starts an import job in `running` for a file with the header row `headers`,
    /// audited as `contacts.import` by `created_by`.
    pub async fn create_import_job(
        &self,
        campaign_id: i64,
        created_by: Option<i64>,
        file_name: &str,
        headers: &[String],
    ) -> Result<ImportJob, StoreError> {
        let headers = serde_json::to_string(headers)
            .map_err(|e| StoreError::Database(sqlx::Error::Encode(e.into())))?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO import_jobs (campaign_id, created_by, file_name, headers, status, created_at)
             VALUES ($1, $2, $3, $4, 'running', $5) RETURNING {JOB_COLUMNS}"
        ))
        .bind(campaign_id)
        .bind(created_by)
        .bind(file_name)
        .bind(headers)
        .bind(now_millis())
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound)?;
        let job = ImportJob::from_row(&row)?;
        let detail = format!("job {}: {file_name}", job.id);
        let action = AuditAction::ContactsImport;
        audit_campaign_in(&mut tx, created_by, action, (campaign_id, None), &detail).await?;
        tx.commit().await?;
        Ok(job)
    }

    /// Records a running job's totals so far (absolute figures, not increments).
    pub async fn update_import_job_progress(
        &self,
        job_id: i64,
        rows_read: u64,
        totals: &ImportBatchResult,
        (rejected, warnings): (u64, u64),
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE import_jobs SET rows_read = $1, imported = $2, duplicates = $3, suppressed = $4, rejected = $5,
                 warnings = $6
             WHERE id = $7",
        )
        .bind(to_i64(rows_read))
        .bind(to_i64(totals.imported))
        .bind(to_i64(totals.duplicates))
        .bind(to_i64(totals.suppressed))
        .bind(to_i64(rejected))
        .bind(to_i64(warnings))
        .bind(job_id)
        .execute(self.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Stores a job's rejected rows (with their original cells), warnings and merge
    /// notes, in one transaction.
    pub async fn add_import_notes(
        &self,
        job_id: i64,
        rejections: &[RowRejection],
        notes: &[(NoteKind, &RowWarning)],
    ) -> Result<(), StoreError> {
        if rejections.is_empty() && notes.is_empty() {
            return Ok(());
        }
        let mut rows = Vec::with_capacity(rejections.len() + notes.len());
        for rejection in rejections {
            let fields = serde_json::to_string(&rejection.fields)
                .map_err(|e| StoreError::Database(sqlx::Error::Encode(e.into())))?;
            let problem = (rejection.line, &rejection.column, &rejection.reason);
            rows.push((NoteKind::Rejected, problem, fields));
        }
        for (kind, note) in notes {
            rows.push((*kind, (note.line, &note.column, &note.reason), "[]".into()));
        }
        let mut tx = self.begin_write().await?;
        for chunk in rows.chunks(NOTES_PER_INSERT) {
            let mut sql = String::from(
                "INSERT INTO import_rejections (job_id, kind, line, column_name, reason, fields) VALUES ",
            );
            Binds::new(self.backend()).rows(&mut sql, chunk.len(), 6, "");
            let mut query = sqlx::query(&sql);
            for (kind, (line, column, reason), fields) in chunk {
                query = query
                    .bind(job_id)
                    .bind(kind.as_str())
                    .bind(to_i64(*line))
                    .bind(column.as_str())
                    .bind(reason.as_str())
                    .bind(fields.as_str());
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends a job: `Ok` marks it done, `Err(message)` failed with that message.
    pub async fn finish_import_job(
        &self,
        job_id: i64,
        outcome: Result<(), String>,
    ) -> Result<(), StoreError> {
        let (status, error) = match outcome {
            Ok(()) => (ImportJobStatus::Done, None),
            Err(message) => (ImportJobStatus::Failed, Some(message)),
        };
        let done = sqlx::query(
            "UPDATE import_jobs SET status = $1, error = $2, finished_at = $3 WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(error)
        .bind(now_millis())
        .bind(job_id)
        .execute(self.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// An import job by id.
    pub async fn import_job(&self, job_id: i64) -> Result<Option<ImportJob>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM import_jobs WHERE id = $1"
        ))
        .bind(job_id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(ImportJob::from_row).transpose()?)
    }

    /// The rejected rows of a job on `lines` of its file, by line, with their original
    /// cells. Reading a long job a window of lines at a time keeps memory flat.
    pub async fn import_rejections(
        &self,
        job_id: i64,
        lines: Range<u64>,
    ) -> Result<Vec<RowRejection>, StoreError> {
        let rows = sqlx::query(
            "SELECT line, column_name, reason, fields FROM import_rejections
             WHERE job_id = $1 AND kind = 'rejected' AND line >= $2 AND line < $3
             ORDER BY line, column_name",
        )
        .bind(job_id)
        .bind(to_i64(lines.start))
        .bind(to_i64(lines.end))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                let fields: String = row.try_get("fields")?;
                Ok(RowRejection {
                    line: to_u64(row.try_get("line")?),
                    column: row.try_get("column_name")?,
                    reason: row.try_get("reason")?,
                    fields: serde_json::from_str(&fields).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// A job's notes of the given kinds on `lines` of its file, by line (a row's merge
    /// note before its field warnings).
    pub async fn import_notes(
        &self,
        job_id: i64,
        kinds: &[NoteKind],
        lines: Range<u64>,
    ) -> Result<Vec<RowWarning>, StoreError> {
        let mut sql =
            String::from("SELECT line, column_name, reason FROM import_rejections WHERE job_id = ");
        let mut binds = Binds::new(self.backend());
        binds.list(&mut sql, 1);
        sql.push_str(" AND line >= ");
        binds.list(&mut sql, 1);
        sql.push_str(" AND line < ");
        binds.list(&mut sql, 1);
        sql.push_str(" AND kind IN (");
        binds.list(&mut sql, kinds.len());
        sql.push_str(") ORDER BY line, column_name");
        let mut query = sqlx::query(&sql)
            .bind(job_id)
            .bind(to_i64(lines.start))
            .bind(to_i64(lines.end));
        for kind in kinds {
            query = query.bind(kind.as_str());
        }
        query
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(|row| {
                Ok(RowWarning {
                    line: to_u64(row.try_get("line")?),
                    column: row.try_get("column_name")?,
                    reason: row.try_get("reason")?,
                })
            })
            .collect()
    }

    /// The last line of a job's file that has a note of any kind; 0 when none has.
    pub async fn import_last_noted_line(&self, job_id: i64) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT MAX(line) AS last FROM import_rejections WHERE job_id = $1")
            .bind(job_id)
            .fetch_one(self.reader())
            .await?;
        Ok(row.try_get::<Option<i64>, _>("last")?.map_or(0, to_u64))
    }
}
