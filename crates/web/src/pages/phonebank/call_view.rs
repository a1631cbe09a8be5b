//! What the caller's page shows for one contact: the survey as form fields (with the
//! branching the page script applies), the outcome buttons grouped with their shortcuts,
//! numbers in national format, and
//! reading the posted form back into `Answers`. It must not check answers: the
//! dispatcher does, and its errors are placed next to the questions here.

use barnstorm_domain::outcome::{Outcome, OutcomeEffect, OutcomeSet};
use barnstorm_domain::phone::{PhoneNumber, Region};
use barnstorm_domain::survey::{AnswerError, AnswerValue, Answers, QuestionKind, Survey};
use barnstorm_store::phonebank::{Bridging, CampaignSettings};
use std::collections::BTreeMap;

/// What the "how you call" section says about how `bridging` connects the caller to each
/// contact; `None` when callers ring contacts from their own phone only (the `tel:` link
/// says it all).
pub(super) fn how_you_call(bridging: &Bridging) -> Option<String> {
    let bridged = match (bridging.call_me, bridging.dial_in) {
        (true, true) => {
            "Barnstorm will ring you, or you can ring the campaign's number and type your PIN; it then calls each contact and joins them to your line."
        }
        (true, false) => {
            "Barnstorm will ring your phone and keep the line open; it then calls each contact and joins them to your line."
        }
        (false, true) => {
            "Ring the campaign's number from any phone and type your PIN; Barnstorm then calls each contact and joins them to your line."
        }
        (false, false) => return None,
    };
    let numbers = if bridging.tel_links {
        " Contacts see the campaign's number, not yours. You may also ring a contact from your own phone with the link below; they then see your number."
    } else {
        " Contacts see the campaign's number, not yours, and their numbers stay hidden from you."
    };
    Some(format!("{bridged}{numbers}"))
}

/// One option of a choice question.
pub(super) struct OptionView {
    pub key: String,
    pub label: String,
    pub checked: bool,
}

/// One survey question as form fields.
pub(super) struct QuestionView {
    pub key: String,
    pub label: String,
    pub required: bool,
    /// `single`, `multiple` or `text`.
    pub kind: &'static str,
    pub options: Vec<OptionView>,
    pub text: String,
    pub max_len: usize,
    /// The earlier question this one depends on (empty when always shown).
    pub show_if_question: String,
    /// Its answers that show this one, space-separated.
    pub show_if_values: String,
    /// Hidden for the answers given so far.
    pub hidden: bool,
    pub error: Option<String>,
    /// The outcomes that need it answered besides its being required, e.g. "Spoke to them".
    pub needed_for: String,
}

/// One outcome button.
pub(super) struct OutcomeView {
    pub key: String,
    pub label: String,
    pub is_callback: bool,
    /// Puts the number on the do-not-call list, so it asks to confirm first.
    pub is_do_not_call: bool,
    /// The digit that picks it on a keyboard, for the first nine.
    pub shortcut: String,
}

/// The outcome buttons under one heading.
pub(super) struct OutcomeGroup {
    /// "Reached", "Not reached" or "Opt-out".
    pub heading: &'static str,
    /// For the heading's id.
    pub slug: &'static str,
    pub outcomes: Vec<OutcomeView>,
}

