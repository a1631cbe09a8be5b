//! The contact-list import: one entrance ([`ListUpload`]) for the page, the API and the
//! command line, and the pipeline behind it.
//!
//! Owns the flow: the file's header row and the organiser's column roles become one
//! mapping; the job is created (audited) and a blocking thread reads and checks rows with
//! the domain's [`ImportReader`], handing batches over a bounded channel (so the file is
//! never held whole) to the async side, which stores each batch, its notes and the job's
//! progress, and finally tells every node the campaign changed. It must not parse CSV
//! itself or write SQL: those belong to the domain and store crates.

use crate::events::{CampaignEvent, CampaignEvents};
use barnstorm_domain::contact_import::{
    ColumnMapping, ColumnRole, ImportError, ImportReader, ImportedContact, RowRejection,
    RowWarning, read_headers,
};
use barnstorm_store::phonebank::{Campaign, ImportBatchResult, ImportJob, NoteKind};
use barnstorm_store::{Store, StoreError};
use std::io::{Read, Seek};
use tokio::sync::mpsc;

pub mod report;

/// Rows read before a batch is handed to the store.
pub const BATCH_ROWS: usize = 2_000;
/// Batches that may wait between the reader and the store.
const BATCHES_IN_FLIGHT: usize = 2;
/// Rejections, warnings and merges each kept in an [`ImportSummary`]; all of them are
/// stored on the job.
pub const SUMMARY_REJECTIONS: usize = 1_000;

/// Totals so far, reported after every batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportProgress {
    /// The import job.
    pub job_id: i64,
    /// Data rows read so far.
    pub rows: u64,
    /// Contacts added, duplicates and suppressed numbers so far.
    pub totals: ImportBatchResult,
    /// Rows rejected so far.
    pub rejected: u64,
    /// Warnings so far.
    pub warnings: u64,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Data rows read (blank rows not counted).
    pub rows: u64,
    /// Contacts added to the campaign.
    pub imported: u64,
    /// Rows merged into the contact with their number (an earlier row of the file, or a
    /// contact from an earlier upload).
    pub duplicates: u64,
    /// Rows whose number is on the do-not-call or TPS list.
    pub suppressed: u64,
    /// The first [`SUMMARY_REJECTIONS`] rejected rows, by line; the job has them all.
    pub rejected: Vec<RowRejection>,
    /// How many rows were rejected in all.
    pub rejected_total: u64,
    /// The first [`SUMMARY_REJECTIONS`] fields left empty because their value was not
    /// usable.
    pub warnings: Vec<RowWarning>,
    /// How many warnings there were in all: fields left empty, and merged rows that
    /// gave a value differently from their contact (whose merge note says which).
    pub warnings_total: u64,
    /// The first [`SUMMARY_REJECTIONS`] merges: "line 17: merged into line 4", with any
    /// values the row gave differently.
    pub merges: Vec<RowWarning>,
}

/// Appends to `kept` what fits under [`SUMMARY_REJECTIONS`].
fn keep_some<T: Clone>(kept: &mut Vec<T>, more: &[T]) {
    let room = SUMMARY_REJECTIONS.saturating_sub(kept.len());
    kept.extend(more.iter().take(room).cloned());
}

impl ImportSummary {
    fn add_batch(&mut self, batch: &Batch, stored: &StoredBatch) {
        let result = stored.totals;
        self.rows += batch.rows;
        self.imported += result.imported;
        self.duplicates += result.duplicates;
        self.suppressed += result.suppressed;
        self.rejected_total += batch.rejections.len() as u64;
        self.warnings_total += stored.warnings.len() as u64 + stored.differing;
        keep_some(&mut self.rejected, &batch.rejections);
        keep_some(&mut self.warnings, &stored.warnings);
        keep_some(&mut self.merges, &stored.merges);
    }

    fn totals(&self) -> ImportBatchResult {
        ImportBatchResult {
            imported: self.imported,
            duplicates: self.duplicates,
            suppressed: self.suppressed,
        }
    }
}

/// Why an import did not run to the end of the file. Either way the job is marked failed
/// with this message.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    /// The file was refused before any row was read: no header row, no phone column, a
    /// mapping that does not fit. Nothing was imported.
    #[error("{0}")]
    File(ImportError),
    /// The import stopped part-way: the file became unreadable or a batch could not be
    /// stored. Contacts from earlier batches stay imported; `summary` says what they were.
    #[error("{reason} (stopped after {} rows; {} contacts from earlier rows were kept)", summary.rows, summary.imported)]
    Interrupted {
        /// What went wrong, for the organiser.
        reason: String,
        /// What was stored before it stopped.
        summary: Box<ImportSummary>,
    },
    /// The job itself could not be updated, so nothing is known to have been recorded.
    #[error("could not record the import: {0}")]
    Store(#[from] StoreError),
}

