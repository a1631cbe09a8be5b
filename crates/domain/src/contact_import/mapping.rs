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
    /// The person's VAN ID in NGP VAN (kept as the external id of system `van`).
    VanId,
    /// The person's id in NationBuilder (system `nationbuilder`).
    NationBuilderId,
    /// The person's id in Action Network (system `action_network`).
    ActionNetworkId,
    /// The person's id in another system, named by the column's header: kept as an
    /// external id and exported as its own column. Several columns may have this role.
    ExternalId,
    /// Not imported at all: data the campaign does not need should not be kept.
    Ignore,
}

/// The external system name of NGP VAN's VAN IDs.
pub const VAN: &str = "van";
/// The external system name of NationBuilder ids.
pub const NATIONBUILDER: &str = "nationbuilder";
/// The external system name of Action Network ids.
pub const ACTION_NETWORK: &str = "action_network";

/// The columns a rejected-rows download adds after the file's own, so an organiser can
/// fix the rows and upload that file again: a re-upload recognises and ignores them.
pub const REPORT_COLUMNS: [&str; 3] = ["Rejected on line", "Rejected column", "Rejection reason"];

/// Whether `header` is one of [`REPORT_COLUMNS`] (compared as header spellings are).
pub fn is_report_column(header: &str) -> bool {
    let compact = compact(header);
    REPORT_COLUMNS.iter().any(|c| self::compact(c) == compact)
}

fn compact(header: &str) -> String {
    field_key(header.trim()).replace('_', "")
}

/// Every role, in the order a role menu lists them.
pub const ROLES: [ColumnRole; 12] = [
    ColumnRole::FirstName,
    ColumnRole::LastName,
    ColumnRole::Phone,
    ColumnRole::OtherPhone,
    ColumnRole::Email,
    ColumnRole::Postcode,
    ColumnRole::VanId,
    ColumnRole::NationBuilderId,
    ColumnRole::ActionNetworkId,
    ColumnRole::ExternalId,
    ColumnRole::Extra,
    ColumnRole::Ignore,
];

impl std::str::FromStr for ColumnRole {
    type Err = String;

    /// Reads a role's name as the API and command line write it (`first_name`,
    /// `other-phone`, `Postcode`).
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let key = raw.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        ROLES
            .into_iter()
            .find(|role| role.as_str() == key)
            .ok_or_else(|| {
                format!(
                    "{:?} is not a role: use first_name, last_name, phone, other_phone, email, postcode, van_id, nationbuilder_id, action_network_id, external_id, extra or ignore",
                    raw.trim()
                )
            })
    }
}

