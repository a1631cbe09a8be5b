//! Phone numbers: turning what people type or paste into a spreadsheet into E.164.
//!
//! Owns the cleaning rules (spaces, dashes, brackets, `+44`, `0044`, a leading `'` or
//! `tel:`) and the validity check, which is libphonenumber's (via the `phonenumber` crate).
//! It must not decide whether a number may be *called* (suppression, TPS and calling hours
//! live elsewhere); it only says whether the text is a real, diallable number.

use std::fmt;
use std::str::FromStr;

use phonenumber::country::Id;
use phonenumber::{Mode, ParseError, Type};
use serde::{Deserialize, Serialize};

/// The country whose national format is assumed when a number has no `+` country code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region(Id);

impl Region {
    /// The United Kingdom, Barnstorm's default: `020 7946 0018` means `+44 20 7946 0018`.
    pub const GB: Region = Region(Id::GB);

    /// The region for a two-letter ISO 3166 code such as `"GB"` or `"IE"`, if known.
    pub fn from_iso_code(code: &str) -> Option<Region> {
        Id::from_str(&code.trim().to_ascii_uppercase())
            .ok()
            .map(Region)
    }

    /// The two-letter ISO 3166 code, e.g. `"GB"`.
    pub fn iso_code(self) -> String {
        self.0.as_ref().to_owned()
    }

    /// How a user would name the region in an error message ("UK" for GB).
    fn adjective(self) -> String {
        if self == Region::GB {
            "UK".to_owned()
        } else {
            self.iso_code()
        }
    }
}

impl Default for Region {
    fn default() -> Self {
        Region::GB
    }
}

/// A validated phone number in E.164 form, e.g. `+442079460018`.
///
/// Serialises as the bare E.164 string. Deserialising checks only the E.164 shape, so
/// numbers stored before a libphonenumber metadata update still load.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// The E.164 text, e.g. `+442079460018`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A `tel:` URI for the caller's "dial" button, e.g. `tel:+442079460018`.
    pub fn tel_uri(&self) -> String {
        format!("tel:{}", self.0)
    }

    /// The number as people in `region` would write it, e.g. `020 7946 0018` for GB, or
    /// the international format (`+353 …`) for a number from another country.
    pub fn display_for(&self, region: Region) -> String {
        match phonenumber::parse(None, &self.0) {
            Ok(parsed) if parsed.country().id() == Some(region.0) => {
                parsed.format().mode(Mode::National).to_string()
            }
            Ok(parsed) => parsed.format().mode(Mode::International).to_string(),
            Err(_) => self.0.clone(),
        }
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<PhoneNumber> for String {
    fn from(number: PhoneNumber) -> String {
        number.0
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        let digits = value.strip_prefix('+').unwrap_or("");
        let shape_ok = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if shape_ok {
            Ok(PhoneNumber(value))
        } else {
            Err(PhoneError::NotE164)
        }
    }
}

/// Why a piece of text is not a usable phone number. The messages are shown to organisers
/// next to the CSV line or form field they came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Nothing was given.
    #[error("no phone number given")]
    Empty,
    /// The text contains letters or symbols that never appear in a phone number.
    #[error("not a phone number (contains {0:?})")]
    UnexpectedCharacter(char),
    /// Too few digits to be any phone number.
    #[error("not a phone number")]
    NotANumber,
    /// Fewer digits than any number in that country.
    #[error("too short to be a phone number")]
    TooShort,
    /// More digits than any number in that country.
    #[error("too long to be a phone number")]
    TooLong,
    /// The `+` or `00` prefix is followed by a code no country uses.
    #[error("unknown country code")]
    UnknownCountryCode,
    /// Right length, but no such number range is in use (e.g. Ofcom's drama mobiles).
    #[error("not a valid {region} number")]
    InvalidForRegion {
        /// "UK", or the ISO code of the number's country.
        region: String,
    },
    /// A premium-rate number: volunteers must never be asked to ring one.
    #[error("premium-rate number: volunteers must not be asked to ring it")]
    PremiumRate,
    /// Stored text that is not in E.164 form.
    #[error("not an E.164 phone number (expected + and 8 to 15 digits)")]
    NotE164,
}