/// Rows read by the reader thread, ready to store.
struct Batch {
    rows: u64,
    contacts: Vec<ImportedContact>,
    rejections: Vec<RowRejection>,
}

impl Batch {
    fn new() -> Self {
        Batch {
            rows: 0,
            contacts: Vec::with_capacity(BATCH_ROWS),
            rejections: Vec::new(),
        }
    }
}

/// A batch as stored: the totals, its field warnings and its merges by line, and how
/// many of the merges gave a value differently.
struct StoredBatch {
    totals: ImportBatchResult,
    warnings: Vec<RowWarning>,
    merges: Vec<RowWarning>,
    differing: u64,
}

/// Reads `source` and hands batches to `batches` until the file ends, the receiver goes
/// away, or the file becomes unreadable (returned as the error).
fn read_batches<R: std::io::Read>(
    source: R,
    mapping: ColumnMapping,
    batches: &mpsc::Sender<Batch>,
) -> Result<(), ImportError> {
    let mut reader = ImportReader::new(source, mapping)?;
    let mut batch = Batch::new();
    for row in reader.by_ref() {
        batch.rows += 1;
        match row {
            Ok(contact) => batch.contacts.push(contact),
            Err(rejection) => batch.rejections.push(rejection),
        }
        if batch.rows as usize >= BATCH_ROWS {
            let full = std::mem::replace(&mut batch, Batch::new());
            if batches.blocking_send(full).is_err() {
                return Ok(());
            }
        }
    }
    if batch.rows > 0 && batches.blocking_send(batch).is_err() {
        return Ok(());
    }
    match reader.fatal_error() {
        Some(fatal) => Err(fatal.clone()),
        None => Ok(()),
    }
}

/// A list about to be imported into a campaign: the one entrance shared by the upload
/// page, the API and `barnstorm import contacts`, so all three read the organiser's
/// column roles the same way, audit under one name and tell every node when it is done.
pub struct ListUpload<R> {
    campaign: Campaign,
    uploaded_by: Option<i64>,
    file_name: String,
    source: R,
    headers: Vec<String>,
    mapping: ColumnMapping,
}

impl<R: Read + Seek + Send + 'static> ListUpload<R> {
    /// Reads the header row of `source`, lays the organiser's `overrides` (header,
    /// role) over the guessed roles ([`ColumnMapping::guess_with`]) and checks that the
    /// mapping fits the file. Nothing is stored yet.
    pub fn new(
        campaign: Campaign,
        uploaded_by: Option<i64>,
        file_name: &str,
        mut source: R,
        overrides: &[(String, ColumnRole)],
    ) -> Result<Self, ImportError> {
        let headers = read_headers(&mut source)?;
        let mapping = ColumnMapping::guess_with(&headers, overrides);
        mapping.resolve(&headers)?;
        source.rewind().map_err(|e| ImportError::Unreadable {
            line: 0,
            message: e.to_string(),
        })?;
        Ok(Self {
            campaign,
            uploaded_by,
            file_name: file_name.to_owned(),
            source,
            headers,
            mapping,
        })
    }

    /// The file's header row, trimmed.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// Each column's role, as the import will read it.
    pub fn mapping(&self) -> &ColumnMapping {
        &self.mapping
    }

    /// Creates the import job, audited as `contacts.import` by the uploader in the same
    /// transaction; [`StartedUpload::run`] then imports the rows.
    pub async fn start(self, store: &Store) -> Result<StartedUpload<R>, StoreError> {
        let job = store
            .create_import_job(
                self.campaign.id,
                self.uploaded_by,
                &self.file_name,
                &self.headers,
            )
            .await?;
        Ok(StartedUpload { upload: self, job })
    }
}

/// A list whose import job exists: run it now, or hand it to a background task.
pub struct StartedUpload<R> {
    upload: ListUpload<R>,
    job: ImportJob,
}

impl<R: Read + Send + 'static> StartedUpload<R> {
    /// The import job, for its id and progress URL.
    pub fn job(&self) -> &ImportJob {
        &self.job
    }

    /// Imports every row (see [`import_contacts`]), then announces on `events` that the
    /// campaign changed, so contact counts and dashboards re-read on every node, even
    /// when the import stopped part-way (the rows before it stay).
    pub async fn run(
        self,
        store: &Store,
        events: &CampaignEvents,
        progress: impl Fn(ImportProgress) + Send + Sync + 'static,
    ) -> Result<ImportSummary, ImportFailure> {
        let ListUpload {
            campaign,
            source,
            mapping,
            ..
        } = self.upload;
        let result =
            import_contacts(store, &campaign, self.job.id, source, mapping, progress).await;
        let changed = CampaignEvent::CampaignChanged {
            campaign_id: campaign.id,
        };
        events.publish_everywhere(store, changed).await;
        result
    }
}

