//! Tests for contact import: good and bad rows, encodings, line numbers, streaming.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn import(bytes: &[u8]) -> Vec<Result<ImportedContact, RowRejection>> {
    let headers = read_headers(bytes).unwrap();
    let mapping = ColumnMapping::guess(&headers);
    ImportReader::new(bytes, mapping).unwrap().collect()
}

/// A rejection as (line, column, reason).
type Problem = (u64, String, String);

fn rejection(line: u64, column: &str, reason: &str) -> Problem {
    (line, column.into(), reason.into())
}

/// The row's rejection as (line, column, reason), if it was rejected.
fn rejected(row: &Result<ImportedContact, RowRejection>) -> Option<Problem> {
    row.as_ref()
        .err()
        .map(|r| (r.line, r.column.clone(), r.reason.clone()))
}

/// A contact's warnings as (line, column, reason).
fn warnings(contact: &ImportedContact) -> Vec<Problem> {
    contact
        .warnings
        .iter()
        .map(|w| (w.line, w.column.clone(), w.reason.clone()))
        .collect()
}

#[test]
fn mixed_rows_import_or_say_why_not() {
    let file = "\
First Name,Surname,Mobile,Telephone,Email,Postcode,Ward
Asha,Patel,020 7946 0018,,asha@Example.ORG,ls1 4ap,Hyde Park
Ben,,07700 900123,0113 496 0123,,,
Cat,Jones,07700 900123,,,,
Dee,,0161 496 0001,,dee@nowhere,,
Eve,,029 2018 0500,,,London,
Fay,Lee,0161 496 0002
,,,,,,

Gus,,020 7946 0999,020 7946 0999,,,Roundhay
";
    let rows = import(file.as_bytes());
    assert_eq!(rows.len(), 7, "blank rows are skipped: {rows:#?}");

    let asha = rows[0].as_ref().unwrap();
    assert_eq!(asha.line, 2);
    assert_eq!(asha.first_name.as_deref(), Some("Asha"));
    assert_eq!(asha.last_name.as_deref(), Some("Patel"));
    assert_eq!(asha.phone_e164.as_str(), "+442079460018");
    assert_eq!(asha.other_phone_e164, None);
    assert_eq!(asha.email.as_deref(), Some("asha@example.org"));
    assert_eq!(asha.postcode.as_deref(), Some("LS1 4AP"));
    assert_eq!(asha.extra["Ward"], "Hyde Park");

    let ben = rows[1].as_ref().unwrap();
    assert_eq!(
        ben.phone_e164.as_str(),
        "+441134960123",
        "falls back to the other phone"
    );
    assert_eq!(ben.last_name, None);
    assert!(ben.extra.is_empty());

    assert_eq!(
        rejected(&rows[2]),
        Some(rejection(
            4,
            "Mobile",
            "not a valid UK number: \"07700 900123\""
        ))
    );
    let dee = rows[3].as_ref().unwrap();
    assert_eq!(
        dee.email, None,
        "a bad email is left empty, the contact kept"
    );
    assert_eq!(
        warnings(dee),
        [rejection(
            5,
            "Email",
            "not an email address: \"dee@nowhere\"; left empty"
        )]
    );
    let eve = rows[4].as_ref().unwrap();
    assert_eq!(eve.postcode, None);
    assert_eq!(
        warnings(eve),
        [rejection(
            6,
            "Postcode",
            "not a UK postcode (expected something like \"SW1A 1AA\"): \"London\"; left empty"
        )]
    );
    assert!(warnings(asha).is_empty());
    assert_eq!(
        rejected(&rows[5]),
        Some(rejection(
            7,
            "",
            "row has 3 fields but the header has 7; check for a stray comma or quote"
        ))
    );
    let gus = rows[6].as_ref().unwrap();
    assert_eq!(gus.line, 10, "line numbers count the skipped blank lines");
    assert_eq!(gus.other_phone_e164, None, "same number twice is kept once");
}

#[test]
fn both_phones_bad_names_both_problems() {
    let rows = import(b"Mobile,Other phone\n0161 496,12\n,\n,020 7946\n");
    assert_eq!(
        rows.iter().map(rejected).collect::<Vec<_>>(),
        vec![
            Some(rejection(
                2,
                "Mobile",
                "too short to be a phone number: \"0161 496\" (and Other phone: not a phone number: \"12\")"
            )),
            Some(rejection(
                4,
                "Mobile",
                "no phone number given (and Other phone: too short to be a phone number: \"020 7946\")"
            )),
        ]
    );
}

