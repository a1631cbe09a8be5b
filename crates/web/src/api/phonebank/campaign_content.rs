//! The one check of what a campaign says and asks — name, briefing, script, survey and
//! outcomes taken together — shared by the API's create and PATCH and by the campaign
//! editor, so both refuse the same things in the same words; and the check of how callers
//! call (the caller ID and the ways to call), with the rule that a bridged campaign needs a
//! caller ID to go live. It checks typed values only: turning JSON or a form into them is
//! the caller's job.

use barnstorm_domain::limits;
use barnstorm_domain::outcome::{Outcome, OutcomeSet, OutcomeSetError};
use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_domain::script::Script;
use barnstorm_domain::survey::Survey;
use barnstorm_store::phonebank::{Bridging, CampaignSettings};

/// A campaign's content, as it would be saved.
pub(crate) struct CampaignContent<'a> {
    pub name: &'a str,
    pub briefing: &'a str,
    pub script: &'a str,
    pub survey: &'a Survey,
    pub outcomes: &'a [Outcome],
}

/// Which part of the content a mistake is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContentField {
    Name,
    Briefing,
    Script,
    /// A survey question, by its number from 1.
    Question(usize),
    /// An outcome, by its number from 1; `None` for the set as a whole.
    Outcome(Option<usize>),
}

impl ContentField {
    /// The API field the mistake is reported under.
    pub(crate) fn api_name(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Briefing => "briefing",
            Self::Script => "script",
            Self::Question(_) => "survey",
            Self::Outcome(_) => "outcomes",
        }
    }
}

/// One mistake, in words for the organiser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContentMistake {
    pub field: ContentField,
    pub message: String,
}

/// Every mistake in `content`, in the order of the fields; empty when it can be saved.
pub(crate) fn mistakes(content: &CampaignContent<'_>) -> Vec<ContentMistake> {
    let mut found = Vec::new();
    let mut add = |field, message: String| found.push(ContentMistake { field, message });
    let name = content.name.trim();
    if name.is_empty() || name.chars().count() > limits::CAMPAIGN_NAME {
        add(
            ContentField::Name,
            format!(
                "Give the phone bank a name of up to {} characters.",
                limits::CAMPAIGN_NAME
            ),
        );
    }
    if let Err(e) = limits::check_length("briefing", content.briefing.trim(), limits::BRIEFING) {
        add(
            ContentField::Briefing,
            format!("The briefing is too long: {e}."),
        );
    }
    if content.script.trim().is_empty() {
        add(
            ContentField::Script,
            "Write what callers should say.".into(),
        );
    } else if let Err(e) = limits::check_length("script", content.script, limits::SCRIPT) {
        add(
            ContentField::Script,
            format!("The script is too long: {e}."),
        );
    } else if let Err(e) = Script::parse(content.script) {
        add(
            ContentField::Script,
            format!("The script has a mistake: {e}."),
        );
    }
    if let Err(problems) = content.survey.validate_definition() {
        for problem in problems {
            add(
                ContentField::Question(problem.position),
                format!("{problem}."),
            );
        }
    }
    let mut outcome_mistakes = OutcomeSet::mistakes(content.outcomes);
    if outcome_mistakes.is_empty()
        && let Ok(set) = OutcomeSet::new(content.outcomes.to_vec())
    {
        outcome_mistakes = set.mistakes_against(content.survey);
    }
    for mistake in outcome_mistakes {
        let position = match &mistake {
            OutcomeSetError::Outcome(one) => Some(one.position),
            OutcomeSetError::Empty | OutcomeSetError::NoDoNotCall => None,
        };
        add(
            ContentField::Outcome(position),
            sentence(&mistake.to_string()),
        );
    }
    found
}

/// How callers call, as an organiser gave it: the caller ID as typed (empty for none).
pub(crate) struct BridgingInput<'a> {
    pub caller_id: &'a str,
    pub call_me: bool,
    pub dial_in: bool,
    pub tel_links: bool,
}

/// Which part of "how callers call" a mistake is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BridgingField {
    /// The number contacts see.
    CallerId,
    /// The ways to call taken together.
    Ways,
}

impl BridgingField {
    /// The API field the mistake is reported under.
    pub(crate) fn api_name(self) -> &'static str {
        match self {
            Self::CallerId => "bridging.caller_id",
            Self::Ways => "bridging",
        }
    }
}

