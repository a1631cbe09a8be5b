//! Fuzzes the Markdown renderer and the plain-text summary used for event descriptions:
//! any text renders without panicking and the summary keeps to its length.
#![no_main]

use barnstorm_domain::markdown::{plain_summary, render_markdown};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = render_markdown(text);
    let summary = plain_summary(text, 160);
    assert!(
        summary.chars().count() <= 160,
        "summary too long: {summary:?}"
    );
});
