//! Streaming import of contact lists from CSV files exported by spreadsheets.
//!
//! Owns reading one row at a time (memory stays flat however long the file), the
//! per-row checks and the rule that only a row without a callable number (or one that
//! cannot be read) is rejected: a bad postcode, email or other phone is a warning and
//! the contact is kept without it. Rejected rows keep their original cells so they can
//! be fixed and uploaded again. It must not store contacts, merge duplicates or screen
//! against suppression lists; the store and dispatch layers do that.

mod decoding;
mod mapping;
mod preview;

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::phone::{PhoneNumber, Region, normalise_phone};
use crate::postcode::normalise_postcode_or_district;
use decoding::DecodingReader;

pub use mapping::{
    ACTION_NETWORK, ColumnMapping, ColumnRole, NATIONBUILDER, REPORT_COLUMNS, ROLES, VAN,
    is_report_column, parse_override, parse_overrides,
};
pub use preview::{ImportPreview, PREVIEW_BYTES, PREVIEW_ROWS, PreviewRow, preview_import};

/// Largest row accepted, in bytes of UTF-8: a bigger one almost always means a quote
/// was left open and the rest of the file is being read as one field.
pub const MAX_ROW_BYTES: u64 = 1024 * 1024;
/// Longest value accepted in any one field, in characters.
pub const MAX_FIELD_CHARS: usize = 1000;
const CSV_BUFFER: usize = 64 * 1024;

/// A contact read from one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedContact {
    /// Physical line in the file where the row starts (the header is line 1).
    pub line: u64,
    /// Given name, trimmed; `None` if blank.
    pub first_name: Option<String>,
    /// Family name, trimmed; `None` if blank.
    pub last_name: Option<String>,
    /// The number to ring: the phone column, or the other-phone column if that was the
    /// only valid one.
    pub phone_e164: PhoneNumber,
    /// A second valid, different number, if the row had one.
    pub other_phone_e164: Option<PhoneNumber>,
    /// Email address with the domain lower-cased.
    pub email: Option<String>,
    /// Postcode written the standard way, e.g. "LS1 4AP", or only its district ("M13")
    /// when that is all the row gave.
    pub postcode: Option<String>,
    /// Non-blank values of extra columns, keyed by header name.
    pub extra: BTreeMap<String, String>,
    /// The person's ids in other systems (CRMs), keyed by system: `van`,
    /// `nationbuilder`, `action_network` or the header of an external-id column (see
    /// [`ColumnRole::external_system`]). Blank cells are left out.
    pub external_ids: BTreeMap<String, String>,
    /// Problems with secondary fields, each left empty on the contact.
    pub warnings: Vec<RowWarning>,
}

/// A row that was not imported, and why. Written back to organisers as CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowRejection {
    /// Physical line in the file where the row starts (the header is line 1).
    pub line: u64,
    /// Header of the offending column, or empty when the whole row is at fault.
    pub column: String,
    /// What is wrong, in words for the organiser.
    pub reason: String,
    /// The row's cells as read, so it can be fixed and uploaded again (empty when
    /// reading stopped in the middle of the row).
    pub fields: Vec<String>,
}

/// Something wrong with one field of an imported row (or a note about the row, such as
/// a merge): the row was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowWarning {
    /// Physical line in the file where the row starts (the header is line 1).
    pub line: u64,
    /// Header of the column concerned, or empty for the row as a whole.
    pub column: String,
    /// What happened, in words for the organiser.
    pub reason: String,
}

