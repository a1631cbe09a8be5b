//! A look at the start of a list before it is imported: its columns, the role each gets
//! (guessed, or chosen by the organiser), the first rows as the importer reads them and
//! what the importer would do with each. Owns tolerating a sample cut in the middle of a
//! row. It must not store anything or judge duplicates (the store merges those).

use super::{ColumnMapping, ColumnRole, ImportError, ImportReader, ROLES, RowWarning};

/// How much of a file a preview reads. A sample this long (or longer) is taken to be the
/// start of a longer file, so its last row, which may be cut, is left out.
pub const PREVIEW_BYTES: usize = 64 * 1024;
/// Data rows a preview shows.
pub const PREVIEW_ROWS: usize = 5;

/// What importing a file with a choice of column roles would do, judged from its start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportPreview {
    /// The header row, trimmed.
    pub headers: Vec<String>,
    /// Each header's role, guessed unless chosen, in file order.
    pub roles: Vec<ColumnRole>,
    /// The first [`PREVIEW_ROWS`] data rows, as the importer reads them.
    pub rows: Vec<PreviewRow>,
    /// Data rows in the sample (blank rows and a cut last row not counted).
    pub rows_in_sample: u64,
    /// Whether the sample is the whole file, so `rows_in_sample` counts all its rows.
    pub whole_file: bool,
    /// Why the file cannot be imported with these roles, in words for the organiser
    /// ("No column is the phone number: choose one."); `None` when it can.
    pub problem: Option<String>,
}

/// One data row of a preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewRow {
    /// Physical line in the file where the row starts (the header is line 1).
    pub line: u64,
    /// The row's cells as read (decoded, not yet trimmed).
    pub cells: Vec<String>,
    /// Why the importer would reject the row, naming the column at fault; never given
    /// while the roles have a problem.
    pub rejected: Option<RowWarning>,
    /// The fields the importer would leave empty, and why.
    pub warnings: Vec<RowWarning>,
}

/// Previews importing `sample`, the start of a file (or all of it), with the organiser's
/// `overrides` laid over the guessed roles exactly as [`ColumnMapping::guess_with`] lays
/// them for the import itself. Only a file whose header row cannot be read is an error;
/// a mapping that does not fit is the preview's `problem`.
pub fn preview_import(
    sample: &[u8],
    overrides: &[(String, ColumnRole)],
) -> Result<ImportPreview, ImportError> {
    let whole_file = sample.len() < PREVIEW_BYTES;
    let sample = &sample[..sample.len().min(PREVIEW_BYTES)];
    let mut problem = None;
    let mut reader = ImportReader::open(sample, |headers| {
        let mapping = ColumnMapping::guess_with(headers, overrides);
        problem = mapping.resolve(headers).err();
        Ok(headers.iter().map(|h| mapping.role_of(h)).collect())
    })?;
    let mut rows = Vec::new();
    let mut rows_in_sample = 0_u64;
    while let Some(row) = reader.next() {
        if reader.fatal_error().is_some() {
            break;
        }
        rows_in_sample += 1;
        // One more than shown, in case the last is cut and left out.
        if rows.len() > PREVIEW_ROWS {
            continue;
        }
        rows.push(match row {
            Ok(contact) => PreviewRow {
                line: contact.line,
                cells: reader.record.iter().map(str::to_owned).collect(),
                rejected: None,
                warnings: contact.warnings,
            },
            Err(rejection) => PreviewRow {
                line: rejection.line,
                cells: rejection.fields,
                rejected: Some(RowWarning {
                    line: rejection.line,
                    column: rejection.column,
                    reason: rejection.reason,
                }),
                warnings: Vec::new(),
            },
        });
    }
    if !whole_file && rows_in_sample > 0 {
        rows_in_sample -= 1;
        rows.truncate(usize::try_from(rows_in_sample).unwrap_or(usize::MAX));
    }
    rows.truncate(PREVIEW_ROWS);
    if problem.is_some() {
        // Judged with roles that do not fit, the outcomes would only mislead.
        for row in &mut rows {
            row.rejected = None;
            row.warnings.clear();
        }
    }
    Ok(ImportPreview {
        headers: reader.headers,
        roles: reader.roles,
        rows,
        rows_in_sample,
        whole_file,
        problem: problem.as_ref().map(in_plain_words),
    })
}

