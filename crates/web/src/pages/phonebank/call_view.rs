//! What the caller's page shows for one contact: the survey as form fields (with the
//! branching the page script applies), the outcome buttons with their shortcuts, and
//! reading the posted form back into `Answers`. It must not check answers: the
//! dispatcher does, and its errors are placed next to the questions here.

use barnstorm_domain::outcome::{OutcomeEffect, OutcomeSet};
use barnstorm_domain::survey::{AnswerError, AnswerValue, Answers, QuestionKind, Survey};
use std::collections::BTreeMap;

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
}

/// One outcome button.
pub(super) struct OutcomeView {
    pub key: String,
    pub label: String,
    pub is_callback: bool,
    /// The digit that picks it on a keyboard, for the first nine.
    pub shortcut: String,
}

/// The survey as fields, filled with `answers` and marked with `errors`.
pub(super) fn questions(
    survey: &Survey,
    answers: &Answers,
    errors: &[AnswerError],
) -> Vec<QuestionView> {
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
            }
        })
        .collect()
}

/// The outcome buttons, in the campaign's order.
pub(super) fn outcomes(set: &OutcomeSet) -> Vec<OutcomeView> {
    set.iter()
        .zip(1..)
        .map(|(o, n): (_, u32)| OutcomeView {
            key: o.key.clone(),
            label: o.label.clone(),
            is_callback: o.effect == OutcomeEffect::Callback,
            shortcut: if n <= 9 { n.to_string() } else { String::new() },
        })
        .collect()
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
        let shown = questions(&survey(), &posted.answers, &errors);
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
