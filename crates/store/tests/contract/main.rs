//! The store's behaviour contract, run against SQLite and PostgreSQL alike.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod account_limits;
mod accounts;
mod audit;
mod bulk_supporters;
mod do_not_call_lists;
mod events;
mod events_discovery;
mod events_listing;
mod external_ids;
mod geocode;
mod groups;
mod outbox;
mod people;
mod phonebank_calls;
mod phonebank_corrections;
mod phonebank_import;
mod phonebank_pace;
mod phonebank_queue;
mod retention;
mod subject_access;
mod two_factor;
