//! Call outcomes: the buttons a caller presses after a call, and what each one means.
//!
//! Owns a campaign's outcome set, its validation and the UK default set. It says what an
//! outcome *does* ([`OutcomeEffect`]); applying that to a contact's queue state is
//! `queue_policy`'s job, and writing the do-not-call list is the store's.

use serde::{Deserialize, Serialize};

use crate::limits;
use crate::survey::is_valid_key;

/// What recording an outcome does to the contact.
///
/// JSON: `{"type": "completed"}`, `{"type": "retry_after", "cooldown_minutes": 240}`,
/// `{"type": "callback"}`, `{"type": "wrong_number"}`, `{"type": "refused"}`,
/// `{"type": "do_not_call"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutcomeEffect {
    /// The call achieved its purpose; the contact is done.
    Completed,
    /// Try again later, no sooner than `cooldown_minutes` from now.
    RetryAfter {
        /// Minutes before the contact may be rung again (at least 1).
        cooldown_minutes: u32,
    },
    /// The contact asked to be rung at a time the caller records (`callback_at`).
    Callback,
    /// The number does not reach this person: the contact is done and the number flagged.
    WrongNumber,
    /// The contact declined to talk: done, but not added to the do-not-call list.
    Refused,
    /// "Don't call me again": done, and the number goes on the group's do-not-call list
    /// so no campaign rings it again.
    DoNotCall,
}

impl OutcomeEffect {
    /// Whether this outcome ends the contact's time in this campaign's queue.
    pub fn finishes_contact(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::WrongNumber | Self::Refused | Self::DoNotCall
        )
    }

    /// Whether the survey's required questions are waived: someone who refuses, opts out
    /// or asks to be rung later has not answered, and a caller must never invent an answer
    /// to honour "don't call me again". Answers given anyway are still checked and kept.
    pub fn waives_required_answers(self) -> bool {
        matches!(self, Self::Callback | Self::Refused | Self::DoNotCall)
    }
}

/// One outcome a caller can record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Stable identifier stored with each call attempt, e.g. `"no_answer"`.
    pub key: String,
    /// The button text, e.g. `"No answer"`.
    pub label: String,
    /// What recording it does to the contact.
    pub effect: OutcomeEffect,
    /// Whether the caller spoke with the contact, for the "conversations" statistic.
    #[serde(default)]
    pub counts_as_conversation: bool,
}

/// A campaign's outcomes, in button order. Always valid: construct it with
/// [`OutcomeSet::new`] or deserialise it (which validates). JSON: an array of outcomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Outcome>", into = "Vec<Outcome>")]
pub struct OutcomeSet {
    outcomes: Vec<Outcome>,
}

/// Why an outcome set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutcomeSetError {
    /// No outcomes at all.
    #[error("a campaign needs at least one outcome")]
    Empty,
    /// A key that is empty or has characters other than letters, digits, `_`, `-`.
    #[error("outcome key {0:?} must be 1 to {max} letters, digits, '_' or '-'", max = limits::KEY)]
    InvalidKey(String),
    /// Two outcomes with the same key.
    #[error("outcome key {0:?} is used twice")]
    DuplicateKey(String),
    /// An outcome without button text.
    #[error("outcome {0:?} has an empty label")]
    EmptyLabel(String),
    /// Button text longer than [`limits::OUTCOME_LABEL`] characters.
    #[error("outcome {0:?} has a label longer than {max} characters", max = limits::OUTCOME_LABEL)]
    LabelTooLong(String),
    /// A retry with no cooldown would put the contact straight back in the queue.
    #[error("outcome {0:?} must wait at least one minute before retrying")]
    ZeroCooldown(String),
    /// Callers must always be able to record "don't call me again" (PECR; see
    /// `research/phonebanking.md` §7).
    #[error("the outcomes must include one with the do-not-call effect")]
    NoDoNotCall,
}

impl OutcomeSet {
    /// Validates and wraps `outcomes`: non-empty, unique valid keys, labels present,
    /// retries wait at least a minute, and a do-not-call outcome exists.
    pub fn new(outcomes: Vec<Outcome>) -> Result<OutcomeSet, OutcomeSetError> {
        if outcomes.is_empty() {
            return Err(OutcomeSetError::Empty);
        }
        for (index, outcome) in outcomes.iter().enumerate() {
            if !is_valid_key(&outcome.key) {
                return Err(OutcomeSetError::InvalidKey(outcome.key.clone()));
            }
            if outcomes[..index].iter().any(|o| o.key == outcome.key) {
                return Err(OutcomeSetError::DuplicateKey(outcome.key.clone()));
            }
            if outcome.label.trim().is_empty() {
                return Err(OutcomeSetError::EmptyLabel(outcome.key.clone()));
            }
            if limits::check_length("label", &outcome.label, limits::OUTCOME_LABEL).is_err() {
                return Err(OutcomeSetError::LabelTooLong(outcome.key.clone()));
            }
            if outcome.effect
                == (OutcomeEffect::RetryAfter {
                    cooldown_minutes: 0,
                })
            {
                return Err(OutcomeSetError::ZeroCooldown(outcome.key.clone()));
            }
        }
        if !outcomes
            .iter()
            .any(|o| o.effect == OutcomeEffect::DoNotCall)
        {
            return Err(OutcomeSetError::NoDoNotCall);
        }
        Ok(OutcomeSet { outcomes })
    }