/// Imports a contact list into `campaign`, recording progress on the import job `job_id`
/// (made beforehand with [`Store::create_import_job`]) after every batch of about
/// [`BATCH_ROWS`] rows, and calling `progress` likewise.
///
/// Rows are read and checked on a blocking thread and stored batch by batch, each batch
/// in its own transaction, so memory stays flat however long the file. Rejected rows are
/// stored on the job. The job is finished either way: done, or failed with the reason.
/// If a batch cannot be stored the import stops there with
/// [`ImportFailure::Interrupted`], but the contacts committed by earlier batches stay:
/// importing the same file again skips them as duplicates.
pub async fn import_contacts(
    store: &Store,
    campaign: &Campaign,
    job_id: i64,
    source: impl std::io::Read + Send + 'static,
    mapping: ColumnMapping,
    progress: impl Fn(ImportProgress) + Send + Sync + 'static,
) -> Result<ImportSummary, ImportFailure> {
    let (sender, mut receiver) = mpsc::channel(BATCHES_IN_FLIGHT);
    let reader = tokio::task::spawn_blocking(move || read_batches(source, mapping, &sender));
    let mut summary = ImportSummary::default();
    let mut stopped = None;
    while let Some(batch) = receiver.recv().await {
        if let Err(error) = store_batch(store, campaign, job_id, &batch, &mut summary).await {
            stopped = Some(format!(
                "could not store rows {}–{}: {error}",
                first_line(&batch),
                last_line(&batch)
            ));
            break;
        }
        progress(ImportProgress {
            job_id,
            rows: summary.rows,
            totals: summary.totals(),
            rejected: summary.rejected_total,
            warnings: summary.warnings_total,
        });
    }
    // Stops the reader at its next batch if storing failed.
    drop(receiver);
    let read = reader.await;
    let failure = match (stopped, read) {
        (Some(reason), _) => Some(interrupted(reason, summary.clone())),
        (None, Ok(Ok(()))) => None,
        (None, Ok(Err(error))) if summary.rows == 0 => Some(ImportFailure::File(error)),
        (None, Ok(Err(error))) => Some(interrupted(error.to_string(), summary.clone())),
        (None, Err(join)) => Some(interrupted(
            format!("the file reader crashed: {join}"),
            summary.clone(),
        )),
    };
    match failure {
        None => {
            store.finish_import_job(job_id, Ok(())).await?;
            Ok(summary)
        }
        Some(failure) => {
            if let Err(error) = store
                .finish_import_job(job_id, Err(failure.to_string()))
                .await
            {
                tracing::error!(job_id, %error, "could not mark the import job failed");
            }
            Err(failure)
        }
    }
}

fn interrupted(reason: String, summary: ImportSummary) -> ImportFailure {
    ImportFailure::Interrupted {
        reason,
        summary: Box::new(summary),
    }
}

async fn store_batch(
    store: &Store,
    campaign: &Campaign,
    job_id: i64,
    batch: &Batch,
    summary: &mut ImportSummary,
) -> Result<(), StoreError> {
    let merged = store
        .merge_contacts(
            campaign.id,
            campaign.group_id,
            Some(job_id),
            &batch.contacts,
        )
        .await?;
    let warnings: Vec<RowWarning> = batch
        .contacts
        .iter()
        .flat_map(|c| c.warnings.iter().cloned())
        .collect();
    let notes: Vec<(NoteKind, &RowWarning)> = warnings
        .iter()
        .map(|w| (NoteKind::Warning, w))
        .chain(merged.merges.iter().map(|m| (NoteKind::Merged, m)))
        .collect();
    store
        .add_import_notes(job_id, &batch.rejections, &notes)
        .await?;
    let stored = StoredBatch {
        totals: merged.totals,
        warnings,
        merges: merged.merges,
        differing: merged.differing,
    };
    summary.add_batch(batch, &stored);
    store
        .update_import_job_progress(
            job_id,
            summary.rows,
            &summary.totals(),
            (summary.rejected_total, summary.warnings_total),
        )
        .await
}

fn first_line(batch: &Batch) -> u64 {
    let contacts = batch.contacts.first().map(|c| c.line);
    let rejections = batch.rejections.first().map(|r| r.line);
    contacts.into_iter().chain(rejections).min().unwrap_or(0)
}

fn last_line(batch: &Batch) -> u64 {
    let contacts = batch.contacts.last().map(|c| c.line);
    let rejections = batch.rejections.last().map(|r| r.line);
    contacts.into_iter().chain(rejections).max().unwrap_or(0)
}

#[cfg(test)]
mod tests;
