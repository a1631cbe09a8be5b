//! Loading a TPS or CTPS file: one number per line, or a CSV whose first column is the
//! number, the same way from `barnstorm import tps|ctps`, the admin page and the API.
//! Owns reading the lines and batching them; the store keeps each number with the file
//! it came from (and audits an admin's upload). It must not write SQL.

use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_store::{Store, StoreError};
use std::io::BufRead;

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

/// Why a national list file stopped loading.
#[derive(Debug, thiserror::Error)]
pub enum NationalListError {
    /// The file could not be read after `line` lines; numbers before it were kept.
    #[error("could not read the file after line {line}: {source}")]
    Unreadable {
        /// Lines read successfully.
        line: usize,
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
    pub skipped_lines: Vec<usize>,
    /// Numbers on the list in all, afterwards.
    pub on_list: u64,
}

/// Adds every number in `reader` to `list`, noting `source` (the file's name) with each,
/// in batches of a few thousand; `imported_by` is the admin who uploaded it (audited),
/// or `None` for the command line.
pub async fn import_national_list(
    store: &Store,
    mut reader: impl BufRead,
    list: NationalList,
    source: &str,
    imported_by: Option<i64>,
) -> Result<NationalListReport, NationalListError> {
    let mut report = NationalListReport::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(|source| {
            NationalListError::Unreadable {
                line: number,
                source,
            }
        })?;
        if n == 0 {
            break;
        }
        number += 1;
        let text = String::from_utf8_lossy(&line);
        let first = text
            .split(',')
            .next()
            .unwrap_or_default()
            .trim()
            .trim_matches('"')
            .trim_start_matches('\u{feff}');
        if first.is_empty() {
            continue;
        }
        match normalise_phone(first, Region::GB) {
            Ok(phone) => {
                report.read += 1;
                batch.push(phone.as_str().to_owned());
            }
            Err(_) => {
                report.skipped += 1;
                if report.skipped_lines.len() < SKIPS_SHOWN {
                    report.skipped_lines.push(number);
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
