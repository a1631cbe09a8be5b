//! Tests for the survey module: definitions, branching and answer checking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use serde_json::json;

fn survey() -> Survey {
    serde_json::from_value(json!({
        "questions": [
            {"key": "support", "label": "Will you vote for us?", "required": true,
             "kind": {"type": "single_choice", "options": [
                 {"key": "yes", "label": "Yes"}, {"key": "no", "label": "No"},
                 {"key": "unsure", "label": "Not sure"}]}},
            {"key": "issues", "label": "What matters most?",
             "kind": {"type": "multiple_choice", "options": [
                 {"key": "housing", "label": "Housing"}, {"key": "nhs", "label": "NHS"},
                 {"key": "climate", "label": "Climate"}]},
             "show_if": {"question_key": "support", "equals_any": ["yes", "unsure"]}},
            {"key": "volunteer", "label": "Would you help?", "required": true,
             "kind": {"type": "single_choice", "options": [
                 {"key": "yes", "label": "Yes"}, {"key": "no", "label": "No"}]},
             "show_if": {"question_key": "issues", "equals_any": ["housing"]}},
            {"key": "comment", "label": "Anything else?",
             "kind": {"type": "free_text", "max_len": 20}}
        ]
    }))
    .unwrap()
}

fn answers(value: serde_json::Value) -> Answers {
    serde_json::from_value(value).unwrap()
}

fn problems(result: Result<CleanAnswers, Vec<AnswerError>>) -> Vec<(String, AnswerProblem)> {
    result
        .unwrap_err()
        .into_iter()
        .map(|e| (e.question_key, e.problem))
        .collect()
}

#[test]
fn example_survey_is_valid() {
    assert_eq!(survey().validate_definition(), Ok(()));
}

#[test]
fn api_json_answers_are_accepted_and_cleaned() {
    let clean = survey()
        .validate_answers(&answers(json!({
            "support": "yes",
            "issues": ["nhs", "housing", "nhs"],
            "volunteer": ["no"],
            "comment": "  call after 6  "
        })))
        .unwrap();
    assert_eq!(
        serde_json::to_value(&clean).unwrap(),
        json!({"support": "yes", "issues": ["housing", "nhs"], "volunteer": "no",
               "comment": "call after 6"})
    );
    assert_eq!(clean.0["support"], CleanAnswer::Choice("yes".into()));
    assert_eq!(clean.0["comment"], CleanAnswer::Text("call after 6".into()));
}

#[test]
fn branching_shows_follow_ups_only_for_matching_answers() {
    let s = survey();
    let keys = |a: serde_json::Value| -> Vec<String> {
        s.visible_questions(&answers(a))
            .into_iter()
            .map(|q| q.key.clone())
            .collect()
    };
    assert_eq!(keys(json!({})), ["support", "comment"]);
    assert_eq!(keys(json!({"support": "no"})), ["support", "comment"]);
    assert_eq!(
        keys(json!({"support": "yes"})),
        ["support", "issues", "comment"]
    );
    assert_eq!(
        keys(json!({"support": "yes", "issues": ["climate", "housing"]})),
        ["support", "issues", "volunteer", "comment"]
    );
    // `volunteer` hangs off `issues`, which is hidden when support is "no".
    assert_eq!(
        keys(json!({"support": "no", "issues": ["housing"]})),
        ["support", "comment"]
    );
}

#[test]
fn every_answer_problem_names_its_question() {
    let found = problems(survey().validate_answers(&answers(json!({
        "support": "no",
        "issues": ["housing"],
        "shoe_size": "9",
        "comment": "this comment is far too long"
    }))));
    assert_eq!(
        found,
        vec![
            ("issues".into(), AnswerProblem::HiddenQuestion),
            ("shoe_size".into(), AnswerProblem::UnknownQuestion),
            (
                "comment".into(),
                AnswerProblem::TooLong {
                    max_len: 20,
                    len: 28
                }
            ),
        ]
    );

    let found = problems(survey().validate_answers(&answers(json!({
        "support": ["yes", "no"], "comment": ["a"]
    }))));
    assert_eq!(
        found,
        vec![
            (
                "support".into(),
                AnswerProblem::MultipleValuesForSingleChoice
            ),
            ("comment".into(), AnswerProblem::ExpectedText),
        ]
    );

    let found = problems(survey().validate_answers(&answers(json!({
        "support": "yes", "issues": ["nhs", "potholes"]
    }))));
    assert_eq!(
        found,
        vec![(
            "issues".into(),
            AnswerProblem::NotAnOption("potholes".into())
        )]
    );
}

