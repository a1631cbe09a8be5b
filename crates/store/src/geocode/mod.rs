//! Offline geocoding: a postcode, a postcode district or a town name to a point with a
//! precision. Full postcodes come from the `postcodes` table (filled by
//! `barnstorm import postcodes`), districts from the centroid table embedded in the
//! binary (`data/uk-outcodes.csv`), towns from a small hand-written table.
//!
//! It must not reach the network: the optional external geocoder lives in the web crate.

mod districts;
pub use districts::all_outcodes;
mod file;
mod towns;

pub use file::{
    PostcodeFileError, PostcodeFileFormat, PostcodeFileReader, PostcodeRow, RowOutcome,
};

use crate::binds::value_rows;
use crate::{Backend, Store, StoreError};
use barnstorm_domain::event::LocationPrecision;
use barnstorm_domain::geo::LatLon;
use barnstorm_domain::postcode::normalise_postcode;
use sqlx::Row;
use std::collections::HashMap;
use std::sync::LazyLock;

/// The attribution to show wherever postcode locations are used.
pub const POSTCODE_ATTRIBUTION: &str = "Contains OS data © Crown copyright and database right; contains Royal Mail data © Royal Mail copyright and database right; contains National Statistics data © Crown copyright and database right.";

static OUTCODES_CSV: &str = include_str!("../../data/uk-outcodes.csv");

/// District centroids, parsed once. Lines that do not parse are skipped (the file is
/// checked by a test).
static OUTCODES: LazyLock<HashMap<&'static str, LatLon>> = LazyLock::new(|| {
    OUTCODES_CSV
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.trim().split(',');
            let outcode = fields.next()?;
            let lat = fields.next()?.parse().ok()?;
            let lon = fields.next()?.parse().ok()?;
            Some((outcode, LatLon::new(lat, lon)))
        })
        .collect()
});

/// The centroid of a postcode district ("SW1A", case and spaces ignored), from the
/// table shipped in the binary; `None` for a district it does not know.
pub fn outcode_centroid(outcode: &str) -> Option<LatLon> {
    let key: String = outcode
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    OUTCODES.get(key.as_str()).copied()
}

/// Where a search landed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Place {
    /// The point.
    pub location: LatLon,
    /// How exact the point is: `Postcode` for an imported full postcode, `Outcode` for a
    /// district or town centre (`Exact` only from an external geocoder).
    pub precision: LocationPrecision,
    /// What the point stands for, to show: "SW1A 1AA", "SW1A" (a district, also when a
    /// full postcode fell back to its district), "Bath".
    pub label: String,
    /// The full postcode given, standardised ("SW1A 1AA"), when one was given.
    pub postcode: Option<String>,
}

/// Why a search found no place. Input errors ([`GeocodeError::is_input_error`]) carry
/// the text given and a message for the person who typed it (a 400/422); a store
/// failure is an outage (a 500) and its message is not for end users.
#[derive(Debug, thiserror::Error)]
pub enum GeocodeError {
    /// The text is not a postcode, a district or a place name.
    #[error("'{given}' is not a postcode or a place we can look up: {reason}")]
    Malformed {
        /// The text given, trimmed.
        given: String,
        /// What is wrong with it, for people.
        reason: String,
    },
    /// A well-formed postcode, district or name that is not in our tables.
    #[error("{}", unknown_message(given, *kind))]
    Unknown {
        /// The text given, trimmed (a postcode in its standard form).
        given: String,
        /// What the text looked like.
        kind: QueryKind,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a search text looked like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// A full postcode ("SW1A 1AA").
    Postcode,
    /// A postcode district ("SW1A").
    Outcode,
    /// A place name ("Bath").
    Town,
}

fn unknown_message(given: &str, kind: QueryKind) -> String {
    match kind {
        QueryKind::Postcode => format!(
            "'{given}' is not a postcode we know. Check it, or enter the postcode district (the part before the space)"
        ),
        QueryKind::Outcode => format!(
            "'{given}' is not a postcode district we know. Check it, or enter a full postcode or a town"
        ),
        QueryKind::Town => format!(
            "We could not find '{given}'. Enter a UK postcode (like SW1A 1AA), a postcode district (like SW1A) or a town"
        ),
    }
}

impl GeocodeError {
    /// True when the person's text is at fault (show the message, 400/422); false for
    /// a store failure (500).
    pub fn is_input_error(&self) -> bool {
        !matches!(self, Self::Store(_))
    }

    /// The text given, for "what and where" in an error response.
    pub fn given(&self) -> Option<&str> {
        match self {
            Self::Malformed { given, .. } | Self::Unknown { given, .. } => Some(given),
            Self::Store(_) => None,
        }
    }
}

/// A search text, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// A full postcode in its standard form.
    Postcode(String),
    /// A postcode district, upper case.
    Outcode(String),
    /// Anything else: a town, another place name or an address, trimmed.
    Town(String),
}

