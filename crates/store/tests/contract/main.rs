//! The store's behaviour contract, run against SQLite and PostgreSQL alike.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod accounts;
mod groups;
mod outbox;
mod phonebank_import;
mod phonebank_queue;