#[test]
fn quoted_fields_with_newlines_keep_line_numbers_right() {
    let file = "Name,Phone,Notes\r\n\
        Ann,020 7946 0001,\"Met at the stall.\r\nKeen on housing.\r\nCall evenings\"\r\n\
        Bob,020 7946 0002,plain\r\n\
        Cy,not a number,\"two\nlines\"\r\n\
        Di,020 7946 0004,\r\n";
    let rows = import(file.as_bytes());
    let ann = rows[0].as_ref().unwrap();
    assert_eq!(ann.line, 2);
    assert_eq!(
        ann.extra["Notes"],
        "Met at the stall.\r\nKeen on housing.\r\nCall evenings"
    );
    assert_eq!(rows[1].as_ref().unwrap().line, 5);
    assert_eq!(rows[2].as_ref().unwrap_err().line, 6);
    assert_eq!(rows[3].as_ref().unwrap().line, 8);
}

#[test]
fn bom_and_windows_1252_files_read_correctly() {
    let utf8_bom = b"\xEF\xBB\xBFFirst name,Phone,Ward\nZo\xC3\xAB,020 7946 0001,\xC2\xA3 Ward\n";
    let rows = import(utf8_bom);
    let zoe = rows[0].as_ref().unwrap();
    assert_eq!(zoe.first_name.as_deref(), Some("Zoë"));
    assert_eq!(zoe.extra["Ward"], "£ Ward");
    assert_eq!(
        read_headers(&utf8_bom[..]).unwrap()[0],
        "First name",
        "BOM is not in the header"
    );

    // Excel's "CSV" on Windows: é = 0xE9, £ = 0xA3.
    let cp1252 = b"First name,Phone,Pledge\nRen\xE9e,020 7946 0002,\xA35\n";
    let renee = import(cp1252).remove(0).unwrap();
    assert_eq!(renee.first_name.as_deref(), Some("Renée"));
    assert_eq!(renee.extra["Pledge"], "£5");
}

#[test]
fn invalid_utf8_after_utf8_is_reported_on_its_row() {
    let mixed = b"Name,Phone\nZo\xC3\xAB,020 7946 0001\nRen\xE9e,020 7946 0002\n";
    let rows = import(mixed);
    assert!(rows[0].is_ok());
    assert_eq!(
        rejected(&rows[1]),
        Some(rejection(
            3,
            "Name",
            "contains bytes that are not valid text; the file mixes encodings"
        ))
    );
}

#[test]
fn mapping_decides_what_is_kept() {
    let file = b"Name,Tel,DOB,Branch\nAl,020 7946 0003,1970-01-01,Leeds\n";
    let mapping = ColumnMapping::default()
        .with("Tel", ColumnRole::Phone)
        .with("Name", ColumnRole::FirstName)
        .with("DOB", ColumnRole::Ignore);
    let al = ImportReader::new(&file[..], mapping)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(al.first_name.as_deref(), Some("Al"));
    assert_eq!(al.extra.keys().collect::<Vec<_>>(), ["Branch"]);
}

#[test]
fn whole_file_problems_are_errors_before_any_row() {
    let none = ColumnMapping::default;
    assert_eq!(
        ImportReader::new(&b""[..], none()).err(),
        Some(ImportError::NoHeader)
    );
    assert_eq!(
        ImportReader::new(&b"Phone,Phone\n"[..], none()).err(),
        Some(ImportError::DuplicateHeader("Phone".into()))
    );
    assert_eq!(
        ImportReader::new(&b"Name,Notes\n"[..], none()).err(),
        Some(ImportError::NoPhoneColumn)
    );
    assert_eq!(
        read_headers(&b"Phone,,x\n"[..]).unwrap(),
        ["Phone", "column 2", "x"]
    );
}

