//! OpenAPI schemas for JSON values whose Rust types live in crates that must not know
//! about the HTTP layer: surveys, call outcomes, calling hours, queue counts and the event
//! form. Each mirrors the serde shape of its domain or store type field for field; the
//! tests at the end serialise real values and compare their keys with these schemas.
//! Nothing here is deserialised: the handlers read the real types.

#![allow(
    dead_code,
    reason = "the fields exist only to be described in the document"
)]

use serde::Serialize;
use utoipa::ToSchema;

/// A campaign's survey: questions in the order the caller sees them.
#[derive(Serialize, ToSchema)]
#[schema(as = Survey)]
pub(crate) struct SurveySchema {
    questions: Vec<QuestionSchema>,
}

/// One survey question.
#[derive(Serialize, ToSchema)]
#[schema(as = SurveyQuestion)]
pub(crate) struct QuestionSchema {
    /// Stable identifier used in answers and exports: letters, digits, `_` or `-`.
    key: String,
    /// The text the caller reads.
    label: String,
    /// Whether the caller must answer before saving (default false).
    #[schema(required = false)]
    required: bool,
    kind: QuestionKindSchema,
    /// Show the question only when an earlier answer matches.
    #[schema(required = false)]
    show_if: Option<ConditionSchema>,
}

/// The kind of answer a question takes, by `type`.
#[derive(Serialize, ToSchema)]
#[schema(as = SurveyQuestionKind)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum QuestionKindSchema {
    /// Exactly one option.
    SingleChoice {
        /// The options, in display order.
        options: Vec<ChoiceOptionSchema>,
    },
    /// Any number of options.
    MultipleChoice {
        /// The options, in display order.
        options: Vec<ChoiceOptionSchema>,
    },
    /// Free text up to `max_len` characters.
    FreeText {
        /// Longest accepted answer, in characters (at least 1).
        #[schema(minimum = 1)]
        max_len: u64,
    },
}

/// One option of a choice question.
#[derive(Serialize, ToSchema)]
#[schema(as = SurveyOption)]
pub(crate) struct ChoiceOptionSchema {
    /// Stable identifier stored in answers, e.g. `yes`.
    key: String,
    /// What the caller sees.
    label: String,
}

/// Branching: shown only when the earlier question's answer is one of `equals_any`.
#[derive(Serialize, ToSchema)]
#[schema(as = SurveyCondition)]
pub(crate) struct ConditionSchema {
    /// Key of an earlier choice question.
    question_key: String,
    /// Option keys of that question that make this one visible.
    equals_any: Vec<String>,
}

/// An answer: a string (free text or one option key) or an array of option keys.
#[derive(Serialize, ToSchema)]
#[schema(as = SurveyAnswer)]
#[serde(untagged)]
pub(crate) enum AnswerSchema {
    /// A free-text answer or one option key.
    Single(String),
    /// Option keys of a multiple-choice question.
    Multiple(Vec<String>),
}

/// One outcome a caller can record.
#[derive(Serialize, ToSchema)]
#[schema(as = Outcome)]
pub(crate) struct OutcomeSchema {
    /// Stable identifier stored with each call attempt, e.g. `no_answer`.
    key: String,
    /// The button text.
    label: String,
    effect: OutcomeEffectSchema,
    /// Whether the caller spoke with the contact (default false).
    #[schema(required = false)]
    counts_as_conversation: bool,
    /// Keys of survey questions that must be answered (when shown) to record this
    /// outcome, on top of the questions marked `required`. Only for outcomes that count
    /// as a conversation, never for `callback`, `refused` or `do_not_call`.
    #[schema(required = false)]
    requires: Vec<String>,
}

/// What recording an outcome does to the contact, by `type`.
#[derive(Serialize, ToSchema)]
#[schema(as = OutcomeEffect)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum OutcomeEffectSchema {
    /// The call achieved its purpose; the contact is done.
    Completed,
    /// Try again later, no sooner than `cooldown_minutes` from now.
    RetryAfter {
        /// Minutes before the contact may be rung again (at least 1).
        #[schema(minimum = 1)]
        cooldown_minutes: u32,
    },
    /// Ring back at the time the caller records (`callback_at`).
    Callback,
    /// The number does not reach this person.
    WrongNumber,
    /// The contact declined to talk.
    Refused,
    /// "Don't call me again": the number goes on the group's do-not-call list.
    DoNotCall,
}

/// Weekly calling hours in one IANA time zone; a missing or null day is closed.
#[derive(Serialize, ToSchema)]
#[schema(as = CallingHours)]
pub(crate) struct CallingHoursSchema {
    /// IANA time zone, e.g. `Europe/London`.
    time_zone: String,
    days: CallingDaysSchema,
}

