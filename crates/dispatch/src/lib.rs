//! The phonebank engine: hands each caller the next contact under a lease, records
//! outcomes, explains an empty queue, and imports contact lists. It owns the rules of the
//! calling session (is the campaign live, are calling hours open, is this caller
//! skipping or claiming too fast, is this caller suspended) and leaves SQL to the store and pure rules to the domain crate.

mod checker;
pub mod do_not_call_upload;
mod engine;
mod events;
pub mod import;
pub mod national_lists;
mod relay;
mod switchboard;

pub use barnstorm_telephony::media::MediaStats;
pub use checker::{CheckReport, check_campaign};
pub use engine::{
    CallingError, Claim, Dispatcher, MAX_CALLBACK_AHEAD_MS, PACE_REFUSAL_WINDOW_MS,
    PACE_REFUSALS_BEFORE_SUSPENSION, QueueReport, SKIP_WINDOW_MS, seconds_until,
};
pub use events::{CampaignEvent, CampaignEvents};
pub use switchboard::{LineView, RING_TIMEOUT, Switchboard, SwitchboardError};
