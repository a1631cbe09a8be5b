//! Loading a TPS or CTPS file: one number per line, or a CSV whose first column (or the
//! column headed "Phone" or "Number") is the number, the same way from
//! `barnstorm import tps|ctps`, the suppressions page and the API. Owns batching what
//! `barnstorm_domain::number_list` reads; the store keeps each number with the file it
//! came from (and audits an admin's upload). It must not write SQL.

use barnstorm_domain::number_list::NumberList;
use barnstorm_store::{Store, StoreError};
use std::io::Read;

/// Numbers sent to the store at a time (one transaction, and for an admin's upload one
/// audit entry, each).
const BATCH: usize = 20_000;
/// Skipped line numbers listed in a report.
pub const SKIPS_SHOWN: usize = 10;

/// Which national list a file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NationalList {
    /// The Telephone Preference Service: people who asked not to get sales calls.
    Tps,
    /// The Corporate TPS: business numbers.
    Ctps,
}

impl NationalList {
    /// The stored name, "TPS" or "CTPS".
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tps => "TPS",
            Self::Ctps => "CTPS",
        }
    }
}

impl std::str::FromStr for NationalList {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.trim().to_ascii_uppercase().as_str() {
            "TPS" => Ok(Self::Tps),
            "CTPS" => Ok(Self::Ctps),
            other => Err(format!("{other:?} is not a list: use TPS or CTPS")),
        }
    }
}

/// Why a list file (national or do-not-call) stopped loading.
#[derive(Debug, thiserror::Error)]
pub enum ListFileError {
    /// The file could not be read after `line` lines; numbers before it were kept.
    #[error("could not read the file after line {line}: {source}")]
    Unreadable {
        /// The last line read.
        line: u64,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A batch could not be stored; earlier batches were kept.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What loading a file did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NationalListReport {
    /// Valid numbers read.
    pub read: u64,
    /// Numbers new to the list (the rest were listed already or repeated in the file).
    pub added: u64,
    /// Lines that were not phone numbers.
    pub skipped: u64,
    /// The first [`SKIPS_SHOWN`] of those lines' numbers.
    pub skipped_lines: Vec<u64>,
    /// Numbers on the list in all, afterwards.
    pub on_list: u64,
}

/// Adds every number in `reader` to `list`, noting `source` (the file's name) with each,
/// in batches of a few thousand; `imported_by` is the admin who uploaded it (audited),
/// or `None` for the command line.
pub async fn import_national_list(
    store: &Store,
    reader: impl Read,
    list: NationalList,
    source: &str,
    imported_by: Option<i64>,
) -> Result<NationalListReport, ListFileError> {
    let mut report = NationalListReport::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut numbers = NumberList::new(reader);
    while let Some(listed) = numbers
        .next_number()
        .map_err(|(line, source)| ListFileError::Unreadable { line, source })?
    {
        match listed.phone {
            Ok(phone) => {
                report.read += 1;
                batch.push(phone);
            }
            Err(_) => {
                report.skipped += 1;
                if report.skipped_lines.len() < SKIPS_SHOWN {
                    report.skipped_lines.push(listed.line);
                }
            }
        }
        if batch.len() >= BATCH {
            report.added += store
                .import_tps_numbers(&batch, list.as_str(), source, imported_by)
                .await?;
            batch.clear();
        }
    }
    report.added += store
        .import_tps_numbers(&batch, list.as_str(), source, imported_by)
        .await?;
    report.on_list = store
        .tps_lists()
        .await?
        .into_iter()
        .find(|summary| summary.list == list.as_str())
        .map_or(0, |summary| u64::try_from(summary.numbers).unwrap_or(0));
    Ok(report)
}
