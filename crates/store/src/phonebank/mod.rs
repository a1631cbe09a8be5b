//! The phonebank's persistence: call campaigns, contact lists and their import, the queue
//! (claims under leases, heartbeats, releases, outcomes and their correction), callers'
//! invites and breaks, bridged calling's phone sessions and call records, do-not-call and TPS screening, and the figures dashboards show. Decisions about what an outcome does
//! come from `barnstorm_domain`; this module applies them atomically.

mod breaks;
mod callers;
mod campaigns;
mod correction;
mod external_ids;
mod import;
mod integrity;
mod pace;
mod queue;
mod queue_status;

pub(crate) use queue::Queue;
mod stats;
mod suspensions;
mod telephony;

pub use callers::{CampaignInvite, FlaggedCaller, InviteAcceptance};
pub use campaigns::{
    Bridging, CallerPace, Campaign, CampaignSettings, CampaignStatus, MAPPED_FIELDS,
};
pub use correction::{CORRECTION_WINDOW_MS, LastCall};
pub use external_ids::CrmDetails;
pub use import::{
    ContactBatch, DoNotCallEntry, DoNotCallPage, DoNotCallSearch, DoNotCallUploadBatch,
    ImportBatchResult, ImportJob, ImportJobStatus, NoteKind, TpsEntry, TpsListSummary,
};
pub use integrity::{EarlyClaim, LeaseOverlap};
pub use pace::{CallerBar, HOUR_MS, MINUTE_MS, RecentClaims};
pub use queue::{
    ClaimAnswer, ClaimRequest, ClaimedContact, Contact, LeaseProblem, OutcomeRecord,
    RecordedOutcome,
};
pub use queue_status::{CallerStanding, QueueCounts};
pub use stats::{
    AttemptRow, CallerStats, CallerTally, CampaignStats, ContactResult, HourlyCalls,
    ONLINE_WINDOW_MS, Progress,
};
pub use suspensions::{CallerRow, PaceRefusals};
pub use telephony::{
    CallEnd, CallFigures, CallRecord, CallStart, HungUpBy, JoinKind, PhoneSession,
};
