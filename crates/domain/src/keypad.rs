//! Recording a call from a phone's keypad: the spoken outcome menu built from the
//! campaign's outcomes ("press 1 for spoke, … press 9 for do not call"), then each visible
//! choice question of the survey ("press 1 for yes, press 2 for no, press 0 to skip").
//! Pure: the engine says the [`Spoken`] parts and feeds the digits pressed back in.

use crate::outcome::{Outcome, OutcomeEffect, OutcomeSet};
use crate::survey::{AnswerValue, Answers, Question, QuestionKind, Survey};

/// The key reserved for "do not call", whatever the campaign's order.
pub const DO_NOT_CALL_KEY: char = '9';
/// The key that skips an optional question.
pub const SKIP_KEY: char = '0';
/// The key that ends a multiple-choice answer.
pub const DONE_KEY: char = '#';

/// One part of what the caller hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spoken {
    /// A recorded prompt by name (`press`, `for`, `digit-1`, `question`, …).
    Prompt(&'static str),
    /// Words for the synthesiser: an outcome's label, a question, an option.
    Words(String),
}

/// The prompt that says a key.
pub fn key_prompt(key: char) -> Spoken {
    Spoken::Prompt(match key {
        '0' => "digit-0",
        '1' => "digit-1",
        '2' => "digit-2",
        '3' => "digit-3",
        '4' => "digit-4",
        '5' => "digit-5",
        '6' => "digit-6",
        '7' => "digit-7",
        '8' => "digit-8",
        '9' => "digit-9",
        '*' => "star",
        _ => "hash",
    })
}

/// Which key records which outcome: the campaign's outcomes in order on 1 to 8, the first
/// do-not-call outcome always on 9 (so a caller can learn it once); outcomes past the
/// eighth are recorded on the caller page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeMenu {
    entries: Vec<(char, Outcome)>,
}

impl OutcomeMenu {
    /// The menu for a campaign's outcomes.
    pub fn new(outcomes: &OutcomeSet) -> Self {
        let mut entries = Vec::new();
        let mut do_not_call = None;
        let mut keys = '1'..='8';
        for outcome in outcomes.iter() {
            if outcome.effect == OutcomeEffect::DoNotCall && do_not_call.is_none() {
                do_not_call = Some(outcome.clone());
            } else if let Some(key) = keys.next() {
                entries.push((key, outcome.clone()));
            }
        }
        entries.extend(do_not_call.map(|outcome| (DO_NOT_CALL_KEY, outcome)));
        Self { entries }
    }

    /// The outcome on `key`.
    pub fn pick(&self, key: char) -> Option<&Outcome> {
        self.entries.iter().find(|(k, _)| *k == key).map(|(_, o)| o)
    }

    /// The key of the outcome `outcome_key`, if it is on the menu.
    pub fn key_of(&self, outcome_key: &str) -> Option<char> {
        self.entries
            .iter()
            .find(|(_, o)| o.key == outcome_key)
            .map(|(k, _)| *k)
    }

    /// "Press 1 for Spoke to them. Press 2 for No answer. …"
    pub fn spoken(&self) -> Vec<Spoken> {
        self.entries
            .iter()
            .flat_map(|(key, outcome)| press_for(*key, &outcome.label))
            .collect()
    }
}

fn press_for(key: char, label: &str) -> [Spoken; 4] {
    [
        Spoken::Prompt("press"),
        key_prompt(key),
        Spoken::Prompt("for"),
        Spoken::Words(label.to_string()),
    ]
}

/// What a key press did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pressed {
    /// The key is not on the menu; say so and ask again.
    NotOnMenu,
    /// Taken; say [`WrapUp::spoken`] for the next step.
    Next,
    /// Everything is answered: record this.
    Done {
        /// The outcome key.
        outcome: String,
        /// The survey answers given on the keypad.
        answers: Answers,
    },
}

/// After a call: the outcome, then the survey's visible choice questions for outcomes
/// that are conversations (not opt-outs: nobody who said "don't call me" is surveyed).
/// Free-text questions are left for the caller page.
#[derive(Debug, Clone)]
pub struct WrapUp {
    menu: OutcomeMenu,
    survey: Survey,
    outcome: Option<Outcome>,
    answers: Answers,
    /// Options chosen so far on the current multiple-choice question.
    chosen: Vec<String>,
}

