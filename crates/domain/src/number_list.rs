//! Reading a list of phone numbers as it streams in: one number per line, or a CSV with a
//! phone column and an optional reason column, with or without a header row. Used for
//! the TPS and CTPS files and for do-not-call lists. Owns finding the columns, the line
//! of each record and normalising its number; it must not decide what a list is for.

use crate::phone::{Region, normalise_phone};
use std::io::{BufRead, BufReader, Read};

/// Headers that name the column holding the number.
const PHONE_HEADERS: &[&str] = &[
    "phone",
    "phone number",
    "number",
    "telephone",
    "telephone number",
    "tel",
    "mobile",
    "msisdn",
];
/// Headers that name the column holding why the number is listed.
const REASON_HEADERS: &[&str] = &["reason", "why", "note", "notes", "comment"];

/// One record of a number list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedNumber {
    /// Its line in the file, counting from 1 (a header is line 1).
    pub line: u64,
    /// The number in E.164, or what is wrong with the text given for it.
    pub phone: Result<String, String>,
    /// The text of the reason column, trimmed; empty when there is none.
    pub reason: String,
}

/// Where the number and reason are in each record.
#[derive(Debug, Clone, Copy)]
struct Columns {
    phone: usize,
    reason: Option<usize>,
}

/// The records of a number list, in order; blank lines are skipped. A first line whose
/// number column is not a number and whose cells include a known header ("Phone",
/// "Number", "Reason"…) is read as the header. Cells may be quoted as in CSV, though a
/// record must stay on one line.
pub struct NumberList<R: Read> {
    source: BufReader<R>,
    bytes: Vec<u8>,
    line: u64,
    columns: Option<Columns>,
}

/// The cells of one line, split at commas outside double quotes (`""` is a quote).
fn cells(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    cells.push(cell);
    cells
        .into_iter()
        .map(|cell| cell.trim().trim_start_matches('\u{feff}').trim().to_owned())
        .collect()
}

fn cell(record: &[String], index: usize) -> String {
    record.get(index).cloned().unwrap_or_default()
}

fn header_index(record: &[String], names: &[&str]) -> Option<usize> {
    record
        .iter()
        .position(|text| names.contains(&text.to_lowercase().as_str()))
}

impl<R: Read> NumberList<R> {
    /// Reads `source` (UTF-8; other bytes are replaced).
    pub fn new(source: R) -> Self {
        Self {
            source: BufReader::with_capacity(1 << 16, source),
            bytes: Vec::new(),
            line: 0,
            columns: None,
        }
    }

    /// The next record, `Ok(None)` at the end, or the read error and the last line read.
    pub fn next_number(&mut self) -> Result<Option<ListedNumber>, (u64, std::io::Error)> {
        loop {
            self.bytes.clear();
            let read = self
                .source
                .read_until(b'\n', &mut self.bytes)
                .map_err(|error| (self.line, error))?;
            if read == 0 {
                return Ok(None);
            }
            self.line += 1;
            let record = cells(&String::from_utf8_lossy(&self.bytes));
            if record.iter().all(String::is_empty) {
                continue;
            }
            let first = self.columns.is_none();
            let columns = *self.columns.get_or_insert_with(|| {
                let phone = header_index(&record, PHONE_HEADERS);
                Columns {
                    phone: phone.unwrap_or(0),
                    reason: header_index(&record, REASON_HEADERS).or(phone.is_none().then_some(1)),
                }
            });
            let text = cell(&record, columns.phone);
            let reason = columns.reason.map(|i| cell(&record, i)).unwrap_or_default();
            let phone = normalise_phone(&text, Region::GB)
                .map(|number| number.as_str().to_owned())
                .map_err(|problem| {
                    if text.is_empty() {
                        "no phone number given".to_owned()
                    } else {
                        format!("'{text}' is {problem}")
                    }
                });
            if first && phone.is_err() && is_header(&record) {
                continue;
            }
            return Ok(Some(ListedNumber {
                line: self.line,
                phone,
                reason,
            }));
        }
    }
}

fn is_header(record: &[String]) -> bool {
    header_index(record, PHONE_HEADERS).is_some() || header_index(record, REASON_HEADERS).is_some()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn read(text: &str) -> Vec<ListedNumber> {
        let mut list = NumberList::new(text.as_bytes());
        let mut out = Vec::new();
        while let Some(number) = list.next_number().unwrap() {
            out.push(number);
        }
        out
    }

    #[test]
    fn one_number_a_line_without_header() {
        let numbers = read("020 7946 0001\n\n0113 496 0002\r\nnot a number\n");
        assert_eq!(numbers.len(), 3);
        assert_eq!(numbers[0].phone, Ok("+442079460001".to_owned()));
        assert_eq!(numbers[1].line, 3);
        assert_eq!(numbers[1].phone, Ok("+441134960002".to_owned()));
        assert_eq!(numbers[2].line, 4);
        assert_eq!(
            numbers[2].phone,
            Err("'not a number' is not a phone number (contains 'n')".to_owned())
        );
    }

    #[test]
    fn header_names_the_phone_and_reason_columns() {
        let numbers =
            read("\u{feff}Name,Reason,Phone\nAda,\"Asked, by email\",020 7946 0001\nBob,,12345\n");
        assert_eq!(numbers.len(), 2);
        assert_eq!(numbers[0].line, 2);
        assert_eq!(numbers[0].phone, Ok("+442079460001".to_owned()));
        assert_eq!(numbers[0].reason, "Asked, by email");
        assert_eq!(numbers[1].line, 3);
        assert!(numbers[1].phone.as_ref().unwrap_err().contains("'12345'"));
    }

    #[test]
    fn csv_without_header_reads_number_then_reason() {
        let numbers = read("0161 496 0003,Wrote in\n0161 496 0004\n");
        assert_eq!(numbers[0].reason, "Wrote in");
        assert_eq!(numbers[1].reason, "");
        assert_eq!(numbers[1].phone, Ok("+441614960004".to_owned()));
    }

    #[test]
    fn quoted_cells_keep_commas_and_quotes() {
        assert_eq!(
            cells("\"020 7946 0001\",\"Said \"\"no\"\", twice\"\r\n"),
            ["020 7946 0001", "Said \"no\", twice"]
        );
    }

    #[test]
    fn a_first_line_that_is_neither_header_nor_number_is_reported() {
        let numbers = read("hello,there\n029 2018 0005\n");
        assert_eq!(numbers.len(), 2);
        assert_eq!(numbers[0].line, 1);
        assert!(numbers[0].phone.is_err());
        assert_eq!(numbers[1].phone, Ok("+442920180005".to_owned()));
    }
}