/// A mapping problem as the organiser choosing roles from a menu would put it.
fn in_plain_words(problem: &ImportError) -> String {
    match problem {
        ImportError::NoPhoneColumn => "No column is the phone number: choose one.".to_owned(),
        ImportError::RoleMappedTwice {
            role,
            first,
            second,
        } => {
            let label = ROLES
                .iter()
                .find(|r| r.describe() == *role)
                .map_or(*role, |r| r.label());
            format!("\"{first}\" and \"{second}\" are both \"{label}\": choose one of them.")
        }
        other => {
            let text = other.to_string();
            let mut chars = text.chars();
            let first = chars.next().map(|c| c.to_uppercase().to_string());
            format!("{}{}.", first.unwrap_or_default(), chars.as_str())
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::contact_import::parse_overrides;

    const EXPORT: &str = "Forename,Mobile provider,Tel (home),Post code\n\
        Asha,Vodafone,020 7946 0201,bad postcode\n\
        Ben,EE,0113 496 0202,M13\n\
        \n\
        Cara,O2,ring after six,LS6 3AA\n\
        Dev,Three,020 7946 0204,\n\
        Eli,EE,0161 496 0205,\n\
        Fran,O2,029 2018 0206,\n";

    #[test]
    fn the_guess_is_shown_with_what_the_importer_would_do() {
        let preview = preview_import(EXPORT.as_bytes(), &[]).unwrap();
        assert_eq!(preview.headers[2], "Tel (home)");
        assert_eq!(
            preview.roles,
            [
                ColumnRole::FirstName,
                ColumnRole::Phone,
                ColumnRole::OtherPhone,
                ColumnRole::Postcode
            ],
            "the provider column looks like the mobile number"
        );
        assert_eq!(preview.problem, None);
        assert!(preview.whole_file);
        assert_eq!(preview.rows_in_sample, 6, "the blank row is not counted");
        let lines: Vec<u64> = preview.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 3, 5, 6, 7]);
        assert_eq!(preview.rows[0].cells[1], "Vodafone");
        let first: Vec<&str> = preview.rows[0]
            .warnings
            .iter()
            .map(|w| w.column.as_str())
            .collect();
        assert_eq!(first, ["Mobile provider", "Post code"]);
        let cara = preview.rows[2].rejected.as_ref().unwrap();
        assert_eq!(cara.column, "Mobile provider");
        assert!(cara.reason.contains("ring after six"), "{}", cara.reason);
    }

    #[test]
    fn chosen_roles_are_laid_over_the_guess() {
        let overrides = parse_overrides("Tel (home):phone,Mobile provider:ignore").unwrap();
        let preview = preview_import(EXPORT.as_bytes(), &overrides).unwrap();
        assert_eq!(preview.roles[1], ColumnRole::Ignore);
        assert_eq!(preview.roles[2], ColumnRole::Phone);
        assert_eq!(preview.problem, None);
        assert_eq!(preview.rows[0].warnings.len(), 1, "only the postcode");
        assert_eq!(
            preview.rows[2].rejected.as_ref().unwrap().column,
            "Tel (home)"
        );
    }

    #[test]
    fn a_mapping_that_does_not_fit_is_said_in_plain_words() {
        let none = parse_overrides("Mobile provider:ignore,Tel (home):extra").unwrap();
        let preview = preview_import(EXPORT.as_bytes(), &none).unwrap();
        assert_eq!(
            preview.problem.as_deref(),
            Some("No column is the phone number: choose one.")
        );
        assert_eq!(preview.rows.len(), PREVIEW_ROWS, "the rows are still shown");
        assert!(preview.rows.iter().all(|r| r.rejected.is_none()));

        let twice = ImportError::RoleMappedTwice {
            role: ColumnRole::Postcode.describe(),
            first: "Forename".into(),
            second: "Post code".into(),
        };
        assert_eq!(
            in_plain_words(&twice),
            "\"Forename\" and \"Post code\" are both \"Postcode\": choose one of them."
        );
        let missing = parse_overrides("Mobile:phone").unwrap();
        let preview = preview_import(EXPORT.as_bytes(), &missing).unwrap();
        assert_eq!(
            preview.problem.as_deref(),
            Some("The file has no column headed \"Mobile\".")
        );
        assert_eq!(preview_import(b"", &[]), Err(ImportError::NoHeader));
    }

    #[test]
    fn a_sample_cut_in_the_middle_of_a_row_leaves_that_row_out() {
        let mut body = String::new();
        for line in 2..5000 {
            body.push_str(&format!("Zoë {line},020 7946 {:04}\n", line % 1000));
        }
        // Spaces after "Name" (trimmed away) move the cut to just after the first byte
        // of an "ë", so the sample ends in invalid UTF-8 mid-row.
        let base = "Name,Phone\n".len();
        let at = body[..PREVIEW_BYTES - base].rfind('ë').unwrap();
        let pad = " ".repeat(PREVIEW_BYTES - 1 - base - at);
        let file = format!("Name{pad},Phone\n{body}");
        assert_eq!(file.as_bytes()[PREVIEW_BYTES - 1], 0xC3);

        let preview = preview_import(file.as_bytes(), &[]).unwrap();
        assert!(!preview.whole_file);
        assert_eq!(preview.headers, ["Name", "Phone"]);
        let complete = file[..PREVIEW_BYTES - 1].matches('\n').count() as u64 - 1;
        assert_eq!(
            preview.rows_in_sample, complete,
            "the cut row is not counted"
        );
        assert_eq!(preview.rows.len(), PREVIEW_ROWS);
        assert_eq!(preview.rows[0].cells, ["Zoë 2", "020 7946 0002"]);
        assert!(preview.rows.iter().all(|r| r.rejected.is_none()));

        let sample = preview_import(&file.as_bytes()[..PREVIEW_BYTES], &[]).unwrap();
        assert_eq!(sample, preview, "bytes past the sample are not read");
    }
}
