//! The `barnstorm` binary as an operator runs it: each test starts the built binary
//! (Cargo's `CARGO_BIN_EXE_barnstorm`, under `CARGO_TARGET_DIR` when set) against a fresh
//! database and checks what it prints and what it changed. One test binary for the crate.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod backup;
mod bench_callers;
mod bridged_calls;
mod grafana;
mod import;
mod person;
mod upgrade;

use std::process::{Command, Output};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_barnstorm");

/// Calling hours open around the clock every day, so a run does not depend on the time
/// of day.
pub fn open_all_day() -> serde_json::Value {
    let days: serde_json::Map<String, serde_json::Value> = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .iter()
    .map(|d| {
        (
            (*d).to_owned(),
            serde_json::json!({ "start": "00:00", "end": "24:00" }),
        )
    })
    .collect();
    serde_json::json!({ "time_zone": "Europe/London", "days": days })
}

/// Runs `barnstorm ARGS` and returns its output; a failure fails the test with it.
pub fn barnstorm(args: &[&str]) -> Output {
    let output = run(args);
    assert!(
        output.status.success(),
        "barnstorm {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs `barnstorm ARGS`, whether it succeeds or not, with nothing on standard input.
pub fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

/// Runs `barnstorm import contacts` of `list` into campaign 1 of `db`, whether it
/// succeeds or not; returns (success, what it printed on both outputs).
pub fn import_contacts(db: &str, list: &str) -> (bool, String) {
    let output = run(&[
        "import",
        "contacts",
        "--campaign",
        "1",
        list,
        "--database-url",
        db,
    ]);
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), printed)
}