/// A problem with the file as a whole: nothing (more) can be imported from it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The file is empty: a header row naming the columns is required.
    #[error("the file is empty; the first row must name the columns")]
    NoHeader,
    /// Two columns share a header name, so the mapping would be ambiguous.
    #[error("two columns are both headed {0:?}; rename one")]
    DuplicateHeader(String),
    /// The mapping names a column this file does not have.
    #[error("the file has no column headed {0:?}")]
    MappedColumnMissing(String),
    /// No column is mapped to the phone number.
    #[error("no column is mapped to the phone number")]
    NoPhoneColumn,
    /// One role mapped to two columns.
    #[error("columns {first:?} and {second:?} are both mapped to {role}")]
    RoleMappedTwice {
        /// The role, in words.
        role: &'static str,
        /// The first column's header.
        first: String,
        /// The second column's header.
        second: String,
    },
    /// A header holds a NUL character, which cannot be stored as text.
    #[error("the header of column {0} contains a NUL character; remove it")]
    NulInHeader(usize),
    /// Reading stopped: an I/O error, or a row larger than [`MAX_ROW_BYTES`].
    #[error("could not read the file after line {line}: {message}")]
    Unreadable {
        /// Last line read successfully.
        line: u64,
        /// What went wrong.
        message: String,
    },
}

/// Reads only the header row, trimmed, so the organiser can confirm a mapping
/// (see [`ColumnMapping::guess`]) before the import runs. Blank header cells are named
/// "column N" (1-based).
pub fn read_headers<R: Read>(reader: R) -> Result<Vec<String>, ImportError> {
    let limit = Arc::new(AtomicU64::new(MAX_ROW_BYTES + CSV_BUFFER as u64));
    let mut csv = csv_reader(DecodingReader::new(reader, limit));
    headers_of(&mut csv)
}

fn csv_reader<R: Read>(reader: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        // Only '\n' ends a row, so lines can be counted; a '\r' before it is trimmed.
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(CSV_BUFFER)
        .from_reader(reader)
}

fn headers_of<R: Read>(csv: &mut csv::Reader<R>) -> Result<Vec<String>, ImportError> {
    let record = csv.headers().map_err(|e| unreadable(0, &e))?;
    if record.iter().all(|h| h.trim().is_empty()) {
        return Err(ImportError::NoHeader);
    }
    if let Some(index) = record.iter().position(|h| h.contains('\0')) {
        return Err(ImportError::NulInHeader(index + 1));
    }
    let headers: Vec<String> = record
        .iter()
        .enumerate()
        .map(|(index, h)| match h.trim() {
            "" => format!("column {}", index + 1),
            trimmed => trimmed.to_owned(),
        })
        .collect();
    for (index, header) in headers.iter().enumerate() {
        if headers[..index].contains(header) {
            return Err(ImportError::DuplicateHeader(header.clone()));
        }
    }
    Ok(headers)
}

fn unreadable(line: u64, error: &dyn std::fmt::Display) -> ImportError {
    ImportError::Unreadable {
        line,
        message: error.to_string(),
    }
}

/// Reads contacts one row at a time. Each item is a contact or the reason its row was
/// rejected; blank rows are skipped. If reading stops early (see
/// [`ImportReader::fatal_error`]) the last item is a rejection saying so.
pub struct ImportReader<R: Read> {
    csv: csv::Reader<DecodingReader<R>>,
    headers: Vec<String>,
    roles: Vec<ColumnRole>,
    region: Region,
    record: csv::StringRecord,
    limit: Arc<AtomicU64>,
    fatal: Option<ImportError>,
}

impl<R: Read> ImportReader<R> {
    /// Reads the header row of `reader` and checks `mapping` against it. Numbers
    /// without a country code are read as UK numbers (see [`Self::with_default_region`]).
    pub fn new(reader: R, mapping: ColumnMapping) -> Result<Self, ImportError> {
        Self::open(reader, |headers| mapping.resolve(headers))
    }

    /// Reads the header row of `reader` and gives each column the role `roles` chooses
    /// for the headers.
    fn open(
        reader: R,
        roles: impl FnOnce(&[String]) -> Result<Vec<ColumnRole>, ImportError>,
    ) -> Result<Self, ImportError> {
        let limit = Arc::new(AtomicU64::new(MAX_ROW_BYTES + CSV_BUFFER as u64));
        let mut csv = csv_reader(DecodingReader::new(reader, Arc::clone(&limit)));
        let headers = headers_of(&mut csv)?;
        let roles = roles(&headers)?;
        Ok(ImportReader {
            csv,
            headers,
            roles,
            region: Region::GB,
            record: csv::StringRecord::new(),
            limit,
            fatal: None,
        })
    }

