//! Call outcomes: the buttons a caller presses after a call, and what each one means.
//!
//! Owns a campaign's outcome set, its validation and the UK default set, and the rule for
//! which survey questions an outcome needs answered ([`Outcome::requires_answer`]). It says
//! what an outcome *does* ([`OutcomeEffect`]); applying that to a contact's queue state is
//! `queue_policy`'s job, and writing the do-not-call list is the store's.

use serde::{Deserialize, Serialize};

use std::fmt;

use crate::limits;
use crate::survey::{Question, Survey, is_valid_key};

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
    /// Only conversations record survey answers.
    #[serde(default)]
    pub counts_as_conversation: bool,
    /// Keys of survey questions this outcome needs answered (when shown), on top of the
    /// questions marked required. Never set on an opt-out; empty for campaigns stored
    /// before outcomes could require answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
}

impl Outcome {
    /// Whether recording this outcome needs `question` answered, when it is shown. The
    /// one rule: outcomes that are not conversations record no answers, and opt-outs
    /// (call back, refused, do not call) never need any; every other outcome needs the
    /// questions marked required plus the ones it lists.
    pub fn requires_answer(&self, question: &Question) -> bool {
        self.counts_as_conversation
            && !self.effect.waives_required_answers()
            && (question.required || self.requires.contains(&question.key))
    }
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
    /// Callers must always be able to record "don't call me again" (PECR; see
    /// `research/phonebanking.md` §7).
    #[error("the outcomes must include one with the do-not-call effect")]
    NoDoNotCall,
    /// A mistake in one outcome.
    #[error("{0}")]
    Outcome(OutcomeMistake),
}

/// A mistake in one outcome, naming it: "Outcome 'Call back': the cooldown must be at
/// least one minute".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeMistake {
    /// The outcome's place in the set, from 1.
    pub position: usize,
    /// Its label as given (may be empty).
    pub label: String,
    /// What is wrong.
    pub problem: OutcomeProblem,
}

/// What is wrong with one outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutcomeProblem {
    /// A key that is empty or has characters other than letters, digits, `_`, `-`.
    InvalidKey(String),
    /// The key of an earlier outcome.
    DuplicateKey(String),
    /// No button text.
    EmptyLabel,
    /// Button text longer than [`limits::OUTCOME_LABEL`] characters.
    LabelTooLong,
    /// A retry with no cooldown would put the contact straight back in the queue.
    ZeroCooldown,
    /// An opt-out (call back, refused, do not call) must never wait for answers.
    OptOutRequiresAnswers,
    /// Only conversations record answers, so only they can require one.
    RequiresWithoutConversation,
    /// A required question key the survey does not have.
    UnknownQuestion(String),
}

impl fmt::Display for OutcomeMistake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.label.trim().is_empty() {
            write!(f, "Outcome {}: ", self.position)?;
        } else {
            write!(f, "Outcome '{}': ", self.label.trim())?;
        }
        match &self.problem {
            OutcomeProblem::InvalidKey(key) => write!(
                f,
                "the key {key:?} must be 1 to {} letters, digits, '_' or '-'",
                limits::KEY
            ),
            OutcomeProblem::DuplicateKey(key) => {
                write!(f, "the key {key:?} is used by an earlier outcome")
            }
            OutcomeProblem::EmptyLabel => f.write_str("the button has no text"),
            OutcomeProblem::LabelTooLong => write!(
                f,
                "the button text is longer than {} characters",
                limits::OUTCOME_LABEL
            ),
            OutcomeProblem::ZeroCooldown => f.write_str("the cooldown must be at least one minute"),
            OutcomeProblem::OptOutRequiresAnswers => f.write_str(
                "call backs, refusals and do-not-call never require answers: \
                 nobody must be kept on the line to honour them",
            ),
            OutcomeProblem::RequiresWithoutConversation => f.write_str(
                "only an outcome that counts as a conversation records answers, \
                 so only such an outcome can require them",
            ),
            OutcomeProblem::UnknownQuestion(key) => {
                write!(
                    f,
                    "it requires the question {key:?}, which the survey does not have"
                )
            }
        }
    }
}