/// Normalises `raw` to E.164, reading numbers without a country code as numbers of
/// `default_region`.
///
/// Accepts spaces, dashes, dots, brackets, a `+44` / `0044` prefix, the `(0)` in
/// `+44 (0)20 …`, and the leading `'` or `tel:` that spreadsheets and web pages add.
/// Rejects letters (so `ext. 12` or `n/a` are reported rather than guessed at),
/// numbers libphonenumber does not consider valid, and premium-rate numbers.
pub fn normalise_phone(raw: &str, default_region: Region) -> Result<PhoneNumber, PhoneError> {
    let cleaned = clean(raw)?;
    let parsed = phonenumber::parse(Some(default_region.0), &cleaned).map_err(|e| match e {
        ParseError::NoNumber | ParseError::MalformedInteger(_) => PhoneError::NotANumber,
        ParseError::InvalidCountryCode => PhoneError::UnknownCountryCode,
        ParseError::TooShortAfterIdd | ParseError::TooShortNsn => PhoneError::TooShort,
        ParseError::TooLong => PhoneError::TooLong,
    })?;
    // `number_type` is `Unknown` exactly when the number is invalid, except for
    // countries whose numbers keep leading zeros, where `is_valid` is authoritative.
    // Asking for the type first saves a second pass over the metadata on the usual path.
    let kind = parsed.number_type(&phonenumber::metadata::DATABASE);
    if kind == Type::PremiumRate {
        return Err(PhoneError::PremiumRate);
    }
    if kind == Type::Unknown && !parsed.is_valid() {
        let region = parsed.country().id().map(Region).unwrap_or(default_region);
        return Err(length_error(&parsed, region));
    }
    let e164 = parsed.format().mode(Mode::E164).to_string();
    // A number kept with a leading zero after the country code ("00 010001001" read in
    // Ireland as +353 010001001) would read back as a different number, so the same person
    // could be stored twice; only a number that reads back as itself is accepted.
    if parsed.national().zeros() > 0
        && phonenumber::parse(None, &e164)
            .map(|again| again.format().mode(Mode::E164).to_string() != e164)
            .unwrap_or(true)
    {
        let region = parsed.country().id().map(Region).unwrap_or(default_region);
        return Err(PhoneError::InvalidForRegion {
            region: region.adjective(),
        });
    }
    PhoneNumber::try_from(e164)
}

/// Strips decoration and rejects characters that never belong in a phone number.
fn clean(raw: &str) -> Result<String, PhoneError> {
    let mut text = raw.trim().trim_start_matches('\'').trim();
    if text
        .get(..4)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("tel:"))
    {
        text = text[4..].trim();
    }
    if text.is_empty() {
        return Err(PhoneError::Empty);
    }
    // "+44 (0)20 7946 0018" is a common UK way of writing the optional trunk zero.
    let without_trunk_hint = text.replace("(0)", "");
    let mut cleaned = String::with_capacity(without_trunk_hint.len());
    for (index, c) in without_trunk_hint.chars().enumerate() {
        match c {
            '0'..='9' => cleaned.push(c),
            '+' if index == 0 => cleaned.push(c),
            // Spaces, no-break spaces and the dashes word processors substitute.
            ' '
            | '\u{a0}'
            | '\t'
            | '-'
            | '\u{2010}'..='\u{2013}'
            | '\u{2212}'
            | '.'
            | '('
            | ')'
            | '/' => {}
            other => return Err(PhoneError::UnexpectedCharacter(other)),
        }
    }
    if cleaned.trim_start_matches('+').len() < 3 {
        return Err(PhoneError::NotANumber);
    }
    Ok(cleaned)
}