#[test]
fn an_unclosed_quote_stops_the_import_instead_of_eating_memory() {
    let mut file = b"Name,Phone\nAnn,020 7946 0001\nBob,\"020 7946 0002\n".to_vec();
    let filler = b"x,020 7946 0003\n".repeat(100_000); // ~1.6 MB inside the open quote
    file.extend_from_slice(&filler);
    let mut reader = ImportReader::new(
        &file[..],
        ColumnMapping::default().with("Phone", ColumnRole::Phone),
    )
    .unwrap();
    assert!(reader.next().unwrap().is_ok());
    let stopped = reader.next().unwrap().unwrap_err();
    assert_eq!(stopped.line, 3);
    assert!(stopped.reason.contains("quote"), "{}", stopped.reason);
    assert!(reader.next().is_none());
    assert!(matches!(
        reader.fatal_error(),
        Some(ImportError::Unreadable { .. })
    ));
}

/// Generates a CSV file row by row, so the test never holds the whole file either.
/// One row in a hundred has a valid number; the rest have "n/a", which is rejected
/// before libphonenumber runs (validating 100,000 numbers takes a minute in debug builds).
struct GeneratedCsv {
    next_row: u32,
    rows: u32,
    pending: Vec<u8>,
}

impl Read for GeneratedCsv {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pending.is_empty() && self.next_row < self.rows {
            let n = self.next_row;
            let phone = if n.is_multiple_of(100) {
                format!("020 7946 0{:03}", (n / 100) % 1000)
            } else {
                "n/a".to_owned()
            };
            self.pending =
                format!("Person {n},\"Test\nRow\",{phone},Ward {}\n", n % 7).into_bytes();
            self.next_row += 1;
        }
        let n = self.pending.len().min(buf.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

#[test]
fn a_hundred_thousand_rows_stream_through() {
    let source = GeneratedCsv {
        next_row: 0,
        rows: 100_000,
        pending: b"First name,Last name,Phone,Ward\n".to_vec(),
    };
    let mapping = ColumnMapping::guess(&["First name", "Last name", "Phone", "Ward"]);
    let (mut imported, mut rejected) = (0u32, 0u32);
    let mut last_line = 0;
    for row in ImportReader::new(source, mapping).unwrap() {
        match row {
            Ok(contact) => {
                assert_eq!(contact.last_name.as_deref(), Some("Test\nRow"));
                imported += 1;
                last_line = contact.line;
            }
            Err(rejection) => {
                assert_eq!(
                    rejection.reason,
                    "not a phone number (contains 'n'): \"n/a\""
                );
                rejected += 1;
                last_line = rejection.line;
            }
        }
    }
    assert_eq!((imported, rejected), (1_000, 99_000));
    // Each row spans two lines (a quoted line break), after the one-line header.
    assert_eq!(last_line, 2 + 2 * 99_999);
}

#[test]
fn a_messy_export_keeps_every_callable_contact() {
    let file = "\
Name,Phone,Other phone,Email,Postcode
Ann,020 7946 0001,,ann@example.org,bad postcode
Bob,020 7946 0002,,,M13
Cy,020 7946 0003,12,cy@nowhere,ls6 3aa
Di,n/a,0113 496 0004,,
Ed,call me,,ed@example.org,LS6
";
    let rows = import(file.as_bytes());
    let kept: Vec<&ImportedContact> = rows.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(
        kept.len(),
        4,
        "only Ed, with no callable number, is rejected"
    );
    assert_eq!(kept[0].postcode, None);
    assert_eq!(kept[0].email.as_deref(), Some("ann@example.org"));
    assert_eq!(
        kept[1].postcode.as_deref(),
        Some("M13"),
        "a district is kept"
    );
    assert_eq!(kept[1].warnings, []);
    assert_eq!(kept[2].postcode.as_deref(), Some("LS6 3AA"));
    assert_eq!(
        warnings(kept[2]),
        [
            rejection(4, "Other phone", "not a phone number: \"12\"; left empty"),
            rejection(
                4,
                "Email",
                "not an email address: \"cy@nowhere\"; left empty"
            ),
        ]
    );
    assert_eq!(kept[3].phone_e164.as_str(), "+441134960004");
    assert_eq!(warnings(kept[3])[0].1, "Phone");
    let ed = rows[4].as_ref().unwrap_err();
    assert_eq!(ed.line, 6);
    assert_eq!(ed.fields, ["Ed", "call me", "", "ed@example.org", "LS6"]);
}

#[test]
fn rejected_rows_are_written_with_their_cells_and_re_import_once_fixed() {
    let file = "Name,Phone,Notes\nAnn,call me,=HYPERLINK(\"http://x\")\nBob,+44 20 7946 0002,ok\n";
    let headers = read_headers(file.as_bytes()).unwrap();
    let rejections: Vec<RowRejection> = import(file.as_bytes())
        .into_iter()
        .filter_map(Result::err)
        .collect();
    let mut out = Vec::new();
    write_rejected_rows(&mut out, &headers, &rejections).unwrap();
    let written = String::from_utf8(out).unwrap();
    assert_eq!(
        written,
        "Name,Phone,Notes,Rejected on line,Rejected column,Rejection reason\n\
         Ann,call me,\"'=HYPERLINK(\"\"http://x\"\")\",2,Phone,\"not a phone number (contains 'c'): \"\"call me\"\"\"\n"
    );

    let fixed = written.replace("call me", "+44 20 7946 0001");
    let again = import(fixed.as_bytes());
    let ann = again[0].as_ref().unwrap();
    assert_eq!(ann.phone_e164.as_str(), "+442079460001");
    assert_eq!(
        ann.extra.keys().collect::<Vec<_>>(),
        ["Name", "Notes"],
        "the report columns are not kept as fields"
    );

    // A second round drops the first round's report columns.
    let headers = read_headers(fixed.as_bytes()).unwrap();
    let mut out = Vec::new();
    write_rejected_rows(&mut out, &headers, &[]).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "Name,Phone,Notes,Rejected on line,Rejected column,Rejection reason\n"
    );
}

#[test]
fn import_reader_can_move_to_a_worker_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<ImportReader<std::fs::File>>();
}

