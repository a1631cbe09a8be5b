//! Fuzzes UK postcode normalisation: any text gives a postcode or an error, and a
//! normalised postcode normalises to itself.
#![no_main]

use barnstorm_domain::postcode::normalise_postcode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(postcode) = normalise_postcode(text) {
        assert_eq!(
            normalise_postcode(&postcode).as_deref(),
            Ok(postcode.as_str())
        );
    }
});