impl WrapUp {
    /// A wrap-up for a campaign's outcomes and survey.
    pub fn new(outcomes: &OutcomeSet, survey: &Survey) -> Self {
        Self {
            menu: OutcomeMenu::new(outcomes),
            survey: survey.clone(),
            outcome: None,
            answers: Answers::new(),
            chosen: Vec::new(),
        }
    }

    /// The outcome menu.
    pub fn menu(&self) -> &OutcomeMenu {
        &self.menu
    }

    /// The question being asked, if the outcome is chosen and one is left.
    fn current_question(&self) -> Option<&Question> {
        let outcome = self.outcome.as_ref()?;
        if !outcome.counts_as_conversation || outcome.effect.waives_required_answers() {
            return None;
        }
        self.survey
            .visible_questions(&self.answers)
            .into_iter()
            .find(|q| !self.answers.contains_key(&q.key) && q.options().is_some())
            .filter(|q| !self.skipped(&q.key))
    }

    fn skipped(&self, key: &str) -> bool {
        matches!(self.answers.get(key), Some(AnswerValue::Multiple(v)) if v.is_empty())
    }

    /// What to say now: the outcome menu, or the next question with its options.
    pub fn spoken(&self) -> Vec<Spoken> {
        let Some(question) = self.current_question() else {
            let mut parts = vec![Spoken::Prompt("outcome-menu-intro")];
            parts.extend(self.menu.spoken());
            return parts;
        };
        let mut parts = vec![
            Spoken::Prompt("question"),
            Spoken::Words(question.label.clone()),
        ];
        let options = question.options().unwrap_or_default();
        for (key, option) in ('1'..='9').zip(options) {
            parts.extend(press_for(key, &option.label));
        }
        if matches!(question.kind, QuestionKind::MultipleChoice { .. }) {
            parts.extend([
                Spoken::Prompt("press"),
                key_prompt(DONE_KEY),
                Spoken::Prompt("for"),
                Spoken::Words("done".into()),
            ]);
        } else if !self.needs(question) {
            parts.extend([
                Spoken::Prompt("press"),
                key_prompt(SKIP_KEY),
                Spoken::Prompt("for"),
                Spoken::Words("skip".into()),
            ]);
        }
        parts
    }

    fn needs(&self, question: &Question) -> bool {
        self.outcome
            .as_ref()
            .is_some_and(|outcome| outcome.requires_answer(question))
    }

    /// Takes a key press.
    pub fn press(&mut self, key: char) -> Pressed {
        let Some(question) = self.current_question().cloned() else {
            if self.outcome.is_some() {
                return self.done();
            }
            let Some(outcome) = self.menu.pick(key).cloned() else {
                return Pressed::NotOnMenu;
            };
            self.outcome = Some(outcome);
            return self.next_or_done();
        };
        let options = question.options().unwrap_or_default();
        let option = key
            .to_digit(10)
            .and_then(|d| usize::try_from(d).ok())
            .filter(|d| *d >= 1)
            .and_then(|d| options.get(d - 1));
        match (&question.kind, option, key) {
            (QuestionKind::MultipleChoice { .. }, Some(option), _) => {
                if !self.chosen.contains(&option.key) {
                    self.chosen.push(option.key.clone());
                }
                Pressed::Next
            }
            (QuestionKind::MultipleChoice { .. }, None, DONE_KEY) => {
                if self.chosen.is_empty() && self.needs(&question) {
                    return Pressed::NotOnMenu;
                }
                let chosen = std::mem::take(&mut self.chosen);
                self.answers
                    .insert(question.key.clone(), AnswerValue::Multiple(chosen));
                self.next_or_done()
            }
            (_, Some(option), _) => {
                self.answers.insert(
                    question.key.clone(),
                    AnswerValue::Single(option.key.clone()),
                );
                self.next_or_done()
            }
            (_, None, SKIP_KEY) if !self.needs(&question) => {
                self.answers
                    .insert(question.key.clone(), AnswerValue::Multiple(Vec::new()));
                self.next_or_done()
            }
            _ => Pressed::NotOnMenu,
        }
    }