    /// Reads numbers without a country code as numbers of `region`.
    pub fn with_default_region(mut self, region: Region) -> Self {
        self.region = region;
        self
    }

    /// The header row, trimmed.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// Why reading stopped before the end of the file, if it did.
    pub fn fatal_error(&self) -> Option<&ImportError> {
        self.fatal.as_ref()
    }

    fn header_with(&self, role: ColumnRole) -> Option<usize> {
        self.roles.iter().position(|r| *r == role)
    }

    /// Checks the row in `self.record`, which starts on `line`.
    fn check_row(&self, line: u64) -> Result<ImportedContact, RowRejection> {
        let reject = |column: &str, reason: String| RowRejection {
            line,
            column: column.to_owned(),
            reason,
            fields: self.record.iter().map(str::to_owned).collect(),
        };
        let mut warnings = Vec::new();
        let mut warn = |column: &str, reason: String| {
            warnings.push(RowWarning {
                line,
                column: column.to_owned(),
                reason,
            });
        };
        let fields = self.record.len();
        let expected = self.headers.len();
        let surplus_blank = self
            .record
            .iter()
            .skip(expected)
            .all(|f| f.trim().is_empty());
        if fields < expected || !surplus_blank {
            return Err(reject(
                "",
                format!(
                    "row has {fields} fields but the header has {expected}; check for a stray comma or quote"
                ),
            ));
        }
        for (header, value) in self.headers.iter().zip(self.record.iter()) {
            // Neither database can store a NUL in text, so the row goes back to the
            // organiser instead of failing the whole import when it is written.
            if value.contains('\0') {
                return Err(reject(
                    header,
                    "contains a NUL character, which cannot be stored; remove it".into(),
                ));
            }
            if value.contains('\u{FFFD}') {
                return Err(reject(
                    header,
                    "contains bytes that are not valid text; the file mixes encodings".into(),
                ));
            }
            if value.chars().count() > MAX_FIELD_CHARS {
                return Err(reject(
                    header,
                    format!("longer than {MAX_FIELD_CHARS} characters"),
                ));
            }
        }

        let value_of = |role| {
            self.header_with(role)
                .and_then(|i| self.record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let header_of = |role| {
            self.header_with(role)
                .map_or("", |i| self.headers[i].as_str())
        };

        let (phone_e164, other_phone_e164) = self
            .choose_phones(
                value_of(ColumnRole::Phone),
                value_of(ColumnRole::OtherPhone),
                &mut warn,
            )
            .map_err(|reason| reject(header_of(ColumnRole::Phone), reason))?;

        let email = value_of(ColumnRole::Email).and_then(|raw| {
            let email = crate::email::normalise_email(raw);
            if email.is_none() {
                warn(
                    header_of(ColumnRole::Email),
                    format!("not an email address: {}; left empty", quoted(raw)),
                );
            }
            email
        });
        let postcode = value_of(ColumnRole::Postcode).and_then(|raw| {
            normalise_postcode_or_district(raw)
                .map_err(|e| {
                    warn(
                        header_of(ColumnRole::Postcode),
                        format!("{e}: {}; left empty", quoted(raw)),
                    );
                })
                .ok()
        });

        let extra = self
            .headers
            .iter()
            .zip(&self.roles)
            .zip(self.record.iter())
            .filter(|((_, role), value)| **role == ColumnRole::Extra && !value.trim().is_empty())
            .map(|((header, _), value)| (header.clone(), value.trim().to_owned()))
            .collect();
        let external_ids = self
            .headers
            .iter()
            .zip(&self.roles)
            .zip(self.record.iter())
            .filter(|(_, value)| !value.trim().is_empty())
            .filter_map(|((header, role), value)| {
                role.external_system(header)
                    .map(|system| (system, value.trim().to_owned()))
            })
            .collect();

        Ok(ImportedContact {
            line,
            first_name: value_of(ColumnRole::FirstName).map(str::to_owned),
            last_name: value_of(ColumnRole::LastName).map(str::to_owned),
            phone_e164,
            other_phone_e164,
            email,
            postcode,
            extra,
            external_ids,
            warnings,
        })
    }

    /// The number to ring and the spare: the primary if valid, else the other phone.
    /// An invalid number beside a valid one is a warning.
    fn choose_phones(
        &self,
        primary: Option<&str>,
        other: Option<&str>,
        warn: &mut impl FnMut(&str, String),
    ) -> Result<(PhoneNumber, Option<PhoneNumber>), String> {
        let parse = |raw: Option<&str>| raw.map(|raw| normalise_phone(raw, self.region));
        let header_of = |role| {
            self.header_with(role)
                .map_or("", |i| self.headers[i].as_str())
        };
        match (parse(primary), parse(other)) {
            (Some(Ok(main)), Some(Ok(spare))) if spare != main => Ok((main, Some(spare))),
            (Some(Ok(main)), Some(Err(e))) => {
                let raw = other.unwrap_or_default();
                warn(
                    header_of(ColumnRole::OtherPhone),
                    format!("{e}: {}; left empty", quoted(raw)),
                );
                Ok((main, None))
            }
            (Some(Ok(main)), _) => Ok((main, None)),
            (Some(Err(e)), Some(Ok(spare))) => {
                let raw = primary.unwrap_or_default();
                warn(
                    header_of(ColumnRole::Phone),
                    format!(
                        "{e}: {}; the number in {} is rung instead",
                        quoted(raw),
                        header_of(ColumnRole::OtherPhone)
                    ),
                );
                Ok((spare, None))
            }
            (_, Some(Ok(spare))) => Ok((spare, None)),
            (None, None) => Err("no phone number given".into()),
            (primary_result, other_result) => {
                let mut reason = match (primary_result, primary) {
                    (Some(Err(e)), Some(raw)) => format!("{e}: {}", quoted(raw)),
                    _ => "no phone number given".to_owned(),
                };
                if let (Some(Err(e)), Some(raw)) = (other_result, other) {
                    let other_header = header_of(ColumnRole::OtherPhone);
                    reason.push_str(&format!(" (and {other_header}: {e}: {})", quoted(raw)));
                }
                Err(reason)
            }
        }
    }
}

impl<R: Read> Iterator for ImportReader<R> {
    type Item = Result<ImportedContact, RowRejection>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.fatal.is_some() {
                return None;
            }
            let start = self.csv.position().clone();
            self.limit.store(
                start.byte() + MAX_ROW_BYTES + CSV_BUFFER as u64,
                Ordering::Relaxed,
            );
            match self.csv.read_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {
                    if self.record.iter().all(|field| field.trim().is_empty()) {
                        continue;
                    }
                    // The reader has consumed the row's final '\n'; step back over it
                    // and over any line breaks inside quoted fields.
                    let inner_breaks: u64 = self
                        .record
                        .iter()
                        .map(|field| field.matches('\n').count() as u64)
                        .sum();
                    let line = self.csv.position().line().saturating_sub(1 + inner_breaks);
                    return Some(self.check_row(line));
                }
                Err(error) => {
                    let line = start.line();
                    let message = match error.kind() {
                        csv::ErrorKind::Io(io)
                            if io
                                .get_ref()
                                .is_some_and(|e| e.is::<decoding::RowTooLarge>()) =>
                        {
                            format!(
                                "the row starting on line {line} is larger than {} MiB; is a quote (\") left open?",
                                MAX_ROW_BYTES / (1024 * 1024)
                            )
                        }
                        _ => error.to_string(),
                    };
                    let rejection = RowRejection {
                        line,
                        column: String::new(),
                        reason: format!("import stopped: {message}"),
                        fields: Vec::new(),
                    };
                    self.fatal = Some(ImportError::Unreadable {
                        line: line.saturating_sub(1),
                        message,
                    });
                    return Some(Err(rejection));
                }
            }
        }
    }
}

