//! Black-box tests of the web app: the real router over a real database, on SQLite and on
//! PostgreSQL. One test binary (linking is slow on two cores).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod access_matrix;
mod accounts;
mod app;
mod audit_log;
mod basemap;
mod discover;
mod events_api;
mod events_pages;
mod events_rsvp_api;
mod groups_api;
mod hardening;
mod lists;
mod meetups;
mod ops;
mod outreach;
mod outreach_safeguards;
mod pages;
mod people_admin;
mod phonebank_api;
mod phonebank_pages;
mod privacy;
mod retention;
mod rsvp_repeats;
mod signup;
mod text_limits;
mod tokens;
mod tools;
mod two_factor;
mod webhooks;
