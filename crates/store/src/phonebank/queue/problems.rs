//! Why the queue refuses a heartbeat, a release, an outcome or its correction, in the
//! words a caller is shown. The refusals the lease rules give
//! (`barnstorm_domain::queue_policy::LeaseRefusal`) map onto these.

use crate::phonebank::pace::CallerBar;
use crate::{Millis, StoreError};
use barnstorm_domain::queue_policy::LeaseRefusal;

/// Why a lease operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum LeaseProblem {
    /// No such lease.
    #[error("there is no such lease")]
    NotFound,
    /// The lease belongs to another caller.
    #[error("this lease belongs to another caller")]
    NotYours,
    /// The lease lapsed (and, for an outcome, the contact was handed to someone else).
    #[error("the lease has expired; claim a new contact")]
    Expired,
    /// The caller released the contact already.
    #[error("the contact was released already")]
    Released,
    /// An outcome was already recorded on this lease under another idempotency key.
    #[error("an outcome was already recorded for this call")]
    AlreadyRecorded,
    /// The idempotency key was used before for a different call.
    #[error("this Idempotency-Key was already used for a different call")]
    KeyReused,
    /// A callback outcome came without a time.
    #[error("a callback needs callback_at")]
    MissingCallbackTime,
    /// The lease is of another campaign than the one the outcome was sent for.
    #[error("this lease belongs to another campaign")]
    OtherCampaign,
    /// The caller is suspended or removed from the lease's campaign.
    #[error("{}", bar_words(*.0))]
    Barred(CallerBar),
    /// The caller recorded as many "do not call" outcomes this hour as the campaign allows.
    #[error(
        "you have recorded as many \"do not call\" outcomes this hour as this campaign allows; an organiser has been told"
    )]
    DoNotCallLimited {
        /// When the caller may record the next one.
        retry_at: Millis,
    },
    /// A correction named a call with no outcome recorded yet.
    #[error("no outcome has been recorded for this call yet")]
    NotRecordedYet,
    /// A correction came more than a minute after the call was saved, or after the
    /// caller had saved another call.
    #[error("a call can be changed only for a minute after saving it, and only your latest")]
    TooLateToChange,
    /// A correction came after someone else had the contact again.
    #[error(
        "this contact has been handed out or called again since, so the call can no longer be changed"
    )]
    CalledSince,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a barred caller is told.
fn bar_words(bar: CallerBar) -> &'static str {
    match bar {
        CallerBar::Suspended => {
            "an organiser has suspended your calling on this campaign; ask them to lift it"
        }
        CallerBar::Removed => "an organiser has removed you from this campaign",
    }
}

impl From<sqlx::Error> for LeaseProblem {
    fn from(err: sqlx::Error) -> Self {
        Self::Store(err.into())
    }
}

impl From<LeaseRefusal> for LeaseProblem {
    fn from(refusal: LeaseRefusal) -> Self {
        match refusal {
            LeaseRefusal::NotYours => Self::NotYours,
            LeaseRefusal::OtherCampaign => Self::OtherCampaign,
            LeaseRefusal::Expired => Self::Expired,
            LeaseRefusal::Released => Self::Released,
            LeaseRefusal::AlreadyRecorded => Self::AlreadyRecorded,
        }
    }
}

impl LeaseProblem {
    /// The store's error for an operation that cannot be refused (a claim): a refusal
    /// there is a defect.
    pub(crate) fn into_store_error(self) -> StoreError {
        match self {
            Self::Store(e) => e,
            other => StoreError::Engine(other.to_string()),
        }
    }
}

/// The same error again, for every job of a batch that failed as a whole.
pub(crate) fn copy_error(err: &StoreError) -> StoreError {
    match err {
        StoreError::Unavailable(text) => StoreError::Unavailable(text.clone()),
        other => StoreError::Engine(other.to_string()),
    }
}
