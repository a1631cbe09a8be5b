//! Reading the query parameters that event discovery shares (map, search, feeds and the
//! API): event types, dates, radius and the map's viewport. Each problem names the
//! parameter at fault; turning it into a 400/422 or a page message is the caller's job.

use barnstorm_domain::event::EventKind;
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;

/// The time zone dates in query strings are read in (`from=2025-12-01` is midnight there).
pub(crate) const QUERY_ZONE: Tz = chrono_tz::Europe::London;

/// Radius presets offered by the search form, in km.
pub(crate) const RADIUS_PRESETS: [u32; 5] = [1, 5, 10, 25, 50];
/// The radius used when none is given.
pub(crate) const DEFAULT_RADIUS_KM: f64 = 10.0;
/// The largest radius anyone may search.
pub(crate) const MAX_RADIUS_KM: f64 = 200.0;

/// A query parameter that could not be used.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParamError {
    /// The parameter's name, as in the query string.
    pub field: &'static str,
    /// What is wrong, for people.
    pub message: String,
}

impl ParamError {
    pub(crate) fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }

    /// As an API error with `status` (400 for the map, 422 for the API).
    pub(crate) fn api(self, status: axum::http::StatusCode) -> crate::ApiError {
        let code = if status == axum::http::StatusCode::BAD_REQUEST {
            "invalid_parameter"
        } else {
            "invalid_input"
        };
        crate::ApiError::new(status, code, self.message.clone())
            .with_details(serde_json::json!({ "field": self.field, "problem": self.message }))
    }
}

/// A present, non-blank parameter value.
pub(crate) fn given(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|v| !v.is_empty())
}

/// `types=canvass,phonebank` → the kinds; empty or absent → every kind (an empty list).
pub(crate) fn parse_kinds(
    field: &'static str,
    raw: Option<&str>,
) -> Result<Vec<EventKind>, ParamError> {
    let Some(raw) = given(raw) else {
        return Ok(Vec::new());
    };
    let mut kinds = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let kind: EventKind =
            name.parse()
                .map_err(|e: barnstorm_domain::event::UnknownChoice| {
                    ParamError::new(field, e.to_string())
                })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

/// `from=YYYY-MM-DD`: the start of that day in [`QUERY_ZONE`], in ms. With `end_of_day`,
/// the start of the next day (so `to` includes the whole day).
pub(crate) fn parse_day(
    field: &'static str,
    raw: Option<&str>,
    end_of_day: bool,
) -> Result<Option<i64>, ParamError> {
    let Some(raw) = given(raw) else {
        return Ok(None);
    };
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| ParamError::new(field, format!("'{raw}' is not a date; use YYYY-MM-DD")))?;
    let day = if end_of_day {
        day.succ_opt()
            .ok_or_else(|| ParamError::new(field, format!("'{raw}' is out of range")))?
    } else {
        day
    };
    let midnight = day
        .and_hms_opt(0, 0, 0)
        .ok_or_else(|| ParamError::new(field, format!("'{raw}' is out of range")))?;
    QUERY_ZONE
        .from_local_datetime(&midnight)
        .earliest()
        .map(|t| Some(t.timestamp_millis()))
        .ok_or_else(|| ParamError::new(field, format!("'{raw}' is out of range")))
}

/// An RFC 3339 time (`2025-12-01T10:00:00Z`) in ms.
pub(crate) fn parse_instant(
    field: &'static str,
    raw: Option<&str>,
) -> Result<Option<i64>, ParamError> {
    let Some(raw) = given(raw) else {
        return Ok(None);
    };
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| Some(t.timestamp_millis()))
        .map_err(|_| {
            ParamError::new(
                field,
                format!("'{raw}' is not an RFC 3339 time; use e.g. 2025-12-01T10:00:00Z"),
            )
        })
}

/// A radius in km: absent → `default`; otherwise a number above 0 and at most `max`.
pub(crate) fn parse_radius(
    field: &'static str,
    raw: Option<&str>,
    default: f64,
    max: f64,
) -> Result<f64, ParamError> {
    let Some(raw) = given(raw) else {
        return Ok(default);
    };
    match raw.parse::<f64>() {
        Ok(km) if km.is_finite() && km > 0.0 && km <= max => Ok(km),
        _ => Err(ParamError::new(
            field,
            format!("'{raw}' is not a distance; give km above 0 and at most {max}"),
        )),
    }
}