impl OutcomeSet {
    /// Validates and wraps `outcomes`: non-empty, unique valid keys, labels present,
    /// retries wait at least a minute, opt-outs and outcomes that are not conversations
    /// require no answers, and a do-not-call outcome exists. Returns the first mistake;
    /// [`OutcomeSet::mistakes`] lists them all.
    pub fn new(outcomes: Vec<Outcome>) -> Result<OutcomeSet, OutcomeSetError> {
        match Self::mistakes(&outcomes).into_iter().next() {
            Some(mistake) => Err(mistake),
            None => Ok(OutcomeSet { outcomes }),
        }
    }

    /// Every mistake in `outcomes`, in order; empty when they make a valid set.
    pub fn mistakes(outcomes: &[Outcome]) -> Vec<OutcomeSetError> {
        if outcomes.is_empty() {
            return vec![OutcomeSetError::Empty];
        }
        let mut mistakes = Vec::new();
        for (index, outcome) in outcomes.iter().enumerate() {
            let mut fail = |problem| {
                mistakes.push(OutcomeSetError::Outcome(OutcomeMistake {
                    position: index + 1,
                    label: outcome.label.clone(),
                    problem,
                }))
            };
            if !is_valid_key(&outcome.key) {
                fail(OutcomeProblem::InvalidKey(outcome.key.clone()));
            }
            if outcomes[..index].iter().any(|o| o.key == outcome.key) {
                fail(OutcomeProblem::DuplicateKey(outcome.key.clone()));
            }
            if outcome.label.trim().is_empty() {
                fail(OutcomeProblem::EmptyLabel);
            }
            if limits::check_length("label", &outcome.label, limits::OUTCOME_LABEL).is_err() {
                fail(OutcomeProblem::LabelTooLong);
            }
            if outcome.effect
                == (OutcomeEffect::RetryAfter {
                    cooldown_minutes: 0,
                })
            {
                fail(OutcomeProblem::ZeroCooldown);
            }
            if !outcome.requires.is_empty() {
                if outcome.effect.waives_required_answers() {
                    fail(OutcomeProblem::OptOutRequiresAnswers);
                } else if !outcome.counts_as_conversation {
                    fail(OutcomeProblem::RequiresWithoutConversation);
                }
            }
        }
        if !outcomes
            .iter()
            .any(|o| o.effect == OutcomeEffect::DoNotCall)
        {
            mistakes.push(OutcomeSetError::NoDoNotCall);
        }
        mistakes
    }

