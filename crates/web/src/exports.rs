//! The CSV exports of a campaign's results, shared by the API and the organiser pages:
//! one row per contact (latest outcome, one column per survey question) and one row per
//! call. Streamed: the header goes out at once, then one chunk per page of 1,000 rows read
//! by id, so memory stays flat however long the list and no database connection is held
//! while a slow client downloads. Cells a spreadsheet would run as formulas are defused,
//! and every export is audited when it starts and when it completes. The results export
//! also comes in the CRM shapes of the [`crm`] module (`?format=`).

mod crm;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use barnstorm_domain::crm::ExportFormat;
use barnstorm_store::phonebank::{AttemptRow, Campaign, ContactResult};
use barnstorm_store::{About, AuditAction};
use barnstorm_store::{Millis, Store, StoreError};
use futures_util::Stream;
use serde_json::Value;

/// Rows read from the store for one chunk of the body.
const PAGE: i64 = 1000;

/// The two exports of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CampaignExport {
    /// One row per contact with its latest outcome and answers, in one of the formats.
    Results(ExportFormat),
    /// One row per call.
    Attempts,
}

impl CampaignExport {
    fn action(self) -> AuditAction {
        match self {
            Self::Results(_) => AuditAction::ResultsExport,
            Self::Attempts => AuditAction::AttemptsExport,
        }
    }

    fn file_name(self, campaign_id: i64) -> String {
        match self {
            Self::Results(ExportFormat::Standard) => format!("campaign-{campaign_id}-results.csv"),
            Self::Results(format) => {
                format!("campaign-{campaign_id}-results-{}.csv", format.as_str())
            }
            Self::Attempts => format!("campaign-{campaign_id}-attempts.csv"),
        }
    }

    fn counted(self, rows: u64) -> String {
        match self {
            Self::Results(_) => format!("{rows} contacts"),
            Self::Attempts => format!("{rows} calls"),
        }
    }
}

/// The download of `export` for `campaign`, audited as done by `actor_id` before the
/// first byte goes out; the rows follow as the client reads them.
pub(crate) async fn campaign_export(
    store: &Store,
    campaign: Campaign,
    actor_id: i64,
    export: CampaignExport,
) -> Result<Response, StoreError> {
    store
        .audit_read(
            Some(actor_id),
            export.action(),
            About::campaign(campaign.group_id, campaign.id),
            &format!("campaign {}", campaign.id),
            "download started",
        )
        .await?;
    let file_name = export.file_name(campaign.id);
    let rows = export_stream(store.clone(), campaign, actor_id, export);
    Ok(csv_stream_response(Body::from_stream(rows), &file_name))
}

/// The export as a stream of CSV chunks: the header, then one chunk per page of rows.
/// A failure mid-way ends the body with an error, so the client sees a broken download
/// rather than a short file that looks complete.
pub(crate) fn export_stream(
    store: Store,
    campaign: Campaign,
    actor_id: i64,
    export: CampaignExport,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let cursor = Cursor {
        store,
        campaign,
        actor_id,
        export,
        after: 0,
        rows: 0,
        stage: Stage::Header,
        layout: None,
    };
    futures_util::stream::unfold(cursor, |mut cursor| async move {
        let chunk = match cursor.stage {
            Stage::Header => {
                cursor.stage = Stage::Rows;
                cursor.header().await
            }
            Stage::Rows => cursor.next_page().await,
            Stage::LastPageSent => {
                cursor.stage = Stage::Done;
                cursor.audit_completion().await;
                return None;
            }
            Stage::Done => return None,
        };
        match chunk {
            Ok(Some(bytes)) => Some((Ok(bytes), cursor)),
            Ok(None) => {
                cursor.stage = Stage::Done;
                cursor.audit_completion().await;
                None
            }
            Err(error) => {
                tracing::error!(%error, campaign = cursor.campaign.id, "a CSV export failed mid-way");
                cursor.stage = Stage::Done;
                Some((Err(std::io::Error::other(error)), cursor))
            }
        }
    })
}