/// Chooses between "too short", "too long" and "not valid" for a number that parsed but
/// failed validation, using the lengths of real numbers in its region.
fn length_error(parsed: &phonenumber::PhoneNumber, region: Region) -> PhoneError {
    let digits = parsed.national().to_string().len();
    // UK national significant numbers are 9 or 10 digits (7 for a few legacy ranges).
    let (shortest, longest) = if region == Region::GB {
        (9, 10)
    } else {
        (4, 14)
    };
    if digits < shortest {
        PhoneError::TooShort
    } else if digits > longest {
        PhoneError::TooLong
    } else {
        PhoneError::InvalidForRegion {
            region: region.adjective(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn gb(raw: &str) -> Result<String, PhoneError> {
        normalise_phone(raw, Region::GB).map(String::from)
    }

    #[test]
    fn accepts_ofcom_drama_numbers_in_the_ways_people_write_them() {
        let london = Ok("+442079460018".to_owned());
        for raw in [
            "020 7946 0018",
            "02079460018",
            "020-7946-0018",
            "(020) 7946 0018",
            "+44 20 7946 0018",
            "+44 (0)20 7946 0018",
            "0044 20 7946 0018",
            "'02079460018",
            "tel:+442079460018",
            "TEL: 020 7946 0018",
            "  020 7946 0018  ",
        ] {
            assert_eq!(gb(raw), london, "input {raw:?}");
        }
        assert_eq!(gb("0113 496 0123"), Ok("+441134960123".to_owned()));
        assert_eq!(gb("0161 496 0999"), Ok("+441614960999".to_owned()));
        assert_eq!(gb("029 2018 0500"), Ok("+442920180500".to_owned()));
    }

    #[test]
    fn drama_mobile_range_is_rejected_as_not_a_valid_uk_number() {
        let err = gb("07700 900123").unwrap_err();
        assert_eq!(
            err,
            PhoneError::InvalidForRegion {
                region: "UK".into()
            }
        );
        assert_eq!(err.to_string(), "not a valid UK number");
    }

    #[test]
    fn explains_why_text_is_not_a_number() {
        assert_eq!(gb(""), Err(PhoneError::Empty));
        assert_eq!(gb("'"), Err(PhoneError::Empty));
        assert_eq!(gb("n/a"), Err(PhoneError::UnexpectedCharacter('n')));
        assert_eq!(
            gb("020 7946 0018 ext 4"),
            Err(PhoneError::UnexpectedCharacter('e'))
        );
        assert_eq!(gb("12"), Err(PhoneError::NotANumber));
        assert_eq!(gb("€€"), Err(PhoneError::UnexpectedCharacter('€')));
        assert_eq!(gb("020\u{2013}7946\u{2013}0018").unwrap(), "+442079460018");
        assert_eq!(gb("020 7946"), Err(PhoneError::TooShort));
        assert_eq!(gb("020 7946 0018 1234"), Err(PhoneError::TooLong));
        assert_eq!(gb("020 7946 0018").unwrap(), "+442079460018");
    }

    #[test]
    fn premium_rate_numbers_are_refused() {
        // Ofcom's drama range for premium-rate services.
        assert_eq!(gb("0909 879 0000"), Err(PhoneError::PremiumRate));
    }

    #[test]
    fn error_messages_read_as_reasons() {
        assert_eq!(
            PhoneError::TooShort.to_string(),
            "too short to be a phone number"
        );
        assert!(
            gb("n/a")
                .unwrap_err()
                .to_string()
                .starts_with("not a phone number")
        );
    }

    #[test]
    fn keeps_foreign_numbers_with_their_own_country_code() {
        // Irish fixed line (Dublin), written internationally by a GB-region importer.
        assert_eq!(gb("+353 1 234 5678"), Ok("+35312345678".to_owned()));
    }

    #[test]
    fn a_number_that_would_read_back_as_another_is_refused() {
        // Read in Ireland, "00 010001001" came out as +353 010001001, which reads back as
        // +353 10001001: two spellings of one person.
        let ireland = Region::from_iso_code("IE").unwrap();
        assert!(matches!(
            normalise_phone("00010001001", ireland),
            Err(PhoneError::InvalidForRegion { .. })
        ));
        // The same digits written as an Irish number dialled at home still work.
        let dublin = normalise_phone("01 234 5678", ireland).unwrap();
        assert_eq!(dublin.as_str(), "+35312345678");
        assert_eq!(normalise_phone(dublin.as_str(), ireland), Ok(dublin));
    }

    #[test]
    fn display_for_uses_national_format_at_home() {
        let number = normalise_phone("+442079460018", Region::GB).unwrap();
        assert_eq!(number.display_for(Region::GB), "020 7946 0018");
        assert_eq!(number.tel_uri(), "tel:+442079460018");
        assert_eq!(number.to_string(), "+442079460018");
    }

    #[test]
    fn serde_round_trips_e164_and_refuses_other_shapes() {
        let number = normalise_phone("020 7946 0018", Region::GB).unwrap();
        let json = serde_json::to_string(&number).unwrap();
        assert_eq!(json, "\"+442079460018\"");
        let back: PhoneNumber = serde_json::from_str(&json).unwrap();
        assert_eq!(back, number);
        assert!(serde_json::from_str::<PhoneNumber>("\"020 7946 0018\"").is_err());
    }

    #[test]
    fn region_from_iso_code() {
        assert_eq!(Region::from_iso_code("gb"), Some(Region::GB));
        assert_eq!(Region::from_iso_code("XX"), None);
        assert_eq!(Region::GB.iso_code(), "GB");
    }
}
