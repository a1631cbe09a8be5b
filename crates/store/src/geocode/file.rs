//! Reading postcode files for `barnstorm import postcodes`, row by row so a 1.4 GB
//! ONSPD file never sits in memory: the ONS Postcode Directory (a header naming `pcds`
//! or `pcd`, `lat` and `long`) and OS Code-Point Open (postcode, quality, eastings,
//! northings, …; with or without a header). Parsing only: the caller writes batches
//! with [`crate::Store::upsert_postcodes`].

use barnstorm_domain::geo::{LatLon, osgb36_to_wgs84};
use barnstorm_domain::postcode::normalise_postcode;
use std::io::Read;

/// Which kind of file was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostcodeFileFormat {
    /// ONS Postcode Directory (WGS84 `lat`/`long` columns).
    Onspd,
    /// OS Code-Point Open (British National Grid eastings and northings).
    CodePoint,
}

/// A located postcode.
#[derive(Debug, Clone, PartialEq)]
pub struct PostcodeRow {
    /// The postcode in its standard form ("SW1A 1AA").
    pub postcode: String,
    /// Its WGS84 position.
    pub location: LatLon,
}

/// What one data row holds.
#[derive(Debug, Clone, PartialEq)]
pub enum RowOutcome {
    /// A postcode with a location, to import.
    Located(PostcodeRow),
    /// A terminated postcode (ONSPD `doterm` set), skipped.
    Terminated,
    /// A postcode without coordinates (ONSPD lat 99.999999, Code-Point quality 90),
    /// skipped.
    NoLocation,
    /// A row that cannot be read, with the reason.
    Rejected(String),
}

/// Why the file as a whole cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PostcodeFileError {
    /// Its first line is neither an ONSPD header nor a Code-Point row or header.
    #[error(
        "not an ONS Postcode Directory or Code-Point Open file: expected a header naming pcds (or pcd), lat and long, or rows of postcode, quality, eastings, northings"
    )]
    UnknownFormat,
    /// Reading failed.
    #[error("cannot read the file: {0}")]
    Read(#[from] csv::Error),
}

/// Column positions of the recognised format.
#[derive(Debug, Clone, Copy)]
enum Columns {
    Onspd {
        postcode: usize,
        lat: usize,
        lon: usize,
        terminated: Option<usize>,
    },
    CodePoint,
}

/// Streams a postcode file: yields `(line number, outcome)` for each data row, or a
/// read error (fatal: stop the import).
pub struct PostcodeFileReader<R: Read> {
    reader: csv::Reader<R>,
    columns: Columns,
    /// A first line that was data, not a header (Code-Point without a header).
    pending: Option<csv::ByteRecord>,
    record: csv::ByteRecord,
    /// Records read so far, the header included: the line number in these files, which
    /// have one record per line (csv's own line count lags by one on CRLF files).
    records: u64,
}

fn text(record: &csv::ByteRecord, i: usize) -> &str {
    record
        .get(i)
        .and_then(|f| std::str::from_utf8(f).ok())
        .unwrap_or("")
        .trim()
}

fn header_index(record: &csv::ByteRecord, names: &[&str]) -> Option<usize> {
    names.iter().find_map(|name| {
        (0..record.len()).find(|&i| {
            text(record, i)
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(name)
        })
    })
}