/// Sorts `raw` into a postcode, a district or a place name. Short text with digits (one
/// or two words of letters and digits) that is neither a postcode nor a district is a
/// malformed postcode; longer text ("10 Downing Street") is a place name.
pub fn classify(raw: &str) -> Result<Query, GeocodeError> {
    let given = raw.trim();
    if given.is_empty() {
        return Err(GeocodeError::Malformed {
            given: String::new(),
            reason: "enter a postcode, a postcode district or a town".into(),
        });
    }
    if let Ok(postcode) = normalise_postcode(given) {
        return Ok(Query::Postcode(postcode));
    }
    let compact: String = given
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if is_outcode(&compact) {
        return Ok(Query::Outcode(compact));
    }
    if looks_like_a_postcode(given) {
        return Err(GeocodeError::Malformed {
            given: given.to_owned(),
            reason: "a postcode looks like SW1A 1AA, and a postcode district like SW1A".into(),
        });
    }
    Ok(Query::Town(given.to_owned()))
}

/// One or two words of letters, digits and dashes, at most 8 of them, with a digit.
fn looks_like_a_postcode(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_digit())
        && s.split_whitespace().count() <= 2
        && s.chars().filter(|c| !c.is_whitespace()).count() <= 8
        && s.chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || c == '-')
}

/// The shapes of a district: A9, A99, AA9, AA99, A9A, AA9A.
fn is_outcode(s: &str) -> bool {
    let b = s.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    if !(1..=2).contains(&letters) || b.len() <= letters {
        return false;
    }
    let rest = &b[letters..];
    match rest {
        [d] => d.is_ascii_digit(),
        [d, e] => d.is_ascii_digit() && (e.is_ascii_digit() || e.is_ascii_uppercase()),
        _ => false,
    }
}

/// The place for a district, or `None`.
fn district_place(outcode: &str, postcode: Option<String>) -> Option<Place> {
    outcode_centroid(outcode).map(|location| Place {
        location,
        precision: LocationPrecision::Outcode,
        label: outcode.to_owned(),
        postcode,
    })
}

/// Looks up a district or town without the database (full postcodes fall back to
/// their district): what [`Store::geocode`] does when no postcodes were imported.
pub fn geocode_offline(query: &Query) -> Result<Place, GeocodeError> {
    match query {
        Query::Postcode(postcode) => {
            let outcode = postcode.split(' ').next().unwrap_or_default();
            district_place(outcode, Some(postcode.clone())).ok_or_else(|| GeocodeError::Unknown {
                given: postcode.clone(),
                kind: QueryKind::Postcode,
            })
        }
        Query::Outcode(outcode) => {
            district_place(outcode, None).ok_or_else(|| GeocodeError::Unknown {
                given: outcode.clone(),
                kind: QueryKind::Outcode,
            })
        }
        Query::Town(name) => towns::find_town(name)
            .and_then(|(town, district)| {
                outcode_centroid(district).map(|location| Place {
                    location,
                    precision: LocationPrecision::Outcode,
                    label: town.to_owned(),
                    postcode: None,
                })
            })
            .ok_or_else(|| GeocodeError::Unknown {
                given: name.clone(),
                kind: QueryKind::Town,
            }),
    }
}

/// Rows per multi-row `INSERT` into `postcodes` (3 binds each).
const POSTCODES_PER_INSERT: usize = 500;

impl Store {
    /// Finds `query` (a full postcode, a district or a town): an imported full postcode
    /// (precision `Postcode`), else its district's centroid (`Outcode`); a district's
    /// centroid; a town's district centroid.
    pub async fn geocode(&self, query: &str) -> Result<Place, GeocodeError> {
        let query = classify(query)?;
        if let Query::Postcode(postcode) = &query
            && let Some(location) = self.postcode_location(postcode).await?
        {
            return Ok(Place {
                location,
                precision: LocationPrecision::Postcode,
                label: postcode.clone(),
                postcode: Some(postcode.clone()),
            });
        }
        geocode_offline(&query)
    }

    /// The imported location of a full postcode in its standard form ("SW1A 1AA").
    pub async fn postcode_location(&self, postcode: &str) -> Result<Option<LatLon>, StoreError> {
        let row = sqlx::query("SELECT latitude, longitude FROM postcodes WHERE postcode = $1")
            .bind(postcode)
            .fetch_optional(self.reader())
            .await?;
        row.map(|r| Ok(LatLon::new(r.try_get("latitude")?, r.try_get("longitude")?)))
            .transpose()
    }

