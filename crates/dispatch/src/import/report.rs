//! An import job's downloads as CSV: its rejected rows (the file's own columns, to fix
//! and upload again) and its warnings and merges. The notes are read from the store a
//! window of lines at a time, so a job of a million rows is written out in pieces and
//! never held whole; the page, the API and `barnstorm import contacts` all write their
//! reports through [`ReportPages`].

use barnstorm_domain::contact_import::{
    write_rejected_rows_body, write_rejected_rows_header, write_warnings_body,
    write_warnings_header,
};
use barnstorm_store::phonebank::{ImportJob, NoteKind};
use barnstorm_store::{Store, StoreError};
use std::io::Write;

/// Lines of the uploaded file whose notes are read at a time.
pub const WINDOW_LINES: u64 = 5_000;

/// Which download of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// The rejected rows with their original cells and the line, column and reason.
    Rejections,
    /// Fields left empty and rows merged into another: `line,column,warning`.
    Warnings,
}

/// Why a report could not be written out.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The notes could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The output could not be written.
    #[error("could not write the report: {0}")]
    Io(#[from] std::io::Error),
}

/// A job's report, produced a window of lines at a time by [`ReportPages::next_piece`].
pub struct ReportPages {
    store: Store,
    job_id: i64,
    headers: Vec<String>,
    report: Report,
    /// The first line not yet read; `None` before the header row is written.
    next_line: Option<u64>,
    last_line: u64,
}

impl ReportPages {
    /// The `report` of `job`, not yet read.
    pub async fn new(store: Store, job: &ImportJob, report: Report) -> Result<Self, StoreError> {
        let last_line = store.import_last_noted_line(job.id).await?;
        Ok(Self {
            store,
            job_id: job.id,
            headers: job.headers.clone(),
            report,
            next_line: None,
            last_line,
        })
    }

    /// The next piece of the CSV file (the header row first), or `None` at its end.
    /// A window with no notes gives an empty piece.
    pub async fn next_piece(&mut self) -> Result<Option<Vec<u8>>, ReportError> {
        let mut piece = Vec::new();
        let Some(start) = self.next_line else {
            match self.report {
                Report::Rejections => write_rejected_rows_header(&mut piece, &self.headers)?,
                Report::Warnings => write_warnings_header(&mut piece)?,
            }
            self.next_line = Some(0);
            return Ok(Some(piece));
        };
        if start > self.last_line {
            return Ok(None);
        }
        let lines = start..start.saturating_add(WINDOW_LINES);
        self.next_line = Some(lines.end);
        match self.report {
            Report::Rejections => {
                let rows = self.store.import_rejections(self.job_id, lines).await?;
                write_rejected_rows_body(&mut piece, &self.headers, &rows)?;
            }
            Report::Warnings => {
                let kinds = [NoteKind::Warning, NoteKind::Merged];
                let notes = self.store.import_notes(self.job_id, &kinds, lines).await?;
                write_warnings_body(&mut piece, &notes)?;
            }
        }
        Ok(Some(piece))
    }

    /// Writes the whole report to `out`, piece by piece.
    pub async fn write_to(mut self, out: &mut impl Write) -> Result<(), ReportError> {
        while let Some(piece) = self.next_piece().await? {
            out.write_all(&piece)?;
        }
        out.flush()?;
        Ok(())
    }
}