    /// The outcomes' required questions that `survey` does not have: checked whenever
    /// either changes, since outcomes alone cannot know the survey.
    pub fn mistakes_against(&self, survey: &Survey) -> Vec<OutcomeSetError> {
        let mut mistakes = Vec::new();
        for (index, outcome) in self.outcomes.iter().enumerate() {
            for key in &outcome.requires {
                if !survey.questions.iter().any(|q| &q.key == key) {
                    mistakes.push(OutcomeSetError::Outcome(OutcomeMistake {
                        position: index + 1,
                        label: outcome.label.clone(),
                        problem: OutcomeProblem::UnknownQuestion(key.clone()),
                    }));
                }
            }
        }
        mistakes
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
            requires: Vec::new(),
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

    fn outcome(key: &str, effect: OutcomeEffect) -> Outcome {
        Outcome {
            key: key.into(),
            label: "Label".into(),
            effect,
            counts_as_conversation: false,
            requires: Vec::new(),
        }
    }

    #[test]
    fn invalid_sets_are_refused_with_a_reason() {
        let o = outcome;
        let dnc = || o("dnc", OutcomeEffect::DoNotCall);
        assert_eq!(OutcomeSet::new(vec![]), Err(OutcomeSetError::Empty));
        assert_eq!(
            OutcomeSet::new(vec![o("spoke", OutcomeEffect::Completed)]),
            Err(OutcomeSetError::NoDoNotCall)
        );
        assert_eq!(
            OutcomeSet::new(vec![dnc(), dnc()]).unwrap_err().to_string(),
            "Outcome 'Label': the key \"dnc\" is used by an earlier outcome"
        );
        let mistake = |position, problem| {
            Err(OutcomeSetError::Outcome(OutcomeMistake {
                position,
                label: "Label".into(),
                problem,
            }))
        };
        assert_eq!(
            OutcomeSet::new(vec![dnc(), o("no answer", OutcomeEffect::Refused)]),
            mistake(2, OutcomeProblem::InvalidKey("no answer".into()))
        );
        let mut again = o(
            "again",
            OutcomeEffect::RetryAfter {
                cooldown_minutes: 0,
            },
        );
        again.label = "Call back".into();
        assert_eq!(
            OutcomeSet::new(vec![dnc(), again]).unwrap_err().to_string(),
            "Outcome 'Call back': the cooldown must be at least one minute"
        );
        let json = json!([{"key": "x", "label": "", "effect": {"type": "do_not_call"}}]);
        let err = serde_json::from_value::<OutcomeSet>(json).unwrap_err();
        assert!(
            err.to_string()
                .contains("Outcome 1: the button has no text"),
            "{err}"
        );
    }

    #[test]
    fn opt_outs_and_non_conversations_cannot_require_answers() {
        let mut refuses = outcome("dnc", OutcomeEffect::DoNotCall);
        refuses.counts_as_conversation = true;
        refuses.requires = vec!["support".into()];
        let mistakes = OutcomeSet::mistakes(&[refuses]);
        assert_eq!(mistakes.len(), 1, "{mistakes:?}");
        assert!(
            mistakes[0]
                .to_string()
                .contains("do-not-call never require answers"),
            "{}",
            mistakes[0]
        );
        let mut voicemail = outcome(
            "voicemail",
            OutcomeEffect::RetryAfter {
                cooldown_minutes: 60,
            },
        );
        voicemail.requires = vec!["support".into()];
        let mistakes = OutcomeSet::mistakes(&[voicemail, outcome("dnc", OutcomeEffect::DoNotCall)]);
        assert!(
            matches!(
                &mistakes[..],
                [OutcomeSetError::Outcome(OutcomeMistake {
                    problem: OutcomeProblem::RequiresWithoutConversation,
                    position: 1,
                    ..
                })]
            ),
            "{mistakes:?}"
        );
    }

    #[test]
    fn the_required_answer_rule_combines_the_survey_and_the_outcome() {
        let survey: Survey = serde_json::from_value(json!({"questions": [
            {"key": "support", "label": "Support?", "required": true,
             "kind": {"type": "free_text", "max_len": 10}},
            {"key": "email", "label": "Email?", "kind": {"type": "free_text", "max_len": 10}}
        ]}))
        .unwrap();
        let mut spoke = outcome("spoke", OutcomeEffect::Completed);
        spoke.counts_as_conversation = true;
        let needs = |o: &Outcome| -> Vec<&str> {
            survey
                .questions
                .iter()
                .filter(|q| o.requires_answer(q))
                .map(|q| q.key.as_str())
                .collect()
        };
        assert_eq!(needs(&spoke), ["support"]);
        spoke.requires = vec!["email".into()];
        assert_eq!(needs(&spoke), ["support", "email"]);
        let mut dnc = outcome("dnc", OutcomeEffect::DoNotCall);
        dnc.counts_as_conversation = true;
        assert!(needs(&dnc).is_empty(), "opt-outs never need answers");
        let set = OutcomeSet::new(vec![spoke, dnc]).unwrap();
        assert!(set.mistakes_against(&survey).is_empty());
        let mistakes = set.mistakes_against(&Survey::default());
        assert_eq!(
            mistakes[0].to_string(),
            "Outcome 'Label': it requires the question \"email\", which the survey does not have"
        );
    }

    #[test]
    fn outcomes_stored_before_required_answers_still_read() {
        let json = json!([{"key": "spoke", "label": "Spoke", "effect": {"type": "completed"},
                           "counts_as_conversation": true},
                          {"key": "dnc", "label": "Do not call", "effect": {"type": "do_not_call"}}]);
        let set: OutcomeSet = serde_json::from_value(json).unwrap();
        assert!(set.get("spoke").unwrap().requires.is_empty());
    }
}
