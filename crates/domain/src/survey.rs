//! Survey questions a caller asks, their branching, and the checking of recorded answers.
//!
//! Owns the survey definition (stored as JSON), its validation, which questions are
//! visible given earlier answers, and turning a client's answers into [`CleanAnswers`].
//! It must not store answers or know about calls; the dispatch layer does that.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::limits;

/// A campaign's survey: questions in the order the caller sees them.
///
/// JSON: `{"questions": [{"key": "support", "label": "Will you vote for us?",
/// "required": true, "kind": {"type": "single_choice", "options": [{"key": "yes",
/// "label": "Yes"}, {"key": "no", "label": "No"}]}}, {"key": "why_not", "label": "Why?",
/// "kind": {"type": "free_text", "max_len": 500}, "show_if": {"question_key": "support",
/// "equals_any": ["no"]}}]}`. `required` defaults to false and `show_if` to none.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Survey {
    /// The questions, in display order. Conditions may only look back, never forward.
    pub questions: Vec<Question>,
}

/// One survey question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Stable identifier used in answers and exports; never change it once calls began.
    pub key: String,
    /// The text the caller reads.
    pub label: String,
    /// Whether the caller must answer before saving (only while the question is visible).
    #[serde(default)]
    pub required: bool,
    /// What kind of answer is expected.
    pub kind: QuestionKind,
    /// Show the question only when an earlier answer matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Condition>,
}

/// The kind of answer a question takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    /// Exactly one option.
    SingleChoice {
        /// The options, in display order.
        options: Vec<ChoiceOption>,
    },
    /// Any number of options.
    MultipleChoice {
        /// The options, in display order.
        options: Vec<ChoiceOption>,
    },
    /// Free text up to `max_len` characters.
    FreeText {
        /// Longest accepted answer, in characters.
        max_len: usize,
    },
}

/// One option of a choice question: the stable `key` is what answers store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceOption {
    /// Stable identifier stored in answers, e.g. `"yes"`.
    pub key: String,
    /// What the caller sees, e.g. `"Yes, definitely"`.
    pub label: String,
}

/// Branching: the question is shown only when the earlier question `question_key` is
/// visible and its answer (or, for multiple choice, any chosen option) is one of
/// `equals_any`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// Key of an earlier choice question.
    pub question_key: String,
    /// Option keys of that question that make this one visible.
    pub equals_any: Vec<String>,
}

/// An answer as a client sends it: a JSON string or an array of strings.
///
/// A string answers a free-text or single-choice question (an option key); an array
/// answers a multiple-choice question. A one-element array is accepted for a single
/// choice, and a bare string for a multiple choice, so clients need not special-case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnswerValue {
    /// A JSON string.
    Single(String),
    /// A JSON array of strings.
    Multiple(Vec<String>),
}

/// Answers keyed by question key, as in `{"support": "yes", "issues": ["housing", "nhs"]}`.
pub type Answers = BTreeMap<String, AnswerValue>;

/// A checked answer, typed by its question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CleanAnswer {
    /// Trimmed free text, never empty.
    Text(String),
    /// The chosen option key of a single-choice question.
    Choice(String),
    /// Chosen option keys of a multiple-choice question, in the survey's option order.
    Choices(Vec<String>),
}

/// Answers that passed [`Survey::validate_answers`]: only visible questions, blank
/// optional answers dropped. Serialises to the same JSON shape clients send.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CleanAnswers(pub BTreeMap<String, CleanAnswer>);

/// A problem with one answer, naming the question.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{question_key}: {problem}")]
pub struct AnswerError {
    /// The question the problem is about.
    pub question_key: String,
    /// What is wrong.
    pub problem: AnswerProblem,
}

/// What is wrong with an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerProblem {
    /// No question has this key.
    UnknownQuestion,
    /// The question is hidden by its condition, so it must not be answered.
    HiddenQuestion,
    /// The value is not one of the question's option keys.
    NotAnOption(String),
    /// A required, visible question has no answer.
    MissingRequired,
    /// Free text longer than allowed.
    TooLong {
        /// The limit, in characters.
        max_len: usize,
        /// The answer's length, in characters.
        len: usize,
    },
    /// More than one value for a single-choice question.
    MultipleValuesForSingleChoice,
    /// A list was sent for a free-text question.
    ExpectedText,
}

impl fmt::Display for AnswerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownQuestion => f.write_str("there is no such question"),
            Self::HiddenQuestion => {
                f.write_str("this question is not shown for the earlier answers")
            }
            Self::NotAnOption(value) => write!(f, "{value:?} is not one of the options"),
            Self::MissingRequired => f.write_str("an answer is required"),
            Self::TooLong { max_len, len } => {
                write!(f, "answer is {len} characters; the limit is {max_len}")
            }
            Self::MultipleValuesForSingleChoice => f.write_str("choose only one option"),
            Self::ExpectedText => f.write_str("expected text, not a list"),
        }
    }
}