#[test]
fn email_check_is_light() {
    assert_eq!(
        crate::email::normalise_email("Jo.Bloggs+pb@Example.Org").as_deref(),
        Some("Jo.Bloggs+pb@example.org")
    );
    for bad in [
        "jo",
        "jo@",
        "@example.org",
        "jo@example",
        "jo@@example.org",
        "jo @example.org",
        "jo@example..org",
    ] {
        assert_eq!(crate::email::normalise_email(bad), None, "{bad}");
    }
}

#[test]
fn a_nul_character_rejects_its_row_only() {
    let file = b"Name,Phone,Ward\nAsha,020 7946 0018,Hyde Park\nBen\0,07700 900123,\nCat,0161 496 0001,Ward\0 9\nDee,0161 496 0002,\n";
    let rows = import(file);
    assert_eq!(rows.len(), 4, "{rows:#?}");
    assert!(rows[0].is_ok());
    let nul = "contains a NUL character, which cannot be stored; remove it";
    assert_eq!(rejected(&rows[1]), Some(rejection(3, "Name", nul)));
    assert_eq!(rejected(&rows[2]), Some(rejection(4, "Ward", nul)));
    assert_eq!(rows[3].as_ref().unwrap().line, 5);
    assert_eq!(
        ImportReader::new(&b"Phone,No\0tes\n"[..], ColumnMapping::default()).err(),
        Some(ImportError::NulInHeader(2))
    );
}

#[test]
fn crm_id_columns_are_kept_as_external_ids_not_extra_fields() {
    let file = "\
VANID,Name,Phone,NationBuilder ID,Branch no
1001,Asha,020 7946 0018,nb-17,B4
,Ben,0113 496 0123,,
";
    let bytes = file.as_bytes();
    let headers = read_headers(bytes).unwrap();
    let mapping = ColumnMapping::guess_with(
        &headers,
        &[("Branch no".to_owned(), ColumnRole::ExternalId)],
    );
    let rows: Vec<_> = ImportReader::new(bytes, mapping).unwrap().collect();
    let asha = rows[0].as_ref().unwrap();
    assert_eq!(
        asha.external_ids,
        BTreeMap::from([
            ("Branch no".to_owned(), "B4".to_owned()),
            (NATIONBUILDER.to_owned(), "nb-17".to_owned()),
            (VAN.to_owned(), "1001".to_owned()),
        ])
    );
    assert_eq!(
        asha.extra,
        BTreeMap::from([("Name".to_owned(), "Asha".to_owned())])
    );
    let ben = rows[1].as_ref().unwrap();
    assert!(ben.external_ids.is_empty(), "blank ids are not kept");
}