/// Why a chunk could not be produced.
#[derive(Debug, thiserror::Error)]
enum ChunkError {
    #[error("reading the rows: {0}")]
    Store(#[from] StoreError),
    #[error("writing the CSV: {0}")]
    Csv(#[from] csv::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Header,
    Rows,
    LastPageSent,
    Done,
}

/// Where an export stream has got to.
struct Cursor {
    store: Store,
    campaign: Campaign,
    actor_id: i64,
    export: CampaignExport,
    after: i64,
    rows: u64,
    stage: Stage,
    /// The columns of a CRM-shaped results export, read with the header.
    layout: Option<crm::Layout>,
}

impl Cursor {
    fn questions(&self) -> impl Iterator<Item = &str> {
        self.campaign
            .settings
            .survey
            .questions
            .iter()
            .map(|q| q.key.as_str())
    }

    async fn header(&mut self) -> Result<Option<Bytes>, ChunkError> {
        let mut out = csv::Writer::from_writer(Vec::new());
        match self.export {
            CampaignExport::Results(format) if format != ExportFormat::Standard => {
                let layout = crm::Layout::load(&self.store, &self.campaign, format).await?;
                out.write_record(layout.header())?;
                self.layout = Some(layout);
            }
            CampaignExport::Results(_) => {
                let mut header: Vec<&str> = CONTACT_COLUMNS.to_vec();
                header.push("extra");
                header.extend(PROGRESS_COLUMNS);
                header.extend(self.questions());
                out.write_record(&header)?;
            }
            CampaignExport::Attempts => out.write_record(ATTEMPTS_COLUMNS)?,
        }
        finish_chunk(out).map(Some)
    }

    /// The next page of rows as one chunk, or `None` when there are no more.
    async fn next_page(&mut self) -> Result<Option<Bytes>, ChunkError> {
        let mut out = csv::Writer::from_writer(Vec::new());
        let (read, written) = match self.export {
            CampaignExport::Results(_) => {
                let mut written = 0_u64;
                let page = self
                    .store
                    .campaign_results_page(self.campaign.id, self.after, PAGE)
                    .await?;
                if let Some(layout) = &self.layout {
                    let ids: Vec<i64> = page.iter().map(|r| r.contact.id).collect();
                    let details = self.store.crm_details(&ids).await?;
                    for result in &page {
                        let record =
                            layout.record(&self.campaign, result, details.get(&result.contact.id));
                        if let Some(record) = record {
                            out.write_record(record)?;
                            written += 1;
                        }
                    }
                } else {
                    let questions: Vec<&str> = self.questions().collect();
                    for result in &page {
                        out.write_record(results_record(result, &questions))?;
                    }
                    written = page.len() as u64;
                }
                if let Some(last) = page.last() {
                    self.after = last.contact.id;
                }
                (page.len(), written)
            }
            CampaignExport::Attempts => {
                let page = self
                    .store
                    .campaign_attempts_page(self.campaign.id, self.after, PAGE)
                    .await?;
                for attempt in &page {
                    out.write_record(attempts_record(attempt))?;
                }
                if let Some(last) = page.last() {
                    self.after = last.id;
                }
                (page.len(), page.len() as u64)
            }
        };
        if read == 0 {
            return Ok(None);
        }
        self.rows += written;
        if i64::try_from(read).unwrap_or(0) < PAGE {
            self.stage = Stage::LastPageSent;
        }
        finish_chunk(out).map(Some)
    }

    async fn audit_completion(&self) {
        let audited = self
            .store
            .audit_read(
                Some(self.actor_id),
                self.export.action(),
                About::campaign(self.campaign.group_id, self.campaign.id),
                &format!("campaign {}", self.campaign.id),
                &format!("download complete: {}", self.export.counted(self.rows)),
            )
            .await;
        if let Err(error) = audited {
            tracing::error!(%error, "could not audit the completion of an export");
        }
    }
}

fn finish_chunk(out: csv::Writer<Vec<u8>>) -> Result<Bytes, ChunkError> {
    let bytes = out
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(Bytes::from(bytes))
}

/// The contact's own fields, first in both per-contact exports.
const CONTACT_COLUMNS: [&str; 7] = [
    "contact_id",
    "first_name",
    "last_name",
    "phone",
    "other_phone",
    "email",
    "postcode",
];

/// How far calling it got, after the contact's fields and imported columns.
const PROGRESS_COLUMNS: [&str; 4] = ["attempts", "last_outcome", "last_called_at", "callback_at"];

const ATTEMPTS_COLUMNS: &[&str] = &[
    "time",
    "attempt_id",
    "contact_id",
    "phone",
    "caller",
    "outcome",
    "answers",
    "notes",
];

/// The cells of [`CONTACT_COLUMNS`].
fn contact_cells(result: &ContactResult) -> Vec<String> {
    let c = &result.contact;
    vec![
        c.id.to_string(),
        cell(&c.first_name),
        cell(&c.last_name),
        c.phone.clone(),
        c.other_phone.clone().unwrap_or_default(),
        cell(c.email.as_deref().unwrap_or("")),
        c.postcode.clone().unwrap_or_default(),
    ]
}

/// The cells of [`PROGRESS_COLUMNS`].
fn progress_cells(result: &ContactResult) -> [String; 4] {
    let c = &result.contact;
    [
        c.attempts.to_string(),
        c.last_outcome.clone().unwrap_or_default(),
        time(result.last_called_at),
        time(c.callback_at),
    ]
}

fn results_record(result: &ContactResult, questions: &[&str]) -> Vec<String> {
    let c = &result.contact;
    let extra = if c.extra.is_empty() {
        String::new()
    } else {
        serde_json::to_string(&c.extra).unwrap_or_default()
    };
    let mut record = contact_cells(result);
    record.push(cell(&extra));
    record.extend(progress_cells(result));
    record.extend(
        questions
            .iter()
            .map(|q| answer_text(result.answers.get(*q))),
    );
    record
}

fn attempts_record(a: &AttemptRow) -> [String; 8] {
    [
        time(Some(a.created_at)),
        a.id.to_string(),
        a.contact_id.to_string(),
        a.phone.clone(),
        cell(&a.caller_name),
        a.outcome.clone(),
        a.answers.clone(),
        cell(&a.notes),
    ]
}

/// A CSV download named `file_name`, built in memory (small exports).
pub(crate) fn csv_response(body: Vec<u8>, file_name: &str) -> Response {
    csv_stream_response(Body::from(body), file_name)
}

/// A CSV download named `file_name` whose body is sent as it is produced.
pub(crate) fn csv_stream_response(body: Body, file_name: &str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A cell a spreadsheet would run as a formula gets a leading `'`.
pub(crate) fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn time(millis: Option<Millis>) -> String {
    millis
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn answer_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => cell(s),
        Some(Value::Array(items)) => cell(
            &items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Some(other) => cell(&other.to_string()),
        None => String::new(),
    }
}
