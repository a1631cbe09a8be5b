//! The contact-list import pipeline shared by the command line and the web upload.
//!
//! Owns the flow: a blocking thread reads and checks rows with the domain's
//! [`ImportReader`] and hands batches over a bounded channel (so the file is never held
//! whole), the async side stores each batch, its rejections and the job's progress. It
//! must not parse CSV itself or write SQL: those belong to the domain and store crates.

use barnstorm_domain::contact_import::{
    ColumnMapping, ImportError, ImportReader, ImportedContact, RowRejection,
};
use barnstorm_store::phonebank::{Campaign, ImportBatchResult};
use barnstorm_store::{Store, StoreError};
use tokio::sync::mpsc;

/// Rows read before a batch is handed to the store.
pub const BATCH_ROWS: usize = 2_000;
/// Batches that may wait between the reader and the store.
const BATCHES_IN_FLIGHT: usize = 2;
/// Rejections kept in an [`ImportSummary`]; all of them are stored on the job.
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
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Data rows read (blank rows not counted).
    pub rows: u64,
    /// Contacts added to the campaign.
    pub imported: u64,
    /// Rows whose number the campaign already had (or that repeated a number in the file).
    pub duplicates: u64,
    /// Rows whose number is on the do-not-call or TPS list.
    pub suppressed: u64,
    /// The first [`SUMMARY_REJECTIONS`] rejected rows, by line; the job has them all.
    pub rejected: Vec<RowRejection>,
    /// How many rows were rejected in all.
    pub rejected_total: u64,
}

impl ImportSummary {
    fn add_batch(&mut self, batch: &Batch, result: ImportBatchResult) {
        self.rows += batch.rows;
        self.imported += result.imported;
        self.duplicates += result.duplicates;
        self.suppressed += result.suppressed;
        self.rejected_total += batch.rejections.len() as u64;
        let room = SUMMARY_REJECTIONS.saturating_sub(self.rejected.len());
        self.rejected
            .extend(batch.rejections.iter().take(room).cloned());
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
    let result = store
        .insert_contacts(campaign.id, campaign.group_id, &batch.contacts)
        .await?;
    store
        .add_import_rejections(job_id, &batch.rejections)
        .await?;
    summary.add_batch(batch, result);
    store
        .update_import_job_progress(
            job_id,
            summary.rows,
            &summary.totals(),
            summary.rejected_total,
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
