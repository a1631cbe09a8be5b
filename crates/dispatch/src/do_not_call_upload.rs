//! Loading a group's do-not-call list from a file an organiser uploads: one number per
//! line, or a CSV with a phone column and an optional reason column, header optional, read
//! by `barnstorm_domain::number_list` and stored in batches (one transaction and one
//! `do_not_call.add` audit entry each). Owns the counts and the bad lines of the report;
//! it must not write SQL.

use crate::national_lists::{ListFileError, SKIPS_SHOWN};
use barnstorm_domain::number_list::NumberList;
use barnstorm_store::Store;
use std::collections::HashSet;
use std::io::Read;

/// Numbers sent to the store at a time.
const BATCH: usize = 5_000;

/// Who uploads which file to which group's list.
#[derive(Debug, Clone)]
pub struct DoNotCallUpload<'a> {
    /// The group whose list it is.
    pub group_id: i64,
    /// The organiser uploading it (audited).
    pub added_by: i64,
    /// The file's name, kept in the audit entry.
    pub source: &'a str,
    /// The reason given to numbers whose line has none.
    pub default_reason: &'a str,
    /// The longest reason accepted, in characters.
    pub max_reason: usize,
}

/// A line that was not added, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// Its line in the file, from 1.
    pub line: u64,
    /// What is wrong with it: "'12345' is too short to be a phone number".
    pub reason: String,
}

/// What loading the file did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoNotCallReport {
    /// Numbers new to the list.
    pub added: u64,
    /// Valid numbers that were on the list already or repeated in the file.
    pub already_listed: u64,
    /// Lines that could not be added.
    pub invalid: u64,
    /// The first [`SKIPS_SHOWN`] of them.
    pub invalid_lines: Vec<BadLine>,
    /// Queued contacts of the group's campaigns taken out of the queue.
    pub contacts_suppressed: u64,
}

impl DoNotCallUpload<'_> {
    /// Adds every valid number in `reader` to the group's list.
    pub async fn run(
        &self,
        store: &Store,
        reader: impl Read,
    ) -> Result<DoNotCallReport, ListFileError> {
        let mut report = DoNotCallReport::default();
        let mut batch = Vec::with_capacity(BATCH);
        let mut seen = HashSet::new();
        let mut numbers = NumberList::new(reader);
        while let Some(listed) = numbers
            .next_number()
            .map_err(|(line, source)| ListFileError::Unreadable { line, source })?
        {
            let reason = if listed.reason.is_empty() {
                self.default_reason.to_owned()
            } else {
                listed.reason
            };
            let checked = listed.phone.and_then(|phone| {
                if reason.chars().count() > self.max_reason {
                    Err(format!(
                        "the reason is longer than {} characters",
                        self.max_reason
                    ))
                } else {
                    Ok(phone)
                }
            });
            match checked {
                // A repeat within the file would be "already listed" by the next batch.
                Ok(phone) if !seen.insert(phone.clone()) => report.already_listed += 1,
                Ok(phone) => batch.push((phone, reason)),
                Err(reason) => {
                    report.invalid += 1;
                    if report.invalid_lines.len() < SKIPS_SHOWN {
                        report.invalid_lines.push(BadLine {
                            line: listed.line,
                            reason,
                        });
                    }
                }
            }
            if batch.len() >= BATCH {
                self.store_batch(store, &mut batch, &mut report).await?;
            }
        }
        self.store_batch(store, &mut batch, &mut report).await?;
        Ok(report)
    }

    async fn store_batch(
        &self,
        store: &Store,
        batch: &mut Vec<(String, String)>,
        report: &mut DoNotCallReport,
    ) -> Result<(), ListFileError> {
        if batch.is_empty() {
            return Ok(());
        }
        let done = store
            .add_do_not_call_batch(self.group_id, batch, self.added_by, self.source)
            .await?;
        report.added += done.added;
        report.already_listed += batch.len() as u64 - done.added;
        report.contacts_suppressed += done.contacts_suppressed;
        batch.clear();
        Ok(())
    }
}
