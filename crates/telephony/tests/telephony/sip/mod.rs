//! The SIP adapter against SIPp playing the trunk (`tests/sipp/trunk.xml`) on 127.0.0.1:
//! a caller rung by "call me", contacts who answer, are busy, are not in service or never
//! answer, with the audio relayed both ways and digits read from the caller's keypad.

mod calls;
#[path = "../../../../../tests/sipp/harness.rs"]
pub(crate) mod sipp;
