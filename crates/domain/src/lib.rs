//! Barnstorm's pure domain rules: the parts of the phonebank that can be decided from
//! data alone. Phone number normalisation, caller scripts, surveys, call outcomes,
//! calling hours, queue policy (what is callable when) and streaming contact import.
//!
//! Nothing here touches a database, the network or the clock: callers pass `now` in, and
//! the only I/O is reading an import file from a `std::io::Read`.

pub mod calendar;
pub mod call_result;
pub mod calling_window;
pub mod contact_import;
pub mod crm;
pub mod email;
pub mod event;
pub mod event_notices;
pub mod feed;
pub mod geo;
pub mod keypad;
pub mod limits;
pub mod markdown;
pub mod number_list;
pub mod outcome;
pub mod phone;
pub mod postcode;
pub mod queue_policy;
pub mod script;
pub mod survey;
