//! Round trips with the CRMs organisers keep their people in (NGP VAN, NationBuilder): the
//! export presets and their column headers, and which CRM result code each of a campaign's
//! outcomes becomes, with defaults an organiser can override per campaign.
//!
//! It must not read rows or the clock: the web layer streams the export and passes each
//! contact's values in. See `docs/organiser-guide.md` for the sources of the headers.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::limits;
use crate::outcome::{Outcome, OutcomeEffect, OutcomeSet};

/// The CRMs with an export preset and a result-code mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Crm {
    /// NGP VAN (VoteBuilder, EveryAction): bulk upload of contact history.
    Van,
    /// NationBuilder: people import.
    Nationbuilder,
}

/// Both CRMs, in the order pages list them.
pub const CRMS: [Crm; 2] = [Crm::Van, Crm::Nationbuilder];

impl Crm {
    /// The stored and API name: `van` or `nationbuilder`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Van => "van",
            Self::Nationbuilder => "nationbuilder",
        }
    }

    /// The CRM's name in words.
    pub fn label(self) -> &'static str {
        match self {
            Self::Van => "NGP VAN",
            Self::Nationbuilder => "NationBuilder",
        }
    }

    /// What a mapped value is called in this CRM.
    pub fn code_name(self) -> &'static str {
        match self {
            Self::Van => "result code",
            Self::Nationbuilder => "tag",
        }
    }

    /// The code an outcome becomes unless the campaign says otherwise. VAN's names are
    /// its standard canvass results; NationBuilder gets a tag naming the outcome.
    pub fn default_code(self, outcome: &Outcome) -> String {
        match self {
            Self::Van => match outcome.key.as_str() {
                "busy" => "Busy".to_owned(),
                "voicemail" => "Left Message".to_owned(),
                "deceased" => "Deceased".to_owned(),
                "moved" => "Moved".to_owned(),
                _ => match outcome.effect {
                    OutcomeEffect::Completed => "Canvassed",
                    OutcomeEffect::RetryAfter { .. } => "Not Home",
                    OutcomeEffect::Callback => "Call Back",
                    OutcomeEffect::WrongNumber => "Wrong Number",
                    OutcomeEffect::Refused => "Refused",
                    OutcomeEffect::DoNotCall => "Do Not Call",
                }
                .to_owned(),
            },
            Self::Nationbuilder => format!("phonebank: {}", outcome.label.trim()),
        }
    }
}

impl fmt::Display for Crm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Crm {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        CRMS.into_iter()
            .find(|crm| crm.as_str() == raw.trim())
            .ok_or_else(|| format!("{:?} is not a CRM: use van or nationbuilder", raw.trim()))
    }
}

/// A campaign's own codes for some outcomes (outcome key → code); outcomes not listed
/// use [`Crm::default_code`]. JSON: `{"no_answer": "Not Home", "spoke": "Canvassed"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResultCodes {
    codes: BTreeMap<String, String>,
}

/// Why a campaign's result codes were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultCodesError {
    /// A code for an outcome the campaign does not have.
    #[error("the campaign has no outcome {0:?}")]
    UnknownOutcome(String),
    /// A code longer than [`limits::OUTCOME_LABEL`].
    #[error("the code for {outcome:?} is longer than {max} characters")]
    TooLong {
        /// The outcome's key.
        outcome: String,
        /// The longest a code may be.
        max: usize,
    },
}

impl ResultCodes {
    /// The codes given, checked against the campaign's `outcomes`: every key must be
    /// one of them and every code at most [`limits::OUTCOME_LABEL`] characters. Blank
    /// codes are dropped, so the outcome goes back to its default.
    pub fn new(
        codes: BTreeMap<String, String>,
        outcomes: &OutcomeSet,
    ) -> Result<Self, ResultCodesError> {
        let mut kept = BTreeMap::new();
        for (key, code) in codes {
            let key = key.trim().to_owned();
            if outcomes.get(&key).is_none() {
                return Err(ResultCodesError::UnknownOutcome(key));
            }
            let code = code.trim();
            if code.chars().count() > limits::OUTCOME_LABEL {
                return Err(ResultCodesError::TooLong {
                    outcome: key,
                    max: limits::OUTCOME_LABEL,
                });
            }
            if !code.is_empty() {
                kept.insert(key, code.to_owned());
            }
        }
        Ok(Self { codes: kept })
    }

    /// The codes the campaign set, by outcome key.
    pub fn chosen(&self) -> &BTreeMap<String, String> {
        &self.codes
    }

    /// The code `outcome` becomes in `crm`: the campaign's, else the default.
    pub fn code_for(&self, crm: Crm, outcome: &Outcome) -> String {
        self.codes
            .get(&outcome.key)
            .cloned()
            .unwrap_or_else(|| crm.default_code(outcome))
    }
}

/// The shapes a campaign's results export can take (`?format=` on the export route).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// Barnstorm's own columns, with the imported columns as one JSON cell.
    #[default]
    Standard,
    /// Spreadsheet-friendly: one column per external id system, per imported column
    /// and per survey question, and no JSON.
    Generic,
    /// NGP VAN's bulk upload of contact history.
    Van,
    /// NationBuilder's people import.
    Nationbuilder,
}

