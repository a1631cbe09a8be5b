//! The checker: after any run, proves from the database that the phonebank kept its
//! promises — no contact under two live leases at once, nobody handed a contact before it
//! was due or after it was finished, no claim outside calling hours, and (given the ids a
//! load generator saw acknowledged) every acknowledged outcome stored exactly once. Bridged
//! calls a dead node left without an end are listed, accounted for, and fail nothing.

use barnstorm_store::phonebank::{Campaign, EarlyClaim, LeaseOverlap};
use barnstorm_store::{Store, StoreError};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// What the checker found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CheckReport {
    /// Leases examined.
    pub leases: usize,
    /// Call attempts stored.
    pub attempts: usize,
    /// Contacts held by two live leases at once.
    pub overlapping_leases: Vec<LeaseOverlap>,
    /// Contacts handed out before they were due or after they were finished.
    pub early_claims: Vec<EarlyClaim>,
    /// Claims made outside calling hours (milliseconds since the epoch).
    pub claims_outside_hours: Vec<i64>,
    /// Acknowledged outcomes the database does not have.
    pub missing_acknowledged: Vec<i64>,
    /// Stored attempts nobody was told about (only when acknowledgements were given and
    /// the run was the campaign's only writer).
    pub unacknowledged_stored: usize,
    /// Bridged calls with no end whose lease has expired (their node died mid-call): the
    /// lease returned the contact, so they are accounted for and never fail the check.
    pub calls_left_unfinished: Vec<i64>,
    /// True when every check passed.
    pub passed: bool,
}

impl std::fmt::Display for CheckReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "leases examined              {}", self.leases)?;
        writeln!(f, "call attempts stored         {}", self.attempts)?;
        writeln!(
            f,
            "overlapping live leases      {}",
            self.overlapping_leases.len()
        )?;
        writeln!(
            f,
            "claims before due/finished   {}",
            self.early_claims.len()
        )?;
        writeln!(
            f,
            "claims outside calling hours {}",
            self.claims_outside_hours.len()
        )?;
        writeln!(
            f,
            "acknowledged but missing     {}",
            self.missing_acknowledged.len()
        )?;
        writeln!(
            f,
            "stored but unacknowledged    {}",
            self.unacknowledged_stored
        )?;
        writeln!(
            f,
            "calls left unfinished        {} (accounted for: their lease expired)",
            self.calls_left_unfinished.len()
        )?;
        writeln!(
            f,
            "verdict                      {}",
            if self.passed { "PASS" } else { "FAIL" }
        )
    }
}

/// Checks a campaign. `acknowledged` are attempt ids clients were told were recorded.
pub async fn check_campaign(
    store: &Store,
    campaign: &Campaign,
    acknowledged: Option<&[i64]>,
) -> Result<CheckReport, StoreError> {
    let claims = store.claim_times(campaign.id).await?;
    let hours = &campaign.settings.calling_hours;
    let claims_outside_hours: Vec<i64> = claims
        .iter()
        .copied()
        .filter(|at| {
            !DateTime::<Utc>::from_timestamp_millis(*at).is_some_and(|t| hours.is_open_at(t))
        })
        .collect();
    let stored: BTreeSet<i64> = store.attempt_ids(campaign.id).await?.into_iter().collect();
    let (missing_acknowledged, unacknowledged_stored) = match acknowledged {
        Some(acks) => {
            let acks: BTreeSet<i64> = acks.iter().copied().collect();
            (
                acks.difference(&stored).copied().collect(),
                stored.difference(&acks).count(),
            )
        }
        None => (Vec::new(), 0),
    };
    let mut report = CheckReport {
        leases: claims.len(),
        attempts: stored.len(),
        overlapping_leases: store.lease_overlaps(campaign.id).await?,
        early_claims: store.early_claims(campaign.id).await?,
        claims_outside_hours,
        missing_acknowledged,
        unacknowledged_stored,
        calls_left_unfinished: store
            .calls_left_unfinished(campaign.id, barnstorm_store::now_millis())
            .await?
            .iter()
            .map(|call| call.id)
            .collect(),
        passed: false,
    };
    report.passed = report.overlapping_leases.is_empty()
        && report.early_claims.is_empty()
        && report.claims_outside_hours.is_empty()
        && report.missing_acknowledged.is_empty();
    Ok(report)
}
