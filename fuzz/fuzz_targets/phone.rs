//! Fuzzes phone number normalisation (UK default region and one other): any text gives a
//! number or an error, and a number normalises to itself.
#![no_main]

use barnstorm_domain::phone::{Region, normalise_phone};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let ireland = Region::from_iso_code("IE").unwrap_or(Region::GB);
    for region in [Region::GB, ireland] {
        if let Ok(number) = normalise_phone(text, region) {
            let again = normalise_phone(number.as_str(), region);
            assert_eq!(again.as_ref().map(|n| n.as_str()), Ok(number.as_str()));
            let _ = number.display_for(Region::GB);
            let _ = number.tel_uri();
        }
    }
});