/// Every export format, in the order the export menu lists them.
pub const EXPORT_FORMATS: [ExportFormat; 4] = [
    ExportFormat::Standard,
    ExportFormat::Generic,
    ExportFormat::Van,
    ExportFormat::Nationbuilder,
];

impl ExportFormat {
    /// The name `?format=` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Generic => "generic",
            Self::Van => "van",
            Self::Nationbuilder => "nationbuilder",
        }
    }

    /// The format in words, for the export menu.
    pub fn label(self) -> &'static str {
        match self {
            Self::Standard => "Barnstorm (imported columns as JSON)",
            Self::Generic => "Spreadsheet (a column per field and question)",
            Self::Van => "NGP VAN bulk upload",
            Self::Nationbuilder => "NationBuilder people import",
        }
    }

    /// The CRM whose result codes the format writes, if any.
    pub fn crm(self) -> Option<Crm> {
        match self {
            Self::Van => Some(Crm::Van),
            Self::Nationbuilder => Some(Crm::Nationbuilder),
            Self::Standard | Self::Generic => None,
        }
    }
}

impl FromStr for ExportFormat {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        EXPORT_FORMATS
            .into_iter()
            .find(|f| f.as_str() == raw.trim())
            .ok_or_else(|| {
                format!(
                    "{:?} is not an export format: use standard, generic, van or nationbuilder",
                    raw.trim()
                )
            })
    }
}

/// The VAN bulk upload's columns before the survey questions, in the order VAN's
/// bulk-upload guidance lists them (the person's id, the date contacted, the number
/// rung, the contact type and the canvass result).
pub const VAN_COLUMNS: [&str; 5] = [
    "VANID",
    "Date Contacted",
    "Phone Number",
    "Contact Type",
    "Canvass Result",
];
/// VAN's column after the survey questions: the caller's notes.
pub const VAN_NOTES_COLUMN: &str = "Notes";
/// What VAN's "Contact Type" column holds for every phone bank call.
pub const VAN_CONTACT_TYPE: &str = "Phone";

/// The NationBuilder people import's columns before the survey questions, named as its
/// list of import fields does.
pub const NATIONBUILDER_COLUMNS: [&str; 8] = [
    "nationbuilder_id",
    "first_name",
    "last_name",
    "email",
    "phone_number",
    "tag_list",
    "do_not_call",
    "note",
];

/// A date as VAN and NationBuilder read it, `MM/DD/YYYY`, on the calendar of `tz` (the
/// campaign's calling-hours time zone, where the call was made).
pub fn us_date(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%m/%d/%Y").to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn uk_outcomes_get_van_result_codes_and_a_campaign_may_change_them() {
        let outcomes = OutcomeSet::default_uk();
        let van =
            |codes: &ResultCodes, key: &str| codes.code_for(Crm::Van, outcomes.get(key).unwrap());
        let defaults = ResultCodes::default();
        for (key, code) in [
            ("spoke", "Canvassed"),
            ("no_answer", "Not Home"),
            ("busy", "Busy"),
            ("voicemail", "Left Message"),
            ("callback", "Call Back"),
            ("wrong_number", "Wrong Number"),
            ("refused", "Refused"),
            ("do_not_call", "Do Not Call"),
        ] {
            assert_eq!(van(&defaults, key), code, "{key}");
        }
        let chosen = ResultCodes::new(
            BTreeMap::from([
                ("no_answer".to_owned(), " NH ".to_owned()),
                ("busy".to_owned(), String::new()),
            ]),
            &outcomes,
        )
        .unwrap();
        assert_eq!(van(&chosen, "no_answer"), "NH");
        assert_eq!(van(&chosen, "busy"), "Busy", "a blank code is the default");
        assert_eq!(
            chosen.code_for(Crm::Nationbuilder, outcomes.get("refused").unwrap()),
            "phonebank: Refused to talk"
        );
        assert_eq!(
            ResultCodes::new(
                BTreeMap::from([("hung_up".to_owned(), "Hostile".to_owned())]),
                &outcomes
            )
            .unwrap_err()
            .to_string(),
            "the campaign has no outcome \"hung_up\""
        );
        assert!(
            ResultCodes::new(
                BTreeMap::from([("busy".to_owned(), "x".repeat(201))]),
                &outcomes
            )
            .is_err()
        );
    }

    #[test]
    fn formats_and_crms_read_their_names() {
        for format in EXPORT_FORMATS {
            assert_eq!(format.as_str().parse::<ExportFormat>().unwrap(), format);
        }
        assert!("csv".parse::<ExportFormat>().is_err());
        assert_eq!("van".parse::<Crm>().unwrap(), Crm::Van);
        assert_eq!(ExportFormat::Van.crm(), Some(Crm::Van));
        assert_eq!(ExportFormat::Generic.crm(), None);
    }

    #[test]
    fn dates_are_month_first_on_the_campaign_calendar() {
        let late_evening_utc = Utc.with_ymd_and_hms(2026, 3, 4, 23, 30, 0).unwrap();
        assert_eq!(us_date(late_evening_utc, chrono_tz::UTC), "03/04/2026");
        // 23:30 UTC is already the 5th in Berlin.
        assert_eq!(
            us_date(late_evening_utc, chrono_tz::Europe::Berlin),
            "03/05/2026"
        );
    }
}