    /// Inserts or replaces full postcodes (standard form) and their locations, in one
    /// transaction; a postcode repeated in `rows` keeps its last location. Returns the
    /// number of distinct postcodes written.
    pub async fn upsert_postcodes(&self, rows: &[(String, LatLon)]) -> Result<u64, StoreError> {
        let mut last: HashMap<&str, LatLon> = HashMap::with_capacity(rows.len());
        for (postcode, location) in rows {
            last.insert(postcode.as_str(), *location);
        }
        let mut distinct: Vec<(&str, LatLon)> = last.into_iter().collect();
        distinct.sort_unstable_by(|a, b| a.0.cmp(b.0));
        if distinct.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        for chunk in distinct.chunks(POSTCODES_PER_INSERT) {
            let sql = upsert_sql(self.backend(), chunk.len());
            let mut query = sqlx::query(&sql);
            for (postcode, location) in chunk {
                query = query.bind(*postcode).bind(location.lat).bind(location.lon);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(distinct.len() as u64)
    }

    /// How many full postcodes have been imported.
    pub async fn postcode_count(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM postcodes")
            .fetch_one(self.reader())
            .await?;
        Ok(row.try_get("n")?)
    }
}

/// `INSERT … VALUES (…), … ON CONFLICT DO UPDATE` for `rows` rows.
fn upsert_sql(backend: Backend, rows: usize) -> String {
    format!(
        "INSERT INTO postcodes (postcode, latitude, longitude) VALUES {} \
         ON CONFLICT (postcode) DO UPDATE SET latitude = excluded.latitude, longitude = excluded.longitude",
        value_rows(backend, rows, 3)
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_district_table_parses_completely() {
        let lines = OUTCODES_CSV
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty());
        assert_eq!(OUTCODES.len(), lines.count());
        assert!(OUTCODES.len() > 2900);
        for (outcode, p) in OUTCODES.iter() {
            assert!(is_outcode(outcode), "{outcode}");
            assert!(
                (49.0..61.0).contains(&p.lat) && (-8.7..2.0).contains(&p.lon),
                "{outcode}"
            );
        }
        let bath = outcode_centroid(" ba1").unwrap();
        assert!((bath.lat - 51.38).abs() < 0.05 && (bath.lon + 2.36).abs() < 0.05);
        assert_eq!(outcode_centroid("ZZ99"), None);
    }

    #[test]
    fn queries_are_classified_by_shape() {
        assert_eq!(
            classify(" sw1a1aa ").unwrap(),
            Query::Postcode("SW1A 1AA".into())
        );
        assert_eq!(classify("sw1a").unwrap(), Query::Outcode("SW1A".into()));
        assert_eq!(classify("M1").unwrap(), Query::Outcode("M1".into()));
        assert_eq!(classify("cf10").unwrap(), Query::Outcode("CF10".into()));
        assert_eq!(classify("Bath").unwrap(), Query::Town("Bath".into()));
        assert_eq!(
            classify("10 Downing Street").unwrap(),
            Query::Town("10 Downing Street".into())
        );
        for bad in ["", "   ", "12345", "SW1A 1AAA", "SW1A-1", "M1 1A"] {
            let err = classify(bad).unwrap_err();
            assert!(
                matches!(err, GeocodeError::Malformed { .. }),
                "{bad:?}: {err:?}"
            );
            assert!(err.is_input_error());
        }
    }

    #[test]
    fn offline_lookups_and_messages() {
        let place = geocode_offline(&classify("SW1A 1AA").unwrap()).unwrap();
        assert_eq!(place.precision, LocationPrecision::Outcode);
        assert_eq!(place.label, "SW1A");
        assert_eq!(place.postcode.as_deref(), Some("SW1A 1AA"));
        let bath = geocode_offline(&classify("bath").unwrap()).unwrap();
        assert_eq!(
            (bath.label.as_str(), bath.location),
            ("Bath", outcode_centroid("BA1").unwrap())
        );
        let err = geocode_offline(&classify("zz99 9zz").unwrap()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "'ZZ99 9ZZ' is not a postcode we know. Check it, or enter the postcode district (the part before the space)"
        );
        assert_eq!(err.given(), Some("ZZ99 9ZZ"));
        let err = geocode_offline(&classify("Atlantis").unwrap()).unwrap_err();
        assert!(err.to_string().contains("'Atlantis'"), "{err}");
    }

    #[test]
    fn upsert_sql_numbers_binds_per_backend() {
        assert_eq!(
            upsert_sql(Backend::Postgres, 2)
                .split(" ON CONFLICT")
                .next()
                .unwrap(),
            "INSERT INTO postcodes (postcode, latitude, longitude) VALUES ($1, $2, $3), ($4, $5, $6)"
        );
        assert!(upsert_sql(Backend::Sqlite, 2).contains("VALUES (?, ?, ?), (?, ?, ?) ON"));
    }
}