/// A mistake in a survey definition, naming the question by its number.
///
/// Shown as "Question 2: the option list is empty": the same words for the editor and for
/// the API, so an organiser reading either knows which question to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Question {position}: {problem}")]
pub struct DefinitionError {
    /// The question's number in the survey, from 1.
    pub position: usize,
    /// The question's key (may be empty or invalid: the mistake may be in the key).
    pub question_key: String,
    /// What is wrong, in words for the organiser.
    pub problem: String,
}

/// Whether `key` is usable as a stable identifier: non-empty, letters, digits, `_`, `-`.
pub(crate) fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= limits::KEY
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Question {
    /// The options of a choice question; `None` for free text.
    pub fn options(&self) -> Option<&[ChoiceOption]> {
        match &self.kind {
            QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options } => {
                Some(options)
            }
            QuestionKind::FreeText { .. } => None,
        }
    }

    fn has_option(&self, key: &str) -> bool {
        self.options()
            .is_some_and(|options| options.iter().any(|o| o.key == key))
    }
}

impl Survey {
    /// Checks the definition: unique valid keys, non-empty labels, non-empty unique
    /// options, a positive `max_len`, and conditions that refer only to an *earlier*
    /// choice question and to its existing options. Returns every mistake found.
    pub fn validate_definition(&self) -> Result<(), Vec<DefinitionError>> {
        let mut errors = Vec::new();
        let mut seen: Vec<&Question> = Vec::new();
        for (index, question) in self.questions.iter().enumerate() {
            let mut fail = |problem: String| {
                errors.push(DefinitionError {
                    position: index + 1,
                    question_key: question.key.clone(),
                    problem,
                })
            };
            if !is_valid_key(&question.key) {
                fail(format!(
                    "the key {:?} must be 1 to {} letters, digits, '_' or '-'",
                    question.key,
                    limits::KEY
                ));
            }
            if seen.iter().any(|q| q.key == question.key) {
                fail(format!(
                    "the key {:?} is used by an earlier question",
                    question.key
                ));
            }
            if question.label.trim().is_empty() {
                fail("the question has no text".into());
            }
            if let Err(e) =
                limits::check_length("the question", &question.label, limits::SURVEY_QUESTION)
            {
                fail(e.to_string());
            }
            match &question.kind {
                QuestionKind::FreeText { max_len } if *max_len == 0 => {
                    fail("the longest answer must be at least 1 character".into());
                }
                QuestionKind::FreeText { .. } => {}
                QuestionKind::SingleChoice { options }
                | QuestionKind::MultipleChoice { options } => {
                    check_options(options, &mut fail);
                }
            }
            if let Some(condition) = &question.show_if {
                check_condition(condition, &seen, &mut fail);
            }
            seen.push(question);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The questions to show, in order, given the answers so far. A question whose
    /// condition refers to a hidden question is hidden too.
    pub fn visible_questions(&self, answers: &Answers) -> Vec<&Question> {
        let mut visible: Vec<&Question> = Vec::new();
        for question in &self.questions {
            let shown = match &question.show_if {
                None => true,
                Some(condition) => {
                    visible.iter().any(|q| q.key == condition.question_key)
                        && match answers.get(&condition.question_key) {
                            Some(AnswerValue::Single(value)) => {
                                condition.equals_any.iter().any(|v| v == value.trim())
                            }
                            Some(AnswerValue::Multiple(values)) => values.iter().any(|value| {
                                condition.equals_any.iter().any(|v| v == value.trim())
                            }),
                            None => false,
                        }
                }
            };
            if shown {
                visible.push(question);
            }
        }
        visible
    }

    /// Checks a client's answers against the survey and returns them cleaned (trimmed,
    /// blank optional answers dropped, multiple choices de-duplicated in option order),
    /// or every problem found. Blank answers to hidden questions are ignored, so a form
    /// may send every field; non-blank ones are an error.
    pub fn validate_answers(&self, answers: &Answers) -> Result<CleanAnswers, Vec<AnswerError>> {
        self.check_answers(answers, &|question| question.required)
    }

    /// Like [`Survey::validate_answers`], with the questions that must be answered (when
    /// shown) chosen by `required`, e.g. by the outcome being recorded
    /// ([`crate::outcome::Outcome::requires_answer`]).
    pub fn validate_answers_requiring(
        &self,
        answers: &Answers,
        required: &dyn Fn(&Question) -> bool,
    ) -> Result<CleanAnswers, Vec<AnswerError>> {
        self.check_answers(answers, required)
    }

    fn check_answers(
        &self,
        answers: &Answers,
        required: &dyn Fn(&Question) -> bool,
    ) -> Result<CleanAnswers, Vec<AnswerError>> {
        let visible = self.visible_questions(answers);
        let mut errors = Vec::new();
        let mut clean = BTreeMap::new();
        let error = |key: &str, problem| AnswerError {
            question_key: key.to_owned(),
            problem,
        };

        for key in answers.keys() {
            if !self.questions.iter().any(|q| &q.key == key) {
                errors.push(error(key, AnswerProblem::UnknownQuestion));
            } else if !visible.iter().any(|q| &q.key == key) && !is_blank(&answers[key]) {
                errors.push(error(key, AnswerProblem::HiddenQuestion));
            }
        }

        for question in visible {
            let checked = match answers.get(&question.key) {
                None => Ok(None),
                Some(value) => check_answer(question, value),
            };
            match checked {
                Ok(Some(answer)) => {
                    clean.insert(question.key.clone(), answer);
                }
                Ok(None) if required(question) => {
                    errors.push(error(&question.key, AnswerProblem::MissingRequired));
                }
                Ok(None) => {}
                Err(problem) => errors.push(error(&question.key, problem)),
            }
        }
        if errors.is_empty() {
            Ok(CleanAnswers(clean))
        } else {
            Err(errors)
        }
    }
}

/// The mistakes in one choice question's options, in the organiser's words.
fn check_options(options: &[ChoiceOption], fail: &mut impl FnMut(String)) {
    if options.is_empty() {
        fail("the option list is empty".into());
    }
    let mut keys = BTreeSet::new();
    for (index, option) in options.iter().enumerate() {
        let number = index + 1;
        if !is_valid_key(&option.key) {
            fail(format!(
                "option {number}: the key {:?} must be 1 to {} letters, digits, '_' or '-'",
                option.key,
                limits::KEY
            ));
        }
        if !keys.insert(option.key.as_str()) {
            fail(format!(
                "option {number}: the key {:?} is used by an earlier option",
                option.key
            ));
        }
        if option.label.trim().is_empty() {
            fail(format!("option {number} has no text"));
        }
        if let Err(e) = limits::check_length("the text", &option.label, limits::SURVEY_OPTION) {
            fail(format!("option {number}: {e}"));
        }
    }
}

/// The mistakes in a "show only when" condition, given the questions before it.
fn check_condition(condition: &Condition, earlier: &[&Question], fail: &mut impl FnMut(String)) {
    let Some(position) = earlier.iter().position(|q| q.key == condition.question_key) else {
        fail(format!(
            "\"show only when\" refers to {:?}, which is not an earlier question",
            condition.question_key
        ));
        return;
    };
    let asked = earlier[position];
    let number = position + 1;
    if asked.options().is_none() {
        fail(format!(
            "\"show only when\" refers to question {number}, which takes free text, not a choice"
        ));
        return;
    }
    if condition.equals_any.is_empty() {
        fail(format!(
            "\"show only when\" picks no answer of question {number}"
        ));
    }
    for value in &condition.equals_any {
        if !asked.has_option(value) {
            fail(format!(
                "\"show only when\" names {value:?}, which is not an answer of question {number}"
            ));
        }
    }
}

fn is_blank(value: &AnswerValue) -> bool {
    match value {
        AnswerValue::Single(text) => text.trim().is_empty(),
        AnswerValue::Multiple(values) => values.iter().all(|v| v.trim().is_empty()),
    }
}

/// Checks one answer; `Ok(None)` means "not answered".
fn check_answer(
    question: &Question,
    value: &AnswerValue,
) -> Result<Option<CleanAnswer>, AnswerProblem> {
    let values: Vec<&str> = match value {
        AnswerValue::Single(text) => vec![text.trim()],
        AnswerValue::Multiple(values) => values.iter().map(|v| v.trim()).collect(),
    };
    let values: Vec<&str> = values.into_iter().filter(|v| !v.is_empty()).collect();
    match &question.kind {
        QuestionKind::FreeText { max_len } => {
            let AnswerValue::Single(text) = value else {
                return Err(AnswerProblem::ExpectedText);
            };
            let text = text.trim();
            let len = text.chars().count();
            if len > *max_len {
                Err(AnswerProblem::TooLong {
                    max_len: *max_len,
                    len,
                })
            } else if text.is_empty() {
                Ok(None)
            } else {
                Ok(Some(CleanAnswer::Text(text.to_owned())))
            }
        }
        QuestionKind::SingleChoice { options } => match values.as_slice() {
            [] => Ok(None),
            [one] if options.iter().any(|o| o.key == *one) => {
                Ok(Some(CleanAnswer::Choice((*one).to_owned())))
            }
            [one] => Err(AnswerProblem::NotAnOption((*one).to_owned())),
            _ => Err(AnswerProblem::MultipleValuesForSingleChoice),
        },
        QuestionKind::MultipleChoice { options } => {
            if let Some(unknown) = values
                .iter()
                .find(|v| !options.iter().any(|o| o.key == **v))
            {
                return Err(AnswerProblem::NotAnOption((*unknown).to_owned()));
            }
            let chosen: Vec<String> = options
                .iter()
                .filter(|o| values.contains(&o.key.as_str()))
                .map(|o| o.key.clone())
                .collect();
            Ok((!chosen.is_empty()).then_some(CleanAnswer::Choices(chosen)))
        }
    }
}

#[cfg(test)]
mod tests;