impl<R: Read> PostcodeFileReader<R> {
    /// Reads the first line and recognises the format.
    pub fn new(source: R) -> Result<Self, PostcodeFileError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(source);
        let mut first = csv::ByteRecord::new();
        if !reader.read_byte_record(&mut first)? {
            return Err(PostcodeFileError::UnknownFormat);
        }
        let (columns, pending) = if let (Some(postcode), Some(lat), Some(lon)) = (
            header_index(&first, &["pcds", "pcd", "pcd2"]),
            header_index(&first, &["lat"]),
            header_index(&first, &["long", "lon"]),
        ) {
            let terminated = header_index(&first, &["doterm"]);
            let columns = Columns::Onspd {
                postcode,
                lat,
                lon,
                terminated,
            };
            (columns, None)
        } else if header_index(&first, &["postcode"]) == Some(0)
            && header_index(&first, &["eastings"]) == Some(2)
            && header_index(&first, &["northings"]) == Some(3)
        {
            (Columns::CodePoint, None)
        } else if normalise_postcode(text(&first, 0)).is_ok()
            && text(&first, 2).parse::<f64>().is_ok()
            && text(&first, 3).parse::<f64>().is_ok()
        {
            (Columns::CodePoint, Some(first))
        } else {
            return Err(PostcodeFileError::UnknownFormat);
        };
        Ok(Self {
            reader,
            columns,
            pending,
            record: csv::ByteRecord::new(),
            records: 1,
        })
    }

    /// The format recognised.
    pub fn format(&self) -> PostcodeFileFormat {
        match self.columns {
            Columns::Onspd { .. } => PostcodeFileFormat::Onspd,
            Columns::CodePoint => PostcodeFileFormat::CodePoint,
        }
    }
}

/// ONSPD writes this latitude for postcodes it has no grid reference for.
const ONSPD_NO_LATITUDE: f64 = 99.999_999;
/// Code-Point Open's positional quality for "no coordinates".
const CODEPOINT_NO_LOCATION: &str = "90";

fn number(raw: &str, what: &str) -> Result<f64, String> {
    raw.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| format!("{what} '{raw}' is not a number"))
}

fn outcome(columns: Columns, record: &csv::ByteRecord) -> RowOutcome {
    let (postcode_at, raw) = match columns {
        Columns::Onspd { postcode, .. } => (postcode, text(record, postcode)),
        Columns::CodePoint => (0, text(record, 0)),
    };
    let Ok(postcode) = normalise_postcode(raw) else {
        return RowOutcome::Rejected(if raw.is_empty() {
            format!("no postcode in column {}", postcode_at + 1)
        } else {
            format!("'{raw}' is not a postcode")
        });
    };
    let located = match columns {
        Columns::Onspd {
            lat,
            lon,
            terminated,
            ..
        } => {
            if terminated.is_some_and(|i| !text(record, i).is_empty()) {
                return RowOutcome::Terminated;
            }
            let (lat, lon) = (text(record, lat), text(record, lon));
            if lat.is_empty() || lon.is_empty() {
                return RowOutcome::NoLocation;
            }
            number(lat, "latitude").and_then(|lat| {
                if (lat - ONSPD_NO_LATITUDE).abs() < 1e-6 {
                    return Err(String::new());
                }
                Ok(LatLon::new(lat, number(lon, "longitude")?))
            })
        }
        Columns::CodePoint => {
            if text(record, 1) == CODEPOINT_NO_LOCATION {
                return RowOutcome::NoLocation;
            }
            number(text(record, 2), "easting").and_then(|e| {
                let n = number(text(record, 3), "northing")?;
                if e == 0.0 && n == 0.0 {
                    return Err(String::new());
                }
                if !(0.0..=800_000.0).contains(&e) || !(0.0..=1_400_000.0).contains(&n) {
                    return Err(format!("{e}, {n} is outside the National Grid"));
                }
                Ok(osgb36_to_wgs84(e, n))
            })
        }
    };
    match located {
        Ok(location)
            if (-90.0..=90.0).contains(&location.lat)
                && (-180.0..=180.0).contains(&location.lon) =>
        {
            RowOutcome::Located(PostcodeRow { postcode, location })
        }
        Ok(location) => RowOutcome::Rejected(format!(
            "{}, {} is not a latitude and longitude",
            location.lat, location.lon
        )),
        Err(reason) if reason.is_empty() => RowOutcome::NoLocation,
        Err(reason) => RowOutcome::Rejected(reason),
    }
}

impl<R: Read> Iterator for PostcodeFileReader<R> {
    type Item = Result<(u64, RowOutcome), PostcodeFileError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let outcome = match self.pending.take() {
                Some(first) => outcome(self.columns, &first),
                None => match self.reader.read_byte_record(&mut self.record) {
                    Ok(true) => {
                        self.records += 1;
                        // Lines of blanks (spaces, commas) are not rows.
                        if self.record.iter().all(|f| f.trim_ascii().is_empty()) {
                            continue;
                        }
                        outcome(self.columns, &self.record)
                    }
                    Ok(false) => return None,
                    Err(e) => return Some(Err(e.into())),
                },
            };
            return Some(Ok((self.records, outcome)));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use barnstorm_domain::geo::distance_km;