    /// The default set for UK campaigns.
    ///
    /// `spoke` (completed), `no_answer` (retry after 4 h), `busy` (1 h), `voicemail`
    /// (24 h), `callback`, `wrong_number`, `refused`, `do_not_call`. Conversations are
    /// `spoke`, `callback`, `refused` and `do_not_call`: a live person who is the contact.
    pub fn default_uk() -> OutcomeSet {
        let outcome = |key: &str, label: &str, effect, conversation| Outcome {
            key: key.to_owned(),
            label: label.to_owned(),
            effect,
            counts_as_conversation: conversation,
        };
        let retry = |minutes| OutcomeEffect::RetryAfter {
            cooldown_minutes: minutes,
        };
        OutcomeSet {
            outcomes: vec![
                outcome("spoke", "Spoke to them", OutcomeEffect::Completed, true),
                outcome("no_answer", "No answer", retry(4 * 60), false),
                outcome("busy", "Busy / engaged", retry(60), false),
                outcome("voicemail", "Voicemail", retry(24 * 60), false),
                outcome("callback", "Call back later", OutcomeEffect::Callback, true),
                outcome(
                    "wrong_number",
                    "Wrong number",
                    OutcomeEffect::WrongNumber,
                    false,
                ),
                outcome("refused", "Refused to talk", OutcomeEffect::Refused, true),
                outcome(
                    "do_not_call",
                    "Do not call again",
                    OutcomeEffect::DoNotCall,
                    true,
                ),
            ],
        }
    }

    /// The outcome with this key, if any.
    pub fn get(&self, key: &str) -> Option<&Outcome> {
        self.outcomes.iter().find(|o| o.key == key)
    }

    /// The outcomes in button order.
    pub fn iter(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter()
    }
}

impl TryFrom<Vec<Outcome>> for OutcomeSet {
    type Error = OutcomeSetError;

    fn try_from(outcomes: Vec<Outcome>) -> Result<Self, Self::Error> {
        OutcomeSet::new(outcomes)
    }
}

impl From<OutcomeSet> for Vec<Outcome> {
    fn from(set: OutcomeSet) -> Vec<Outcome> {
        set.outcomes
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_uk_set_has_the_expected_buttons_and_effects() {
        let set = OutcomeSet::default_uk();
        assert!(OutcomeSet::new(set.iter().cloned().collect()).is_ok());
        let keys: Vec<&str> = set.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "spoke",
                "no_answer",
                "busy",
                "voicemail",
                "callback",
                "wrong_number",
                "refused",
                "do_not_call"
            ]
        );
        let effect = |key| set.get(key).unwrap().effect;
        assert_eq!(
            effect("no_answer"),
            OutcomeEffect::RetryAfter {
                cooldown_minutes: 240
            }
        );
        assert_eq!(
            effect("busy"),
            OutcomeEffect::RetryAfter {
                cooldown_minutes: 60
            }
        );
        assert_eq!(
            effect("voicemail"),
            OutcomeEffect::RetryAfter {
                cooldown_minutes: 1440
            }
        );
        assert!(effect("do_not_call").finishes_contact());
        assert!(!effect("callback").finishes_contact());
        assert!(set.get("spoke").unwrap().counts_as_conversation);
        assert!(!set.get("wrong_number").unwrap().counts_as_conversation);
        assert!(set.get("nope").is_none());
    }

    #[test]
    fn json_shape_is_an_array_with_tagged_effects() {
        let json = serde_json::to_value(OutcomeSet::default_uk()).unwrap();
        assert_eq!(
            json[1],
            json!({"key": "no_answer", "label": "No answer",
                   "effect": {"type": "retry_after", "cooldown_minutes": 240},
                   "counts_as_conversation": false})
        );
        let back: OutcomeSet = serde_json::from_value(json).unwrap();
        assert_eq!(back, OutcomeSet::default_uk());
    }

    #[test]
    fn invalid_sets_are_refused_with_a_reason() {
        let o = |key: &str, effect| Outcome {
            key: key.into(),
            label: "Label".into(),
            effect,
            counts_as_conversation: false,
        };
        let dnc = || o("dnc", OutcomeEffect::DoNotCall);
        assert_eq!(OutcomeSet::new(vec![]), Err(OutcomeSetError::Empty));
        assert_eq!(
            OutcomeSet::new(vec![o("spoke", OutcomeEffect::Completed)]),
            Err(OutcomeSetError::NoDoNotCall)
        );
        assert_eq!(
            OutcomeSet::new(vec![dnc(), dnc()]).unwrap_err().to_string(),
            "outcome key \"dnc\" is used twice"
        );
        assert_eq!(
            OutcomeSet::new(vec![dnc(), o("no answer", OutcomeEffect::Refused)]),
            Err(OutcomeSetError::InvalidKey("no answer".into()))
        );
        assert_eq!(
            OutcomeSet::new(vec![
                dnc(),
                o(
                    "again",
                    OutcomeEffect::RetryAfter {
                        cooldown_minutes: 0
                    }
                )
            ]),
            Err(OutcomeSetError::ZeroCooldown("again".into()))
        );
        let json = json!([{"key": "x", "label": "", "effect": {"type": "do_not_call"}}]);
        let err = serde_json::from_value::<OutcomeSet>(json).unwrap_err();
        assert!(err.to_string().contains("empty label"), "{err}");
    }
}