#[test]
fn required_applies_only_to_visible_questions() {
    let found = problems(survey().validate_answers(&answers(json!({"support": "  "}))));
    assert_eq!(
        found,
        vec![("support".into(), AnswerProblem::MissingRequired)]
    );

    // `volunteer` is required but hidden unless housing was chosen.
    assert!(
        survey()
            .validate_answers(&answers(json!({"support": "yes", "issues": ["nhs"]})))
            .is_ok()
    );
    let found = problems(
        survey().validate_answers(&answers(json!({"support": "yes", "issues": ["housing"]}))),
    );
    assert_eq!(
        found,
        vec![("volunteer".into(), AnswerProblem::MissingRequired)]
    );
}

#[test]
fn answers_given_skips_required_but_still_checks_what_was_given() {
    let clean = survey()
        .validate_answers_requiring(&answers(json!({})), &|_| false)
        .unwrap();
    assert!(clean.0.is_empty(), "nothing answered, nothing kept");
    let found = problems(survey().validate_answers_requiring(
        &answers(json!({"support": "yes", "issues": ["potholes"]})),
        &|_| false,
    ));
    assert_eq!(
        found,
        vec![(
            "issues".into(),
            AnswerProblem::NotAnOption("potholes".into())
        )]
    );
}

#[test]
fn blank_answers_to_hidden_questions_are_ignored() {
    let clean = survey()
        .validate_answers(&answers(
            json!({"support": "no", "issues": [], "comment": ""}),
        ))
        .unwrap();
    assert_eq!(clean.0.len(), 1);
}

#[test]
fn error_messages_say_what_is_wrong() {
    let err = AnswerError {
        question_key: "issues".into(),
        problem: AnswerProblem::NotAnOption("potholes".into()),
    };
    assert_eq!(
        err.to_string(),
        "issues: \"potholes\" is not one of the options"
    );
}

#[test]
fn definition_mistakes_are_all_reported() {
    let bad: Survey = serde_json::from_value(json!({
        "questions": [
            {"key": "q1", "label": "First",
             "show_if": {"question_key": "q2", "equals_any": ["yes"]},
             "kind": {"type": "single_choice", "options": [
                 {"key": "yes", "label": "Yes"}, {"key": "yes", "label": "Also yes"}]}},
            {"key": "q2", "label": "Second", "kind": {"type": "multiple_choice", "options": []}},
            {"key": "q2", "label": " ", "kind": {"type": "free_text", "max_len": 0}},
            {"key": "q4", "label": "Fourth", "kind": {"type": "free_text", "max_len": 5},
             "show_if": {"question_key": "q1", "equals_any": ["maybe"]}},
            {"key": "q5", "label": "Fifth", "kind": {"type": "free_text", "max_len": 5},
             "show_if": {"question_key": "q4", "equals_any": ["x"]}}
        ]
    }))
    .unwrap();
    let errors: Vec<String> = bad
        .validate_definition()
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        vec![
            "Question 1: option 2: the key \"yes\" is used by an earlier option",
            "Question 1: \"show only when\" refers to \"q2\", which is not an earlier question",
            "Question 2: the option list is empty",
            "Question 3: the key \"q2\" is used by an earlier question",
            "Question 3: the question has no text",
            "Question 3: the longest answer must be at least 1 character",
            "Question 4: \"show only when\" names \"maybe\", which is not an answer of question 1",
            "Question 5: \"show only when\" refers to question 4, which takes free text, not a choice",
        ]
    );
}

#[test]
fn definition_round_trips_through_json() {
    let s = survey();
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["questions"][1]["kind"]["type"], "multiple_choice");
    assert_eq!(json["questions"][0].get("show_if"), None);
    let back: Survey = serde_json::from_value(json).unwrap();
    assert_eq!(back, s);
}
