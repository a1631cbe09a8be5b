//! Fuzzes caller script templates: any text parses or fails with an error, and a parsed
//! script renders with or without the contact's fields.
#![no_main]

use barnstorm_domain::script::Script;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fuzz_target!(|text: &str| {
    let Ok(script) = Script::parse(text) else {
        return;
    };
    let _ = script.placeholders();
    let _ = script.render(&|_| None);
    let mut fields = BTreeMap::new();
    fields.insert("first_name".to_owned(), "Sam".to_owned());
    let _ = script.render_with_map(&fields);
});