/// The survey of `settings` as fields, filled with `answers`, marked with `errors` and
/// with the outcomes that need each answered.
pub(super) fn questions(
    settings: &CampaignSettings,
    answers: &Answers,
    errors: &[AnswerError],
) -> Vec<QuestionView> {
    let survey = &settings.survey;
    let visible: Vec<&str> = survey
        .visible_questions(answers)
        .iter()
        .map(|q| q.key.as_str())
        .collect();
    let chosen = |key: &str| -> Vec<String> {
        match answers.get(key) {
            Some(AnswerValue::Single(value)) => vec![value.clone()],
            Some(AnswerValue::Multiple(values)) => values.clone(),
            None => Vec::new(),
        }
    };
    survey
        .questions
        .iter()
        .map(|q| {
            let picked = chosen(&q.key);
            let (kind, options, max_len) = match &q.kind {
                QuestionKind::SingleChoice { options } => ("single", options.as_slice(), 0),
                QuestionKind::MultipleChoice { options } => ("multiple", options.as_slice(), 0),
                QuestionKind::FreeText { max_len } => ("text", [].as_slice(), *max_len),
            };
            QuestionView {
                key: q.key.clone(),
                label: q.label.clone(),
                required: q.required,
                kind,
                options: options
                    .iter()
                    .map(|o| OptionView {
                        key: o.key.clone(),
                        label: o.label.clone(),
                        checked: picked.contains(&o.key),
                    })
                    .collect(),
                text: if kind == "text" {
                    picked.first().cloned().unwrap_or_default()
                } else {
                    String::new()
                },
                max_len,
                show_if_question: q
                    .show_if
                    .as_ref()
                    .map(|c| c.question_key.clone())
                    .unwrap_or_default(),
                show_if_values: q
                    .show_if
                    .as_ref()
                    .map(|c| c.equals_any.join(" "))
                    .unwrap_or_default(),
                hidden: !visible.contains(&q.key.as_str()),
                error: errors
                    .iter()
                    .find(|e| e.question_key == q.key)
                    .map(|e| sentence(&e.problem.to_string())),
                needed_for: if q.required {
                    String::new()
                } else {
                    settings
                        .outcomes
                        .iter()
                        .filter(|o| o.requires_answer(q))
                        .map(|o| o.label.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            }
        })
        .collect()
}

/// The outcome buttons grouped by what happened: a conversation with the contact
/// ("Reached"), none ("Not reached"), or a request never to be rung again ("Opt-out"); the
/// campaign's order within each group, empty groups left out, shortcuts numbered down the
/// page.
pub(super) fn outcome_groups(set: &OutcomeSet) -> Vec<OutcomeGroup> {
    let group_of = |o: &Outcome| match (o.effect, o.counts_as_conversation) {
        (OutcomeEffect::DoNotCall, _) => 2,
        (_, true) => 0,
        (_, false) => 1,
    };
    let mut groups = [
        ("Reached", "reached"),
        ("Not reached", "not-reached"),
        ("Opt-out", "opt-out"),
    ]
    .map(|(heading, slug)| OutcomeGroup {
        heading,
        slug,
        outcomes: Vec::new(),
    });
    for outcome in set.iter() {
        groups[group_of(outcome)].outcomes.push(OutcomeView {
            key: outcome.key.clone(),
            label: outcome.label.clone(),
            is_callback: outcome.effect == OutcomeEffect::Callback,
            is_do_not_call: outcome.effect == OutcomeEffect::DoNotCall,
            shortcut: String::new(),
        });
    }
    let mut groups: Vec<OutcomeGroup> = groups
        .into_iter()
        .filter(|g| !g.outcomes.is_empty())
        .collect();
    for (view, n) in groups
        .iter_mut()
        .flat_map(|g| g.outcomes.iter_mut())
        .zip(1..=9u32)
    {
        view.shortcut = n.to_string();
    }
    groups
}

/// A stored E.164 number as people in the UK write it ("020 7946 0001"), or as stored
/// if it does not parse.
pub(super) fn national_number(phone: &str) -> String {
    PhoneNumber::try_from(phone.to_owned())
        .map_or_else(|_| phone.to_owned(), |n| n.display_for(Region::GB))
}

/// Errors about questions the page does not show (unknown keys), as one sentence.
pub(super) fn unplaced_errors(survey: &Survey, errors: &[AnswerError]) -> Option<String> {
    let rest: Vec<String> = errors
        .iter()
        .filter(|e| !survey.questions.iter().any(|q| q.key == e.question_key))
        .map(ToString::to_string)
        .collect();
    (!rest.is_empty()).then(|| rest.join("; "))
}

fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// The posted fields: survey answers named `answers[KEY]` (repeated for multiple
/// choice) and everything else by name.
pub(super) struct PostedCall {
    pub answers: Answers,
    pub fields: BTreeMap<String, String>,
}

impl PostedCall {
    /// Sorts the raw pairs of the form body, typing answers by their question.
    pub fn new(survey: &Survey, pairs: Vec<(String, String)>) -> Self {
        let mut answers = Answers::new();
        let mut fields = BTreeMap::new();
        for (name, value) in pairs {
            let Some(key) = name
                .strip_prefix("answers[")
                .and_then(|k| k.strip_suffix(']'))
            else {
                fields.insert(name, value);
                continue;
            };
            let multiple = survey
                .questions
                .iter()
                .any(|q| q.key == key && matches!(q.kind, QuestionKind::MultipleChoice { .. }));
            if multiple {
                match answers
                    .entry(key.to_owned())
                    .or_insert_with(|| AnswerValue::Multiple(Vec::new()))
                {
                    AnswerValue::Multiple(values) => values.push(value),
                    AnswerValue::Single(_) => {}
                }
            } else {
                answers.insert(key.to_owned(), AnswerValue::Single(value));
            }
        }
        Self { answers, fields }
    }

    /// A field's value, or empty.
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn survey() -> Survey {
        serde_json::from_str(
            r#"{"questions": [
                {"key": "support", "label": "Support?", "kind": {"type": "single_choice",
                 "options": [{"key": "yes", "label": "Yes"}, {"key": "no", "label": "No"}]}},
                {"key": "issues", "label": "Issues", "kind": {"type": "multiple_choice",
                 "options": [{"key": "nhs", "label": "NHS"}, {"key": "housing", "label": "Housing"}]}},
                {"key": "why", "label": "Why not?", "kind": {"type": "free_text", "max_len": 10},
                 "show_if": {"question_key": "support", "equals_any": ["no"]}}
            ]}"#,
        )
        .unwrap_or_default()
    }

    #[test]
    fn outcomes_are_grouped_by_what_happened_and_numbered_down_the_page() {
        let groups = outcome_groups(&OutcomeSet::default_uk());
        let shown: Vec<(&str, Vec<(&str, &str)>)> = groups
            .iter()
            .map(|g| {
                let buttons = g
                    .outcomes
                    .iter()
                    .map(|o| (o.key.as_str(), o.shortcut.as_str()))
                    .collect();
                (g.heading, buttons)
            })
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "Reached",
                    vec![("spoke", "1"), ("callback", "2"), ("refused", "3")]
                ),
                (
                    "Not reached",
                    vec![
                        ("no_answer", "4"),
                        ("busy", "5"),
                        ("voicemail", "6"),
                        ("wrong_number", "7")
                    ]
                ),
                ("Opt-out", vec![("do_not_call", "8")]),
            ]
        );
        assert!(groups[2].outcomes[0].is_do_not_call);
        assert_eq!(national_number("+442079460001"), "020 7946 0001");
    }

    #[test]
    fn posted_fields_become_typed_answers() {
        let pairs = [
            ("answers[support]", "no"),
            ("answers[issues]", "nhs"),
            ("answers[issues]", "housing"),
            ("answers[why]", "far too long for this"),
            ("outcome", "spoke"),
        ];
        let posted = PostedCall::new(
            &survey(),
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        );
        assert_eq!(
            posted.answers.get("support"),
            Some(&AnswerValue::Single("no".into()))
        );
        assert_eq!(
            posted.answers.get("issues"),
            Some(&AnswerValue::Multiple(vec!["nhs".into(), "housing".into()]))
        );
        assert_eq!(posted.field("outcome"), "spoke");
        let errors = survey()
            .validate_answers(&posted.answers)
            .err()
            .unwrap_or_default();
        let mut settings = CampaignSettings::new("x");
        settings.survey = survey();
        let shown = questions(&settings, &posted.answers, &errors);
        assert!(!shown[2].hidden, "the branch opened by 'no' is shown");
        assert!(
            shown[2]
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with("Answer is 21 characters")),
            "{:?}",
            shown[2].error
        );
        assert!(shown[0].options[1].checked);
    }
}
