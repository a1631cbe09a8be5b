//! Fuzzes calling hours as JSON: any accepted value answers whether it is open and when
//! it next opens without panicking, at any instant.
#![no_main]

use barnstorm_domain::calling_window::CallingWindows;
use chrono::DateTime;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (instant, json) = data.split_at(8);
    let Ok(hours) = serde_json::from_slice::<CallingWindows>(json) else {
        return;
    };
    let seconds = i64::from_le_bytes(instant.try_into().unwrap_or_default()) % 20_000_000_000;
    let Some(at) = DateTime::from_timestamp(seconds, 0) else {
        return;
    };
    let _ = hours.is_open_at(at);
    let _ = hours.next_opening_after(at);
    let _ = hours.in_time_zone(chrono_tz::Tz::America__New_York);
});