    const ONSPD: &str = include_str!("../../tests/fixtures/onspd-sample.csv");
    const CODEPOINT: &str = include_str!("../../tests/fixtures/codepoint-sample.csv");

    fn read_all(text: &str) -> (PostcodeFileFormat, Vec<(u64, RowOutcome)>) {
        let reader = PostcodeFileReader::new(text.as_bytes()).unwrap();
        let format = reader.format();
        (format, reader.map(Result::unwrap).collect())
    }

    fn located(rows: &[(u64, RowOutcome)], postcode: &str) -> LatLon {
        rows.iter()
            .find_map(|(_, o)| match o {
                RowOutcome::Located(r) if r.postcode == postcode => Some(r.location),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{postcode} not located"))
    }

    fn count(rows: &[(u64, RowOutcome)], want: fn(&RowOutcome) -> bool) -> usize {
        rows.iter().filter(|(_, o)| want(o)).count()
    }

    #[test]
    fn reads_the_ons_postcode_directory() {
        let (format, rows) = read_all(ONSPD);
        assert_eq!(format, PostcodeFileFormat::Onspd);
        assert_eq!(rows.len(), 16);
        assert_eq!(count(&rows, |o| matches!(o, RowOutcome::Located(_))), 11);
        assert_eq!(count(&rows, |o| *o == RowOutcome::Terminated), 2);
        assert_eq!(count(&rows, |o| *o == RowOutcome::NoLocation), 1);
        let rejected: Vec<(u64, String)> = rows
            .iter()
            .filter_map(|(line, o)| match o {
                RowOutcome::Rejected(reason) => Some((*line, reason.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            rejected,
            [
                (15, "'NOT A CODE' is not a postcode".to_owned()),
                (16, "latitude 'fifty' is not a number".to_owned())
            ]
        );
        // pcds wins over the padded pcd column.
        assert_eq!(
            located(&rows, "B1 1BB"),
            LatLon::new(52.479_585, -1.908_085)
        );
        assert_eq!(
            located(&rows, "SW1A 1AA"),
            LatLon::new(51.501_009, -0.141_588)
        );
    }

    #[test]
    fn reads_code_point_open_with_or_without_a_header() {
        let (format, rows) = read_all(CODEPOINT);
        assert_eq!(format, PostcodeFileFormat::CodePoint);
        assert_eq!(rows.len(), 14);
        assert_eq!(rows[0].0, 1, "the first line is data");
        assert_eq!(count(&rows, |o| matches!(o, RowOutcome::Located(_))), 11);
        assert_eq!(count(&rows, |o| *o == RowOutcome::NoLocation), 1);
        assert_eq!(count(&rows, |o| matches!(o, RowOutcome::Rejected(_))), 2);
        // Expected WGS84 positions computed with PROJ's Helmert pipeline.
        let palace = located(&rows, "SW1A 1AA");
        assert!(distance_km(palace, LatLon::new(51.501_008_93, -0.141_587_60)) < 0.001);
        let manchester = located(&rows, "M1 1AE");
        assert!(distance_km(manchester, LatLon::new(53.479_372_46, -2.244_813_39)) < 0.001);

        let with_header = format!(
            "\u{feff}Postcode,Positional_quality_indicator,Eastings,Northings,Country_code\n{CODEPOINT}"
        );
        let (format, rows) = read_all(&with_header);
        assert_eq!(format, PostcodeFileFormat::CodePoint);
        assert_eq!(rows.len(), 14);
        assert_eq!(rows[0].0, 2);
    }

    #[test]
    fn refuses_files_of_another_kind() {
        for text in [
            "",
            "name,phone\nAda,020 7946 0000\n",
            "SW1A 1AA,10,east,north\n",
        ] {
            assert!(
                matches!(
                    PostcodeFileReader::new(text.as_bytes()),
                    Err(PostcodeFileError::UnknownFormat)
                ),
                "{text:?}"
            );
        }
    }
}