    fn next_or_done(&mut self) -> Pressed {
        if self.current_question().is_some() {
            Pressed::Next
        } else {
            self.done()
        }
    }

    fn done(&self) -> Pressed {
        let answers = self
            .answers
            .iter()
            .filter(|(_, v)| !matches!(v, AnswerValue::Multiple(v) if v.is_empty()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Pressed::Done {
            outcome: self
                .outcome
                .as_ref()
                .map(|o| o.key.clone())
                .unwrap_or_default(),
            answers,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn survey() -> Survey {
        serde_json::from_value(json!({"questions": [
            {"key": "support", "label": "Will you vote for us?", "required": true,
             "kind": {"type": "single_choice", "options": [
                {"key": "yes", "label": "Yes"}, {"key": "no", "label": "No"}]}},
            {"key": "issues", "label": "Which issues matter?",
             "kind": {"type": "multiple_choice", "options": [
                {"key": "nhs", "label": "The NHS"}, {"key": "housing", "label": "Housing"}]}},
            {"key": "why", "label": "Why?", "kind": {"type": "free_text", "max_len": 200}}
        ]}))
        .unwrap()
    }

    #[test]
    fn the_default_menu_puts_do_not_call_on_nine() {
        let menu = OutcomeMenu::new(&OutcomeSet::default_uk());
        assert_eq!(menu.pick('1').unwrap().key, "spoke");
        assert_eq!(menu.pick('2').unwrap().key, "no_answer");
        assert_eq!(menu.pick('9').unwrap().effect, OutcomeEffect::DoNotCall);
        assert_eq!(menu.key_of("busy"), Some('3'));
        assert!(menu.pick('8').is_none());
        let label = menu.pick('1').unwrap().label.clone();
        assert_eq!(
            menu.spoken()[..4],
            [
                Spoken::Prompt("press"),
                Spoken::Prompt("digit-1"),
                Spoken::Prompt("for"),
                Spoken::Words(label)
            ]
        );
    }

    #[test]
    fn a_conversation_asks_the_choice_questions_then_finishes() {
        let mut wrap = WrapUp::new(&OutcomeSet::default_uk(), &survey());
        assert_eq!(wrap.press('1'), Pressed::Next);
        assert!(
            wrap.spoken()
                .contains(&Spoken::Words("Will you vote for us?".into()))
        );
        assert_eq!(
            wrap.press('0'),
            Pressed::NotOnMenu,
            "a required question cannot be skipped"
        );
        assert_eq!(wrap.press('1'), Pressed::Next);
        assert!(
            wrap.spoken()
                .contains(&Spoken::Words("Which issues matter?".into()))
        );
        assert_eq!(wrap.press('2'), Pressed::Next);
        assert_eq!(wrap.press('1'), Pressed::Next);
        assert_eq!(
            wrap.press('#'),
            Pressed::Done {
                outcome: "spoke".into(),
                answers: [
                    ("support".to_string(), AnswerValue::Single("yes".into())),
                    (
                        "issues".to_string(),
                        AnswerValue::Multiple(vec!["housing".into(), "nhs".into()])
                    ),
                ]
                .into()
            }
        );
    }

    #[test]
    fn other_outcomes_finish_at_once_and_wrong_keys_are_refused() {
        let mut wrap = WrapUp::new(&OutcomeSet::default_uk(), &survey());
        assert_eq!(wrap.press('8'), Pressed::NotOnMenu);
        assert_eq!(
            wrap.press('9'),
            Pressed::Done {
                outcome: "do_not_call".into(),
                answers: Answers::new()
            }
        );
    }

    #[test]
    fn an_optional_multiple_choice_can_be_left_empty() {
        let mut wrap = WrapUp::new(&OutcomeSet::default_uk(), &survey());
        wrap.press('1');
        wrap.press('2');
        let Pressed::Done { answers, .. } = wrap.press('#') else {
            panic!("not done")
        };
        assert_eq!(answers.len(), 1, "{answers:?}");
    }
}