/// Parses an optional number within `range`.
fn number_in(
    field: &'static str,
    raw: Option<&str>,
    range: std::ops::RangeInclusive<f64>,
) -> Result<f64, ParamError> {
    let Some(raw) = given(raw) else {
        return Err(ParamError::new(field, format!("'{field}' is required")));
    };
    match raw.parse::<f64>() {
        Ok(v) if v.is_finite() && range.contains(&v) => Ok(v),
        _ => Err(ParamError::new(
            field,
            format!(
                "'{raw}' is not a valid {field}; give a number from {} to {}",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// The map's viewport: edges in degrees and the zoom level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Viewport {
    pub south: f64,
    pub west: f64,
    pub north: f64,
    pub east: f64,
    pub zoom: u8,
}

/// The highest zoom level the map asks for.
pub(crate) const MAX_ZOOM: u8 = 22;

/// Reads `south`, `west`, `north`, `east` and `zoom`.
pub(crate) fn parse_viewport(
    south: Option<&str>,
    west: Option<&str>,
    north: Option<&str>,
    east: Option<&str>,
    zoom: Option<&str>,
) -> Result<Viewport, ParamError> {
    let south = number_in("south", south, -90.0..=90.0)?;
    let north = number_in("north", north, -90.0..=90.0)?;
    let west = number_in("west", west, -180.0..=180.0)?;
    let east = number_in("east", east, -180.0..=180.0)?;
    if south > north {
        return Err(ParamError::new("north", "north must not be south of south"));
    }
    if west > east {
        return Err(ParamError::new("east", "east must not be west of west"));
    }
    // Leaflet may send a fractional zoom while animating; the grid uses whole levels.
    let zoom = number_in("zoom", zoom, 0.0..=f64::from(MAX_ZOOM))?.floor() as u8;
    Ok(Viewport {
        south,
        west,
        north,
        east,
        zoom,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_checked_and_deduplicated() {
        assert_eq!(parse_kinds("types", None).unwrap(), vec![]);
        assert_eq!(
            parse_kinds("types", Some("canvass, phonebank,canvass")).unwrap(),
            vec![EventKind::Canvass, EventKind::Phonebank]
        );
        let err = parse_kinds("types", Some("canvass,rave")).unwrap_err();
        assert_eq!(err.field, "types");
        assert!(err.message.contains("rave"), "{}", err.message);
    }

    #[test]
    fn days_are_london_midnights() {
        // 1 July 2025 is in BST (UTC+1): midnight there is 23:00 UTC the day before.
        let from = parse_day("from", Some("2025-07-01"), false)
            .unwrap()
            .unwrap();
        assert_eq!(from, 1_751_324_400_000);
        let to = parse_day("to", Some("2025-07-01"), true).unwrap().unwrap();
        assert_eq!(to - from, 24 * 3_600_000);
        assert!(parse_day("from", Some("1/7/2025"), false).is_err());
        assert_eq!(parse_day("from", Some(" "), false).unwrap(), None);
    }

    #[test]
    fn viewports_must_be_sane() {
        let ok = parse_viewport(Some("50"), Some("-5"), Some("55"), Some("1"), Some("7")).unwrap();
        assert_eq!(ok.zoom, 7);
        let err =
            parse_viewport(Some("56"), Some("-5"), Some("55"), Some("1"), Some("7")).unwrap_err();
        assert_eq!(err.field, "north");
        let err =
            parse_viewport(Some("50"), Some("-5"), Some("55"), Some("1"), Some("40")).unwrap_err();
        assert_eq!(err.field, "zoom");
        let err =
            parse_viewport(Some("x"), Some("-5"), Some("55"), Some("1"), Some("4")).unwrap_err();
        assert_eq!(err.field, "south");
        let err = parse_viewport(Some("50"), None, Some("55"), Some("1"), Some("4")).unwrap_err();
        assert_eq!(err.field, "west");
    }

    #[test]
    fn radius_has_bounds() {
        assert_eq!(parse_radius("radius_km", None, 10.0, 200.0).unwrap(), 10.0);
        assert_eq!(
            parse_radius("radius_km", Some("25"), 10.0, 200.0).unwrap(),
            25.0
        );
        assert!(parse_radius("radius_km", Some("0"), 10.0, 200.0).is_err());
        assert!(parse_radius("radius_km", Some("201"), 10.0, 200.0).is_err());
        assert!(parse_radius("radius_km", Some("NaN"), 10.0, 200.0).is_err());
    }
}
