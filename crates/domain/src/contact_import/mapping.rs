//! Which column of an import file holds what: the organiser's mapping and our first guess.
//!
//! Owns the column roles, the header-spelling guesses and the checks that a mapping fits
//! a file's header row. It must not read rows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ImportError;
use crate::script::field_key;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnRole {
    /// Given name.
    FirstName,
    /// Family name.
    LastName,
    /// The number to ring (required, exactly one column).
    Phone,
    /// A second number, used when the first is not valid.
    OtherPhone,
    /// Email address.
    Email,
    /// UK postcode.
    Postcode,
    /// Kept as an extra field under its header name (the default for unmapped columns),
    /// usable in scripts as `{header name}`.
    Extra,
    /// Not imported at all: data the campaign does not need should not be kept.
    Ignore,
}

impl ColumnRole {
    fn describe(self) -> &'static str {
        match self {
            Self::FirstName => "first name",
            Self::LastName => "last name",
            Self::Phone => "phone",
            Self::OtherPhone => "other phone",
            Self::Email => "email",
            Self::Postcode => "postcode",
            Self::Extra => "extra field",
            Self::Ignore => "ignored",
        }
    }
}

/// Header name → role. Headers not listed are [`ColumnRole::Extra`].
///
/// JSON: `{"First Name": "first_name", "Mobile": "phone", "Date of birth": "ignore"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ColumnMapping {
    roles: BTreeMap<String, ColumnRole>,
}

impl ColumnMapping {
    /// Sets the role of the column headed `header` (compared after trimming).
    pub fn with(mut self, header: &str, role: ColumnRole) -> Self {
        self.roles.insert(header.trim().to_owned(), role);
        self
    }

    /// The role of the column headed `header`.
    pub fn role_of(&self, header: &str) -> ColumnRole {
        self.roles
            .get(header.trim())
            .copied()
            .unwrap_or(ColumnRole::Extra)
    }

    /// The header mapped to `role`, if any (the first, for `Extra`/`Ignore`).
    pub fn header_for(&self, role: ColumnRole) -> Option<&str> {
        self.roles
            .iter()
            .find(|(_, r)| **r == role)
            .map(|(header, _)| header.as_str())
    }

    /// Guesses roles from common header spellings ("First Name", "Forename", "Surname",
    /// "Mobile", "Telephone", "Phone number", "Post code", "E-mail", …). The most
    /// mobile-like phone column becomes `phone` and the next `other_phone`. Anything
    /// unrecognised stays an extra field; the organiser confirms before importing.
    pub fn guess<S: AsRef<str>>(headers: &[S]) -> ColumnMapping {
        let mut mapping = ColumnMapping::default();
        let mut phones: Vec<(u8, &str)> = Vec::new();
        for header in headers {
            let header = header.as_ref().trim();
            let compact = field_key(header).replace('_', "");
            let role = match compact.as_str() {
                "firstname" | "forename" | "forenames" | "givenname" | "first" | "fname" => {
                    Some(ColumnRole::FirstName)
                }
                "lastname" | "surname" | "familyname" | "last" | "lname" => {
                    Some(ColumnRole::LastName)
                }
                "email" | "emailaddress" | "mail" => Some(ColumnRole::Email),
                "postcode" | "postalcode" | "zip" | "zipcode" => Some(ColumnRole::Postcode),
                _ => None,
            };
            if let Some(role) = role {
                if mapping.header_for(role).is_none() {
                    mapping = mapping.with(header, role);
                }
            } else if let Some(rank) = phone_rank(&compact) {
                phones.push((rank, header));
            }
        }
        // Stable sort: equally likely columns keep file order.
        phones.sort_by_key(|(rank, _)| *rank);
        let mut phones = phones.into_iter();
        if let Some((_, header)) = phones.next() {
            mapping = mapping.with(header, ColumnRole::Phone);
        }
        if let Some((_, header)) = phones.next() {
            mapping = mapping.with(header, ColumnRole::OtherPhone);
        }
        mapping
    }

