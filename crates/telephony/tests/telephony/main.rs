//! The telephony crate's tests, in one binary: media over real UDP sockets on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod media;
mod sip;