/// Quotes a value for a rejection reason, shortened so reasons stay readable.
fn quoted(value: &str) -> String {
    const MAX: usize = 40;
    if value.chars().count() > MAX {
        let short: String = value.chars().take(MAX).collect();
        format!("\"{short}…\"")
    } else {
        format!("\"{value}\"")
    }
}

/// Writes rejected rows as CSV an organiser can fix and upload again: the file's own
/// `headers` and each row's original cells, then the [`REPORT_COLUMNS`] (line, column,
/// reason), which a re-upload ignores. Report columns of an earlier round are dropped, so
/// they never pile up. Cells a spreadsheet would run as a formula are defused (see
/// [`defuse_formula`]).
pub fn write_rejected_rows<'a, W, I>(
    mut writer: W,
    headers: &[String],
    rejections: I,
) -> io::Result<()>
where
    W: Write,
    I: IntoIterator<Item = &'a RowRejection>,
{
    write_rejected_rows_header(&mut writer, headers)?;
    write_rejected_rows_body(writer, headers, rejections)
}

/// The header row of [`write_rejected_rows`]: the file's own columns (without the
/// report's, when the file was itself a rejected-rows file) and the three report columns.
pub fn write_rejected_rows_header<W: Write>(writer: W, headers: &[String]) -> io::Result<()> {
    let mut csv = csv::WriterBuilder::new().flexible(true).from_writer(writer);
    let header_row = kept_columns(headers)
        .map(|i| defuse_formula(&headers[i]))
        .chain(REPORT_COLUMNS.iter().map(|c| (*c).to_owned()));
    csv.write_record(header_row)?;
    csv.flush()
}

