//! Lease rules: whether a heartbeat, a release or an outcome may act on a lease as stored,
//! and when a live lease is renewed. Times are UTC milliseconds. Both of the store's
//! queue backends ask these rules; nothing here reads, locks or writes a lease.

/// A lease as stored, as the rules need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseState {
    /// The caller it was handed to.
    pub caller_id: i64,
    /// The campaign whose contact it holds.
    pub campaign_id: i64,
    /// When it lapses without a heartbeat.
    pub expires_at: i64,
    /// The caller gave the contact back.
    pub released: bool,
    /// An outcome was recorded on it.
    pub recorded: bool,
}

/// Why a lease refuses a heartbeat, a release or an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LeaseRefusal {
    /// The lease is another caller's.
    #[error("this lease belongs to another caller")]
    NotYours,
    /// The lease is of another campaign than the one named.
    #[error("this lease belongs to another campaign")]
    OtherCampaign,
    /// The lease lapsed.
    #[error("the lease has expired")]
    Expired,
    /// The contact was given back already.
    #[error("the contact was released already")]
    Released,
    /// An outcome was recorded on it already.
    #[error("an outcome was already recorded for this call")]
    AlreadyRecorded,
}

impl LeaseState {
    /// Is the lease `caller_id`'s?
    pub fn check_owner(&self, caller_id: i64) -> Result<(), LeaseRefusal> {
        if self.caller_id == caller_id {
            Ok(())
        } else {
            Err(LeaseRefusal::NotYours)
        }
    }

    /// May the lease be extended at `now`? Only while it is live: not released, without
    /// an outcome, not lapsed.
    pub fn check_heartbeat(&self, now: i64) -> Result<(), LeaseRefusal> {
        if self.released {
            Err(LeaseRefusal::Released)
        } else if self.recorded {
            Err(LeaseRefusal::AlreadyRecorded)
        } else if self.expires_at <= now {
            Err(LeaseRefusal::Expired)
        } else {
            Ok(())
        }
    }

    /// May the contact be given back? `Ok(false)` when it was already (a release is
    /// idempotent); never after an outcome.
    pub fn check_release(&self) -> Result<bool, LeaseRefusal> {
        if self.recorded {
            Err(LeaseRefusal::AlreadyRecorded)
        } else {
            Ok(!self.released)
        }
    }

    /// May an outcome sent for `campaign_id` be recorded on it? A lapsed lease still may:
    /// the store also checks that nobody has claimed the contact since.
    pub fn check_outcome(&self, campaign_id: i64) -> Result<(), LeaseRefusal> {
        if self.campaign_id != campaign_id {
            Err(LeaseRefusal::OtherCampaign)
        } else if self.recorded {
            Err(LeaseRefusal::AlreadyRecorded)
        } else if self.released {
            Err(LeaseRefusal::Released)
        } else {
            Ok(())
        }
    }
}

/// Whether a live lease expiring at `expires_at` is extended at `now`: once less than half
/// of a lease of `lease_ms` remains, so that most heartbeats need no write.
pub fn renewal_due(expires_at: i64, now: i64, lease_ms: i64) -> bool {
    expires_at - now <= lease_ms / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live() -> LeaseState {
        LeaseState {
            caller_id: 7,
            campaign_id: 1,
            expires_at: 120_000,
            released: false,
            recorded: false,
        }
    }

    #[test]
    fn only_the_callers_own_lease_is_theirs() {
        assert_eq!(live().check_owner(7), Ok(()));
        assert_eq!(live().check_owner(8), Err(LeaseRefusal::NotYours));
    }

    #[test]
    fn a_heartbeat_keeps_only_a_live_lease() {
        assert_eq!(live().check_heartbeat(119_999), Ok(()));
        assert_eq!(live().check_heartbeat(120_000), Err(LeaseRefusal::Expired));
        let released = LeaseState {
            released: true,
            ..live()
        };
        assert_eq!(released.check_heartbeat(0), Err(LeaseRefusal::Released));
        let recorded = LeaseState {
            recorded: true,
            ..live()
        };
        assert_eq!(
            recorded.check_heartbeat(0),
            Err(LeaseRefusal::AlreadyRecorded)
        );
    }

    #[test]
    fn a_release_is_idempotent_but_never_follows_an_outcome() {
        assert_eq!(live().check_release(), Ok(true));
        let released = LeaseState {
            released: true,
            ..live()
        };
        assert_eq!(released.check_release(), Ok(false));
        let recorded = LeaseState {
            recorded: true,
            ..live()
        };
        assert_eq!(recorded.check_release(), Err(LeaseRefusal::AlreadyRecorded));
    }

    #[test]
    fn an_outcome_needs_its_campaign_and_an_unsettled_lease_even_a_lapsed_one() {
        let lapsed = LeaseState {
            expires_at: 0,
            ..live()
        };
        assert_eq!(lapsed.check_outcome(1), Ok(()));
        assert_eq!(live().check_outcome(2), Err(LeaseRefusal::OtherCampaign));
        let released = LeaseState {
            released: true,
            ..live()
        };
        assert_eq!(released.check_outcome(1), Err(LeaseRefusal::Released));
    }

    #[test]
    fn a_lease_is_renewed_once_half_of_it_is_used() {
        assert!(!renewal_due(120_000, 59_999, 120_000));
        assert!(renewal_due(120_000, 60_000, 120_000));
    }
}
