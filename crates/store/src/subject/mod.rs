//! A person's rights over their data: finding every row about one person in every table
//! ([`Store::find_person`]), for a subject-access export or an erasure
//! ([`Store::erase_person`]). Owns the identity rules (which rows are the same person) and
//! the keyed digests that keep an erased person suppressed; the export's file formats
//! belong to the web crate.

pub(crate) mod digest;
mod erase;
mod find;
#[cfg(feature = "testing")]
mod inspect;
mod rows;

pub(crate) use erase::{ANONYMISED_PHONE_PREFIX, anonymise_contacts};
pub use erase::{Erasure, ErasureReport};
pub use find::{ContactView, PersonCandidate, PersonLookup, PersonRecords, TableRows};

use barnstorm_domain::phone::{Region, normalise_phone};
use serde::Serialize;

/// Tables of an account's sign-in secrets and second factors, keyed by `user_id`: read
/// whole for an export and deleted whole by an erasure.
pub(crate) const ACCOUNT_SECRET_TABLES: [&str; 9] = [
    "sessions",
    "api_tokens",
    "sign_in_links",
    "second_steps",
    "passkeys",
    "passkey_registrations",
    "totp_authenticators",
    "recovery_codes",
    "campaign_invite_signups",
];

/// Who to look for: at least one of an email address, a phone number, or a name with a
/// postcode. Built by [`PersonQuery::parse`], which normalises every spelling.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PersonQuery {
    /// The address, trimmed and lower-cased.
    pub email: Option<String>,
    /// The number in E.164 (`+442079460123`).
    pub phone: Option<String>,
    /// The full name, trimmed, single-spaced and lower-cased.
    pub name: Option<String>,
    /// The postcode, upper-cased without spaces.
    pub postcode: Option<String>,
}

/// A query that cannot be used; the text names the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PersonQueryError {
    /// The field at fault: `email`, `phone`, `name` or `postcode`.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

impl PersonQuery {
    /// Checks and normalises what an operator typed. A phone number is read as British
    /// unless it starts with a country code; a name needs a postcode and the other way
    /// round, since either alone matches too many people.
    pub fn parse(
        email: Option<&str>,
        phone: Option<&str>,
        name: Option<&str>,
        postcode: Option<&str>,
    ) -> Result<Self, PersonQueryError> {
        let email = non_empty(email).map(crate::canonical_email);
        if let Some(email) = &email
            && !email.contains('@')
        {
            return Err(PersonQueryError {
                field: "email",
                message: "is not an email address (no @)".into(),
            });
        }
        let phone = match non_empty(phone) {
            Some(raw) => Some(
                normalise_phone(raw, Region::GB)
                    .map_err(|e| PersonQueryError {
                        field: "phone",
                        message: e.to_string(),
                    })?
                    .as_str()
                    .to_owned(),
            ),
            None => None,
        };
        let name = non_empty(name).map(normalise_name);
        let postcode = non_empty(postcode).map(normalise_postcode);
        match (&name, &postcode) {
            (Some(_), None) => {
                return Err(PersonQueryError {
                    field: "postcode",
                    message: "is needed with a name".into(),
                });
            }
            (None, Some(_)) => {
                return Err(PersonQueryError {
                    field: "name",
                    message: "is needed with a postcode".into(),
                });
            }
            _ => {}
        }
        if email.is_none() && phone.is_none() && name.is_none() {
            return Err(PersonQueryError {
                field: "email",
                message: "give an email, a phone number, or a name and postcode".into(),
            });
        }
        Ok(Self {
            email,
            phone,
            name,
            postcode,
        })
    }
}

impl PersonQuery {
    /// The same query narrowed to one of the people it matched, by the name a
    /// [`PersonCandidate`] was listed under: records found by the email or number that
    /// carry another name are left out.
    pub fn narrowed_to(&self, candidate_name: &str) -> Self {
        Self {
            name: Some(normalise_name(candidate_name)).filter(|n| !n.is_empty()),
            ..self.clone()
        }
    }
}

/// A name as compared: lower-case words separated by single spaces.
pub(crate) fn normalise_name(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A postcode as compared: upper-case without spaces.
pub(crate) fn normalise_postcode(postcode: &str) -> String {
    postcode
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_spelling_of_a_number_is_one_query() {
        for raw in ["020 7946 0123", "+44 (0)20 7946 0123", "0044 20 7946 0123"] {
            let q = PersonQuery::parse(None, Some(raw), None, None).unwrap();
            assert_eq!(q.phone.as_deref(), Some("+442079460123"), "{raw}");
        }
    }

    #[test]
    fn bad_input_names_the_field() {
        let err = PersonQuery::parse(None, Some("not a number"), None, None).unwrap_err();
        assert_eq!(err.field, "phone");
        let err = PersonQuery::parse(Some("nobody"), None, None, None).unwrap_err();
        assert_eq!(err.field, "email");
        let err = PersonQuery::parse(None, None, Some("Sam"), None).unwrap_err();
        assert_eq!(err.field, "postcode");
        let err = PersonQuery::parse(None, None, None, None).unwrap_err();
        assert_eq!(err.field, "email");
    }
}
