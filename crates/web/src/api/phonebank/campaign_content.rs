//! The one check of what a campaign says and asks — name, briefing, script, survey and
//! outcomes taken together — shared by the API's create and PATCH and by the campaign
//! editor, so both refuse the same things in the same words. It checks typed values only:
//! turning JSON or a form into them is the caller's job.

use barnstorm_domain::limits;
use barnstorm_domain::outcome::{Outcome, OutcomeSet, OutcomeSetError};
use barnstorm_domain::script::Script;
use barnstorm_domain::survey::Survey;

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
}