    /// Each header's role, in file order, after checking that the mapping fits the file:
    /// mapped headers exist, one phone column, no role but extra/ignore mapped twice.
    pub(super) fn resolve(&self, headers: &[String]) -> Result<Vec<ColumnRole>, ImportError> {
        if let Some(missing) = self.roles.keys().find(|h| !headers.contains(h)) {
            return Err(ImportError::MappedColumnMissing(missing.clone()));
        }
        let roles: Vec<ColumnRole> = headers.iter().map(|h| self.role_of(h)).collect();
        for (index, role) in roles.iter().enumerate() {
            if matches!(role, ColumnRole::Extra | ColumnRole::Ignore) {
                continue;
            }
            if let Some(later) = roles[index + 1..].iter().position(|r| r == role) {
                return Err(ImportError::RoleMappedTwice {
                    role: role.describe(),
                    first: headers[index].clone(),
                    second: headers[index + 1 + later].clone(),
                });
            }
        }
        if !roles.contains(&ColumnRole::Phone) {
            return Err(ImportError::NoPhoneColumn);
        }
        Ok(roles)
    }
}

/// How likely a compact header names the main number to ring: lower is better.
fn phone_rank(compact: &str) -> Option<u8> {
    const OTHER_HINTS: [&str; 5] = ["other", "alt", "second", "2", "work"];
    let is_phone = ["phone", "tel", "mobile", "cell", "landline"]
        .iter()
        .any(|word| compact.contains(word))
        && !compact.contains("email");
    if !is_phone {
        return None;
    }
    Some(if OTHER_HINTS.iter().any(|hint| compact.contains(hint)) {
        3
    } else if compact.contains("mobile") || compact.contains("cell") {
        0
    } else if compact.contains("home") || compact.contains("landline") {
        2
    } else {
        1
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn guesses_common_spreadsheet_headers() {
        let headers = [
            "Forename",
            "Surname",
            "Telephone",
            "Mobile",
            "E-mail",
            "Post code",
            "Ward",
        ];
        let mapping = ColumnMapping::guess(&headers);
        assert_eq!(mapping.role_of("Forename"), ColumnRole::FirstName);
        assert_eq!(mapping.role_of("Surname"), ColumnRole::LastName);
        assert_eq!(mapping.role_of("Mobile"), ColumnRole::Phone);
        assert_eq!(mapping.role_of("Telephone"), ColumnRole::OtherPhone);
        assert_eq!(mapping.role_of("E-mail"), ColumnRole::Email);
        assert_eq!(mapping.role_of("Post code"), ColumnRole::Postcode);
        assert_eq!(mapping.role_of("Ward"), ColumnRole::Extra);

        let other =
            ColumnMapping::guess(&["First Name", "Last Name", "Phone number", "Other phone"]);
        assert_eq!(other.header_for(ColumnRole::FirstName), Some("First Name"));
        assert_eq!(other.header_for(ColumnRole::Phone), Some("Phone number"));
        assert_eq!(
            other.header_for(ColumnRole::OtherPhone),
            Some("Other phone")
        );
        assert_eq!(
            ColumnMapping::guess(&["Email address"]).header_for(ColumnRole::Email),
            Some("Email address")
        );
    }

    #[test]
    fn resolve_checks_the_mapping_against_the_file() {
        let headers: Vec<String> = ["Name", "Tel", "Tel 2"].map(String::from).to_vec();
        let ok = ColumnMapping::default().with("Tel", ColumnRole::Phone);
        assert_eq!(
            ok.resolve(&headers).unwrap(),
            [ColumnRole::Extra, ColumnRole::Phone, ColumnRole::Extra]
        );
        assert_eq!(
            ColumnMapping::default().resolve(&headers),
            Err(ImportError::NoPhoneColumn)
        );
        let twice = ok.clone().with("Tel 2", ColumnRole::Phone);
        assert_eq!(
            twice.resolve(&headers).unwrap_err().to_string(),
            "columns \"Tel\" and \"Tel 2\" are both mapped to phone"
        );
        let missing = ok.with("Mobile", ColumnRole::OtherPhone);
        assert_eq!(
            missing.resolve(&headers),
            Err(ImportError::MappedColumnMissing("Mobile".into()))
        );
    }

    #[test]
    fn mapping_json_is_header_to_role() {
        let mapping: ColumnMapping =
            serde_json::from_str(r#"{"Mobile": "phone", "DOB": "ignore"}"#).unwrap();
        assert_eq!(mapping.role_of("DOB"), ColumnRole::Ignore);
        assert_eq!(mapping.role_of("Mobile"), ColumnRole::Phone);
    }
}