/// The rows of [`write_rejected_rows`] without its header, for writing a long report
/// in pieces.
pub fn write_rejected_rows_body<'a, W, I>(
    writer: W,
    headers: &[String],
    rejections: I,
) -> io::Result<()>
where
    W: Write,
    I: IntoIterator<Item = &'a RowRejection>,
{
    let kept: Vec<usize> = kept_columns(headers).collect();
    let mut csv = csv::WriterBuilder::new().flexible(true).from_writer(writer);
    for rejection in rejections {
        let cells = kept
            .iter()
            .map(|&i| defuse_formula(rejection.fields.get(i).map_or("", String::as_str)));
        let report = [
            rejection.line.to_string(),
            defuse_formula(&rejection.column),
            defuse_formula(&rejection.reason),
        ];
        csv.write_record(cells.chain(report))?;
    }
    csv.flush()
}

fn kept_columns(headers: &[String]) -> impl Iterator<Item = usize> + '_ {
    (0..headers.len()).filter(|&i| !is_report_column(&headers[i]))
}

/// The header row of a warnings report: `line,column,warning`.
pub fn write_warnings_header<W: Write>(writer: W) -> io::Result<()> {
    let mut csv = csv::Writer::from_writer(writer);
    csv.write_record(["line", "column", "warning"])?;
    csv.flush()
}

/// Rows of a warnings report (warnings or merge notes) under [`write_warnings_header`].
pub fn write_warnings_body<'a, W, I>(writer: W, warnings: I) -> io::Result<()>
where
    W: Write,
    I: IntoIterator<Item = &'a RowWarning>,
{
    let mut csv = csv::Writer::from_writer(writer);
    for warning in warnings {
        csv.write_record([
            warning.line.to_string(),
            defuse_formula(&warning.column),
            defuse_formula(&warning.reason),
        ])?;
    }
    csv.flush()
}

/// A cell a spreadsheet would run as a formula (starting with `=`, `+`, `-` or `@`) is
/// prefixed with `'`, except a phone number or other plain number such as
/// "+44 20 7946 0018": prefixing it would stop the fixed file importing.
fn defuse_formula(cell: &str) -> String {
    let plain_number = cell.starts_with(['+', '-'])
        && cell[1..]
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '(' | ')' | '-' | '.'));
    if cell.starts_with(['=', '+', '-', '@']) && !plain_number {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

#[cfg(test)]
mod tests;