impl ColumnRole {
    /// The role's name in the API, the command line and forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::Phone => "phone",
            Self::OtherPhone => "other_phone",
            Self::Email => "email",
            Self::Postcode => "postcode",
            Self::VanId => "van_id",
            Self::NationBuilderId => "nationbuilder_id",
            Self::ActionNetworkId => "action_network_id",
            Self::ExternalId => "external_id",
            Self::Extra => "extra",
            Self::Ignore => "ignore",
        }
    }

    /// The external system a column with this role identifies people in, as stored and
    /// exported: `van`, `nationbuilder`, `action_network`, or for [`Self::ExternalId`] the
    /// column's `header`. `None` for roles that are not external ids.
    pub fn external_system(self, header: &str) -> Option<String> {
        match self {
            Self::VanId => Some(VAN.to_owned()),
            Self::NationBuilderId => Some(NATIONBUILDER.to_owned()),
            Self::ActionNetworkId => Some(ACTION_NETWORK.to_owned()),
            Self::ExternalId => Some(header.trim().to_owned()),
            _ => None,
        }
    }

    /// Whether several columns may have this role.
    fn may_repeat(self) -> bool {
        matches!(self, Self::Extra | Self::Ignore | Self::ExternalId)
    }

    /// The role in words, for menus and messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::FirstName => "first name",
            Self::LastName => "last name",
            Self::Phone => "phone",
            Self::OtherPhone => "other phone",
            Self::Email => "email",
            Self::Postcode => "postcode",
            Self::VanId => "VAN ID",
            Self::NationBuilderId => "NationBuilder ID",
            Self::ActionNetworkId => "Action Network ID",
            Self::ExternalId => "external id",
            Self::Extra => "extra field",
            Self::Ignore => "ignored",
        }
    }

    /// The role as a choice in the column-mapping menu.
    pub fn label(self) -> &'static str {
        match self {
            Self::FirstName => "First name",
            Self::LastName => "Last name",
            Self::Phone => "Phone number",
            Self::OtherPhone => "Other phone number",
            Self::Email => "Email",
            Self::Postcode => "Postcode",
            Self::VanId => "VAN ID (NGP VAN)",
            Self::NationBuilderId => "NationBuilder ID",
            Self::ActionNetworkId => "Action Network ID",
            Self::ExternalId => "Another system's ID (named by the header)",
            Self::Extra => "Keep for the script",
            Self::Ignore => "Ignore",
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
    /// "Mobile", "Telephone", "Phone number", "Post code", "E-mail", "VANID",
    /// "nationbuilder_id", "Action Network ID", …). The most
    /// mobile-like phone column becomes `phone` and the next `other_phone`; the
    /// [`REPORT_COLUMNS`] of a rejected-rows download are ignored. Anything unrecognised
    /// stays an extra field; the organiser confirms before importing.
    pub fn guess<S: AsRef<str>>(headers: &[S]) -> ColumnMapping {
        let mut mapping = ColumnMapping::default();
        let mut phones: Vec<(u8, &str)> = Vec::new();
        for header in headers {
            let header = header.as_ref().trim();
            if is_report_column(header) {
                mapping = mapping.with(header, ColumnRole::Ignore);
                continue;
            }
            let compact = compact(header);
            let role = match compact.as_str() {
                "firstname" | "forename" | "forenames" | "givenname" | "first" | "fname" => {
                    Some(ColumnRole::FirstName)
                }
                "lastname" | "surname" | "familyname" | "last" | "lname" => {
                    Some(ColumnRole::LastName)
                }
                "email" | "emailaddress" | "mail" => Some(ColumnRole::Email),
                "postcode" | "postalcode" | "zip" | "zipcode" => Some(ColumnRole::Postcode),
                "vanid" | "myvotersvanid" | "mycampaignvanid" | "myvotervanid" => {
                    Some(ColumnRole::VanId)
                }
                "nationbuilderid" | "nbid" => Some(ColumnRole::NationBuilderId),
                "actionnetworkid" | "anid" => Some(ColumnRole::ActionNetworkId),
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

    /// The guess for `headers` with the organiser's `overrides` (header, role) laid over
    /// it: a role other than extra/ignore given to one column is taken away from the
    /// column it was guessed for. The one way the page, the API and the command line
    /// turn a file and a choice of roles into a mapping.
    pub fn guess_with<S: AsRef<str>>(headers: &[S], overrides: &[(String, ColumnRole)]) -> Self {
        let mut mapping = Self::guess(headers);
        for (header, role) in overrides {
            if !role.may_repeat()
                && let Some(guessed) = mapping.header_for(*role).map(str::to_owned)
                && guessed != header.trim()
            {
                mapping = mapping.with(&guessed, ColumnRole::Extra);
            }
            mapping = mapping.with(header, *role);
        }
        mapping
    }

    /// Each header's role, in file order, after checking that the mapping fits the file:
    /// mapped headers exist, one phone column, no role but extra, ignore and external id
    /// mapped twice.
    pub fn resolve(&self, headers: &[String]) -> Result<Vec<ColumnRole>, ImportError> {
        if let Some(missing) = self.roles.keys().find(|h| !headers.contains(h)) {
            return Err(ImportError::MappedColumnMissing(missing.clone()));
        }
        let roles: Vec<ColumnRole> = headers.iter().map(|h| self.role_of(h)).collect();
        for (index, role) in roles.iter().enumerate() {
            if role.may_repeat() {
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

/// Reads one override written `HEADER=ROLE` or `HEADER:ROLE` (the last `=` or `:`
/// separates them, so headers may contain either).
pub fn parse_override(raw: &str) -> Result<(String, ColumnRole), String> {
    let Some(at) = raw.rfind(['=', ':']) else {
        return Err(format!(
            "{:?} is not HEADER=ROLE (for example \"Mobile=phone\")",
            raw.trim()
        ));
    };
    let role = raw[at + 1..].parse()?;
    Ok((raw[..at].trim().to_owned(), role))
}

/// Reads a list of overrides written `HEADER:ROLE,HEADER2:ROLE` (the API's and the
/// upload page's `map=`). A part without `:` or `=` belongs to the next part, so a
/// header may contain a comma: `Address, line 1:extra`.
pub fn parse_overrides(text: &str) -> Result<Vec<(String, ColumnRole)>, String> {
    let mut overrides = Vec::new();
    let mut pending = String::new();
    for part in text.split(',') {
        if pending.is_empty() && part.trim().is_empty() {
            continue;
        }
        if !pending.is_empty() {
            pending.push(',');
        }
        pending.push_str(part);
        if part.contains(['=', ':']) {
            overrides.push(parse_override(&pending)?);
            pending.clear();
        }
    }
    if !pending.trim().is_empty() {
        overrides.push(parse_override(&pending)?);
    }
    Ok(overrides)
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
    fn overrides_move_a_role_and_report_columns_are_ignored() {
        let headers = [
            "Name",
            "Telephone",
            "Mobile",
            "DOB",
            "Rejected on line",
            "Rejection reason",
        ];
        let guessed = ColumnMapping::guess(&headers);
        assert_eq!(guessed.role_of("Mobile"), ColumnRole::Phone);
        assert_eq!(guessed.role_of("Rejected on line"), ColumnRole::Ignore);
        assert_eq!(guessed.role_of("Rejection reason"), ColumnRole::Ignore);
        let overrides = [
            parse_override("Telephone=phone").unwrap(),
            parse_override("DOB: Ignore").unwrap(),
        ];
        let mapped = ColumnMapping::guess_with(&headers, &overrides);
        assert_eq!(mapped.role_of("Telephone"), ColumnRole::Phone);
        assert_eq!(mapped.role_of("Mobile"), ColumnRole::Extra);
        assert_eq!(mapped.role_of("DOB"), ColumnRole::Ignore);
        assert_eq!(
            parse_override("DOB=birthday").unwrap_err(),
            "\"birthday\" is not a role: use first_name, last_name, phone, other_phone, email, postcode, van_id, nationbuilder_id, action_network_id, external_id, extra or ignore"
        );
        assert!(parse_override("DOB").is_err());
        assert_eq!(
            parse_override("Other-phone=other-phone").unwrap().1,
            ColumnRole::OtherPhone
        );
    }

    #[test]
    fn a_list_of_overrides_allows_commas_in_headers() {
        assert_eq!(
            parse_overrides("Tel (home):phone, Address, line 1:extra,,Notes=ignore").unwrap(),
            [
                ("Tel (home)".to_owned(), ColumnRole::Phone),
                ("Address, line 1".to_owned(), ColumnRole::Extra),
                ("Notes".to_owned(), ColumnRole::Ignore),
            ]
        );
        assert_eq!(parse_overrides(" , ").unwrap(), []);
        assert!(parse_overrides("Mobile:phone,DOB").is_err());
        assert!(parse_overrides("Mobile:telephone").is_err());
    }

    #[test]
    fn a_rejected_rows_download_guesses_its_report_columns_as_ignored() {
        let mut headers = vec!["Forename", "Tel (home)"];
        headers.extend(REPORT_COLUMNS);
        let mapping = ColumnMapping::guess(&headers);
        for column in REPORT_COLUMNS {
            assert_eq!(mapping.role_of(column), ColumnRole::Ignore, "{column}");
        }
        assert_eq!(mapping.role_of("Tel (home)"), ColumnRole::Phone);
    }

    #[test]
    fn crm_id_columns_are_guessed_as_external_ids() {
        let headers = [
            "VanID",
            "nationbuilder_id",
            "Action Network ID",
            "Phone",
            "Membership number",
        ];
        let mapping = ColumnMapping::guess(&headers);
        assert_eq!(mapping.role_of("VanID"), ColumnRole::VanId);
        assert_eq!(
            mapping.role_of("nationbuilder_id"),
            ColumnRole::NationBuilderId
        );
        assert_eq!(
            mapping.role_of("Action Network ID"),
            ColumnRole::ActionNetworkId
        );
        assert_eq!(mapping.role_of("Membership number"), ColumnRole::Extra);
        for spelling in ["VANID", "VAN ID", "NationBuilder ID", "MyVoters VAN ID"] {
            let guessed = ColumnMapping::guess(&[spelling]).role_of(spelling);
            assert_ne!(guessed, ColumnRole::Extra, "{spelling}");
        }
        assert_eq!(
            ColumnRole::VanId.external_system("VanID").as_deref(),
            Some(VAN)
        );
        assert_eq!(
            ColumnRole::ExternalId
                .external_system(" Membership number ")
                .as_deref(),
            Some("Membership number")
        );
        assert_eq!(ColumnRole::Extra.external_system("Ward"), None);

        // Any number of columns may name other systems; VAN ID only one.
        let headers: Vec<String> = ["Phone", "Member no", "Union id", "VANID", "Old VAN"]
            .map(String::from)
            .to_vec();
        let chosen = ColumnMapping::guess_with(
            &headers,
            &[
                ("Member no".into(), ColumnRole::ExternalId),
                ("Union id".into(), ColumnRole::ExternalId),
            ],
        );
        assert!(chosen.resolve(&headers).is_ok());
        let twice = chosen
            .with("Old VAN", ColumnRole::VanId)
            .with("VANID", ColumnRole::VanId);
        assert_eq!(
            twice.resolve(&headers).unwrap_err().to_string(),
            "columns \"VANID\" and \"Old VAN\" are both mapped to VAN ID"
        );
        assert_eq!(
            parse_override("Member no=external-id").unwrap().1,
            ColumnRole::ExternalId
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
