//! UK postcodes: checking the shape and writing them the standard way ("SW1A 1AA").
//!
//! Owns only the text rules. It must not look postcodes up or turn them into places;
//! geography (outcode centroids, ONSPD) belongs to the geo code and the store.

/// Why text is not a UK postcode (nor, where districts are accepted, a district).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a UK postcode (expected something like \"SW1A 1AA\")")]
pub struct PostcodeError;

/// Upper-cases `raw`, removes stray spaces and puts one space before the last three
/// characters: `" sw1a1aa "` → `"SW1A 1AA"`. Checks the shape only (an outward code of
/// 2–4 characters starting with a letter, then digit-letter-letter), not that the
/// postcode exists.
pub fn normalise_postcode(raw: &str) -> Result<String, PostcodeError> {
    let compact: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !(5..=7).contains(&compact.len()) || !compact.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(PostcodeError);
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    let inward_bytes = inward.as_bytes();
    let inward_ok = inward_bytes[0].is_ascii_digit()
        && inward_bytes[1].is_ascii_alphabetic()
        && inward_bytes[2].is_ascii_alphabetic();
    let outward_ok = outward.as_bytes()[0].is_ascii_alphabetic()
        && outward
            .bytes()
            .any(|b| b.is_ascii_digit() || outward == "GIR");
    if inward_ok && outward_ok {
        Ok(format!("{outward} {inward}"))
    } else {
        Err(PostcodeError)
    }
}

/// A full postcode written the standard way, or failing that a postcode district (the
/// outward code alone, as in "M13" or "LS6") upper-cased: lists exported from canvassing
/// sheets often hold only the district, which still places the person.
pub fn normalise_postcode_or_district(raw: &str) -> Result<String, PostcodeError> {
    normalise_postcode(raw).or_else(|_| normalise_district(raw))
}

/// Upper-cases and checks a postcode district: `A9`, `A99`, `AA9`, `AA99`, `A9A` or
/// `AA9A` (shape only, not that it exists).
pub fn normalise_district(raw: &str) -> Result<String, PostcodeError> {
    let district = raw.trim().to_ascii_uppercase();
    let bytes = district.as_bytes();
    let letters = bytes.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let rest = &bytes[letters..];
    let shape_ok = match rest {
        [d] => d.is_ascii_digit(),
        [d, e] => d.is_ascii_digit() && e.is_ascii_alphanumeric(),
        _ => false,
    };
    if (1..=2).contains(&letters) && shape_ok {
        Ok(district)
    } else {
        Err(PostcodeError)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn districts_are_accepted_where_asked_for() {
        for (raw, district) in [
            ("m13", "M13"),
            (" LS6 ", "LS6"),
            ("W1A", "W1A"),
            ("EC1V", "EC1V"),
        ] {
            assert_eq!(normalise_postcode_or_district(raw).unwrap(), district);
        }
        assert_eq!(
            normalise_postcode_or_district("ls6 3aa").unwrap(),
            "LS6 3AA"
        );
        for bad in ["bad postcode", "M", "13", "LS", "ABC1", "M13 4", "L-6"] {
            assert_eq!(
                normalise_postcode_or_district(bad),
                Err(PostcodeError),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn writes_postcodes_the_standard_way() {
        assert_eq!(normalise_postcode("sw1a1aa").unwrap(), "SW1A 1AA");
        assert_eq!(normalise_postcode("  ls1  4ap ").unwrap(), "LS1 4AP");
        assert_eq!(normalise_postcode("M1 1AE").unwrap(), "M1 1AE");
        assert_eq!(normalise_postcode("cf10 1ep").unwrap(), "CF10 1EP");
        assert_eq!(normalise_postcode("GIR0AA").unwrap(), "GIR 0AA");
    }

    #[test]
    fn refuses_text_that_is_not_a_postcode() {
        for bad in [
            "",
            "London",
            "SW1A",
            "SW1A 1AAA",
            "12345",
            "SW1A-1AA",
            "SW1A 11A",
        ] {
            assert_eq!(normalise_postcode(bad), Err(PostcodeError), "{bad:?}");
        }
    }
}