/// Each weekday's window.
#[derive(Serialize, ToSchema)]
#[schema(as = CallingDays)]
pub(crate) struct CallingDaysSchema {
    #[schema(required = false)]
    monday: Option<CallingWindowSchema>,
    #[schema(required = false)]
    tuesday: Option<CallingWindowSchema>,
    #[schema(required = false)]
    wednesday: Option<CallingWindowSchema>,
    #[schema(required = false)]
    thursday: Option<CallingWindowSchema>,
    #[schema(required = false)]
    friday: Option<CallingWindowSchema>,
    #[schema(required = false)]
    saturday: Option<CallingWindowSchema>,
    #[schema(required = false)]
    sunday: Option<CallingWindowSchema>,
}

/// One day's window; it may not cross midnight (`24:00` ends at midnight).
#[derive(Serialize, ToSchema)]
#[schema(as = CallingWindow)]
pub(crate) struct CallingWindowSchema {
    /// `HH:MM`.
    start: String,
    /// `HH:MM`, after `start`.
    end: String,
}

/// A campaign's contacts by queue state.
#[derive(Serialize, ToSchema)]
#[schema(as = QueueCounts)]
pub(crate) struct QueueCountsSchema {
    /// Contacts on the list.
    total: i64,
    /// Claimable now (calling hours aside).
    ready: i64,
    /// Held by a caller right now.
    leased: i64,
    /// Waiting for a retry cooldown to end.
    cooling_down: i64,
    /// Waiting for a callback time.
    callbacks_scheduled: i64,
    /// Finished: reached a conclusion or ran out of attempts.
    finished: i64,
    /// On a do-not-call or TPS list.
    suppressed: i64,
    /// Contacts called at least once.
    called: i64,
    /// The earliest time a waiting contact becomes claimable (ms since the epoch).
    next_available_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use barnstorm_domain::calling_window::CallingWindows;
    use barnstorm_domain::outcome::OutcomeSet;
    use serde_json::{Value, json};
    use std::collections::BTreeSet;
    use utoipa::PartialSchema;

    fn schema_properties<T: ToSchema>() -> BTreeSet<String> {
        let schema = serde_json::to_value(T::schema()).unwrap_or(Value::Null);
        schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn keys(value: &Value) -> BTreeSet<String> {
        value
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }

    #[test]
    fn the_default_outcomes_have_only_documented_fields() {
        let outcomes = serde_json::to_value(OutcomeSet::default_uk()).unwrap();
        let documented = schema_properties::<OutcomeSchema>();
        let effect = serde_json::to_string(&OutcomeEffectSchema::schema()).unwrap();
        for outcome in outcomes.as_array().unwrap() {
            assert!(keys(outcome).is_subset(&documented), "{outcome}");
            let kind = outcome["effect"]["type"].as_str().unwrap();
            assert!(
                effect.contains(&format!("\"{kind}\"")),
                "{kind} in {effect}"
            );
        }
    }

    #[test]
    fn calling_hours_have_only_documented_fields() {
        let hours = serde_json::to_value(CallingWindows::uk_default()).unwrap();
        assert_eq!(keys(&hours), schema_properties::<CallingHoursSchema>());
        assert!(keys(&hours["days"]).is_subset(&schema_properties::<CallingDaysSchema>()));
        assert_eq!(
            keys(&hours["days"]["monday"]),
            schema_properties::<CallingWindowSchema>()
        );
    }

    #[test]
    fn a_survey_has_only_documented_fields() {
        let survey: barnstorm_domain::survey::Survey = serde_json::from_value(json!({
            "questions": [
                {"key": "support", "label": "Will you vote for us?", "required": true,
                 "kind": {"type": "single_choice", "options": [{"key": "yes", "label": "Yes"}]}},
                {"key": "why", "label": "Why?", "kind": {"type": "free_text", "max_len": 500},
                 "show_if": {"question_key": "support", "equals_any": ["yes"]}}
            ]
        }))
        .unwrap();
        let value = serde_json::to_value(&survey).unwrap();
        assert_eq!(keys(&value), schema_properties::<SurveySchema>());
        let question = schema_properties::<QuestionSchema>();
        for q in value["questions"].as_array().unwrap() {
            assert!(keys(q).is_subset(&question), "{q}");
        }
        assert_eq!(
            keys(&value["questions"][1]["show_if"]),
            schema_properties::<ConditionSchema>()
        );
        let kinds = serde_json::to_string(&QuestionKindSchema::schema()).unwrap();
        for kind in [
            "single_choice",
            "multiple_choice",
            "free_text",
            "max_len",
            "options",
        ] {
            assert!(kinds.contains(&format!("\"{kind}\"")), "{kind} in {kinds}");
        }
    }
}