/// Why a bridged draft cannot go live yet.
pub(crate) const NO_CALLER_ID: &str = "Caller ID: a phone bank where Barnstorm places the calls (call me or dial in) needs the number contacts see before it can go live.";

/// The settings `input` describes, with the caller ID in E.164 (UK numbers may be typed
/// nationally), or every mistake with its field.
pub(crate) fn bridging(
    input: &BridgingInput<'_>,
) -> Result<Bridging, Vec<(BridgingField, String)>> {
    let mut found = Vec::new();
    let typed = input.caller_id.trim();
    let caller_id = if typed.is_empty() {
        None
    } else if typed.chars().count() > limits::PHONE {
        found.push((
            BridgingField::CallerId,
            format!("Caller ID: at most {} characters.", limits::PHONE),
        ));
        None
    } else {
        match normalise_phone(typed, Region::GB) {
            Ok(number) => Some(number.as_str().to_owned()),
            Err(e) => {
                found.push((
                    BridgingField::CallerId,
                    format!("Caller ID: {e} (give a number the campaign owns, such as +44 20 7946 0000)."),
                ));
                None
            }
        }
    };
    if !(input.call_me || input.dial_in || input.tel_links) {
        found.push((
            BridgingField::Ways,
            "How callers call: choose at least one of call me, dial in or phone links.".into(),
        ));
    }
    if found.is_empty() {
        Ok(Bridging {
            caller_id,
            call_me: input.call_me,
            dial_in: input.dial_in,
            tel_links: input.tel_links,
        })
    } else {
        Err(found)
    }
}

/// Why a campaign with `settings` may not be live, if it may not: bridged calls need a
/// caller ID. (Having contacts to call is checked where the list is known.)
pub(crate) fn live_problem(settings: &CampaignSettings) -> Option<&'static str> {
    (settings.bridging.is_bridged() && settings.bridging.caller_id.is_none())
        .then_some(NO_CALLER_ID)
}

/// `text` with a capital letter and a full stop.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mistake_names_its_field_in_plain_words() {
        let survey: Survey = serde_json::from_str(
            r#"{"questions": [{"key": "support", "label": "Support?",
                "kind": {"type": "single_choice", "options": []}}]}"#,
        )
        .unwrap_or_default();
        let found = mistakes(&CampaignContent {
            name: " ",
            briefing: "",
            script: "Hi {first_name",
            survey: &survey,
            outcomes: &[],
        });
        let fields: Vec<ContentField> = found.iter().map(|m| m.field).collect();
        assert_eq!(
            fields,
            [
                ContentField::Name,
                ContentField::Script,
                ContentField::Question(1),
                ContentField::Outcome(None),
            ]
        );
        assert_eq!(found[2].message, "Question 1: the option list is empty.");
        assert_eq!(found[3].message, "A campaign needs at least one outcome.");
    }

    fn ways(caller_id: &str, call_me: bool, dial_in: bool, tel_links: bool) -> BridgingInput<'_> {
        BridgingInput {
            caller_id,
            call_me,
            dial_in,
            tel_links,
        }
    }

    #[test]
    fn the_caller_id_is_read_as_e164_and_a_way_to_call_is_needed() {
        let set = bridging(&ways("020 7946 0000", true, false, false)).unwrap();
        assert_eq!(set.caller_id.as_deref(), Some("+442079460000"));
        assert!(set.is_bridged());
        let set = bridging(&ways("+442079460000", false, true, true)).unwrap();
        assert_eq!(set.caller_id.as_deref(), Some("+442079460000"));
        assert_eq!(
            bridging(&ways(" ", false, false, true)).unwrap().caller_id,
            None
        );

        let found = bridging(&ways("call us", false, false, false)).unwrap_err();
        let fields: Vec<BridgingField> = found.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, [BridgingField::CallerId, BridgingField::Ways]);
        assert!(
            found[0].1.starts_with("Caller ID: not a phone number"),
            "{}",
            found[0].1
        );
        assert!(bridging(&ways("0909 879 0000", true, false, false)).is_err());
    }

    #[test]
    fn a_bridged_campaign_without_a_caller_id_cannot_be_live() {
        let mut settings = CampaignSettings::new("x");
        assert_eq!(live_problem(&settings), None);
        settings.bridging.dial_in = true;
        assert_eq!(live_problem(&settings), Some(NO_CALLER_ID));
        settings.bridging.caller_id = Some("+442079460000".into());
        assert_eq!(live_problem(&settings), None);
    }
}
