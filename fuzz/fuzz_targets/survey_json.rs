//! Fuzzes survey definitions and answers as JSON, the way organisers and callers send
//! them: parsing, checking the definition and checking answers must never panic.
#![no_main]

use barnstorm_domain::survey::{Answers, Survey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first line is the survey, the rest the answers.
    let (survey, answers) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b"{}"[..]),
    };
    let Ok(survey) = serde_json::from_slice::<Survey>(survey) else {
        return;
    };
    if survey.validate_definition().is_err() {
        return;
    }
    if let Ok(answers) = serde_json::from_slice::<Answers>(answers) {
        let _ = survey.visible_questions(&answers);
        let _ = survey.validate_answers(&answers);
    }
});
