//! The calling session: who may call a campaign, handing out the next contact (one at a
//! time per caller), heartbeats, releases, outcomes with checked survey answers, skip
//! throttling, and the explanation shown when nobody is callable. Every state change is
//! announced on the [`CampaignEvents`] bus so dashboards update live.

use crate::events::{CampaignEvent, CampaignEvents};
use barnstorm_domain::queue_policy::QueueHealth;
use barnstorm_domain::script::Script;
use barnstorm_domain::survey::{AnswerError, Answers};
use barnstorm_store::phonebank::{
    Campaign, CampaignStatus, ClaimAnswer, ClaimRequest, ClaimedContact, LeaseProblem,
    OutcomeRecord, QueueCounts, RecordedOutcome,
};
use barnstorm_store::{Millis, Role, Store, StoreError, User};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Skips counted over this window for throttling.
pub const SKIP_WINDOW_MS: Millis = 5 * 60 * 1000;
/// Callbacks may be booked at most this far ahead.
pub const MAX_CALLBACK_AHEAD_MS: Millis = 90 * 24 * 3600 * 1000;

/// Why a calling request was refused.
#[derive(Debug, thiserror::Error)]
pub enum CallingError {
    /// No such campaign.
    #[error("there is no such campaign")]
    NoCampaign,
    /// The person may not call this campaign.
    #[error("you are not a caller on this campaign; ask an organiser for an invite link")]
    NotACaller,
    /// The campaign is not live.
    #[error("this campaign is {0}; calling is not open")]
    NotLive(&'static str),
    /// The caller skipped too many contacts too fast.
    #[error(
        "too many contacts skipped in five minutes; take a short break, an organiser has been told"
    )]
    Throttled,
    /// The outcome key is not one of the campaign's.
    #[error("'{0}' is not an outcome of this campaign")]
    UnknownOutcome(String),
    /// Survey answers failed their checks.
    #[error("some answers are not valid")]
    InvalidAnswers(Vec<AnswerError>),
    /// The callback time is missing, past, or too far ahead.
    #[error("{0}")]
    BadCallbackTime(String),
    /// A lease operation was refused.
    #[error(transparent)]
    Lease(#[from] LeaseProblem),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A defect: something that cannot fail did.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The result of asking for the next contact.
#[derive(Debug, Clone)]
pub enum Claim {
    /// A contact to call, with the script filled in.
    Contact {
        /// The lease and contact.
        claimed: ClaimedContact,
        /// The campaign script rendered for this contact (plain text).
        script: String,
    },
    /// Nobody is callable now; says why.
    Nothing(QueueReport),
}

/// The state of a campaign's queue, for callers and organisers.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueueReport {
    /// Counts by state.
    pub counts: QueueCounts,
    /// Whether calling hours are open now.
    pub calling_hours_open: bool,
    /// The next time calling hours open, if closed.
    pub opens_at: Option<Millis>,
    /// One sentence: "312 in cooldown, first back at 18:00, 5 suppressed".
    pub summary: String,
}

/// How long a campaign read from the database is reused: a pause or a settings change
/// reaches every node's callers within this time.
const CAMPAIGN_CACHE: Duration = Duration::from_secs(2);
/// How long the explanation of an empty queue is shown to callers before it is counted
/// again: a crowd of callers waiting on an empty list should not each count the list.
const EMPTY_QUEUE_CACHE: Duration = Duration::from_secs(2);
/// How long "this person may call this campaign" is remembered once true.
const CALLER_CACHE: Duration = Duration::from_secs(60);
/// Cached entries kept before the caches are emptied (a bound on memory).
const CACHE_LIMIT: usize = 100_000;

/// The phonebank engine, shared by every request.
#[derive(Clone)]
pub struct Dispatcher {
    store: Store,
    events: CampaignEvents,
    campaigns: Arc<TtlCache<i64, Campaign>>,
    callers: Arc<TtlCache<(i64, i64), ()>>,
    empty_queues: Arc<TtlCache<i64, QueueReport>>,
    /// One lock per campaign, held while its empty queue is counted, so callers arriving
    /// meanwhile wait for that count instead of each starting their own (and counts of
    /// different campaigns do not wait for each other).
    counting: Arc<Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>>,
    /// The campaign of each lease this node handed out (a lease never changes campaign).
    lease_campaigns: Arc<Mutex<HashMap<i64, i64>>>,
}

/// A map whose entries carry the time they were stored.
type TtlCache<K, V> = Mutex<HashMap<K, (Instant, V)>>;

/// Looks up a fresh cached value.
fn cached<K: std::hash::Hash + Eq, V: Clone>(
    cache: &Mutex<HashMap<K, (Instant, V)>>,
    key: &K,
    ttl: Duration,
) -> Option<V> {
    let cache = cache.lock().ok()?;
    cache
        .get(key)
        .filter(|(at, _)| at.elapsed() < ttl)
        .map(|(_, v)| v.clone())
}

fn remember<K: std::hash::Hash + Eq, V>(cache: &Mutex<HashMap<K, (Instant, V)>>, key: K, value: V) {
    if let Ok(mut cache) = cache.lock() {
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key, (Instant::now(), value));
    }
}

fn millis_to_utc(millis: Millis) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

impl Dispatcher {
    /// An engine over `store`, announcing changes on `events`.
    pub fn new(store: Store, events: CampaignEvents) -> Self {
        Self {
            store,
            events,
            campaigns: Arc::default(),
            callers: Arc::default(),
            empty_queues: Arc::default(),
            counting: Arc::default(),
            lease_campaigns: Arc::default(),
        }
    }

    /// The campaign a lease belongs to, if the lease exists: from memory for leases this
    /// node handed out, else from the store.
    pub async fn lease_campaign_id(&self, lease_id: i64) -> Result<Option<i64>, StoreError> {
        let known = self
            .lease_campaigns
            .lock()
            .ok()
            .and_then(|leases| leases.get(&lease_id).copied());
        if known.is_some() {
            return Ok(known);
        }
        let found = self.store.lease_campaign_id(lease_id).await?;
        if let Some(campaign_id) = found {
            self.remember_lease(lease_id, campaign_id);
        }
        Ok(found)
    }

    fn remember_lease(&self, lease_id: i64, campaign_id: i64) {
        if let Ok(mut leases) = self.lease_campaigns.lock() {
            if leases.len() >= CACHE_LIMIT {
                leases.clear();
            }
            leases.insert(lease_id, campaign_id);
        }
    }

    /// The event bus.
    pub fn events(&self) -> &CampaignEvents {
        &self.events
    }

    /// The campaign (read at most [`CAMPAIGN_CACHE`] ago), or `NoCampaign`.
    pub async fn campaign(&self, campaign_id: i64) -> Result<Campaign, CallingError> {
        if let Some(campaign) = cached(&self.campaigns, &campaign_id, CAMPAIGN_CACHE) {
            return Ok(campaign);
        }
        let campaign = self
            .store
            .campaign(campaign_id)
            .await?
            .ok_or(CallingError::NoCampaign)?;
        remember(&self.campaigns, campaign_id, campaign.clone());
        Ok(campaign)
    }

    /// Forgets a cached campaign after this node changed it.
    pub fn forget_campaign(&self, campaign_id: i64) {
        if let Ok(mut cache) = self.campaigns.lock() {
            cache.remove(&campaign_id);
        }
    }

    /// Whether `user` may call `campaign`: an invited caller, anyone with a role in the
    /// campaign's group (or above), or an administrator.
    pub async fn may_call(&self, user: &User, campaign: &Campaign) -> Result<bool, StoreError> {
        let key = (user.id, campaign.id);
        if user.is_admin || cached(&self.callers, &key, CALLER_CACHE).is_some() {
            return Ok(true);
        }
        let allowed = self.store.is_campaign_caller(campaign.id, user.id).await?
            || self
                .store
                .effective_role(user.id, campaign.group_id)
                .await?
                .is_some_and(|r| r >= Role::Caller);
        if allowed {
            remember(&self.callers, key, ());
        }
        Ok(allowed)
    }

    /// Hands `user` the next contact of the campaign, or the contact they already hold.
    pub async fn claim(
        &self,
        user: &User,
        campaign_id: i64,
        now: Millis,
    ) -> Result<Claim, CallingError> {
        let campaign = self.campaign(campaign_id).await?;
        if !self.may_call(user, &campaign).await? {
            return Err(CallingError::NotACaller);
        }
        if campaign.status != CampaignStatus::Live {
            return Err(CallingError::NotLive(campaign.status.as_str()));
        }
        let request = ClaimRequest {
            campaign_id: campaign.id,
            caller_id: user.id,
            now,
            lease_ms: campaign.lease_millis(),
            skips_since: now - SKIP_WINDOW_MS,
            skip_limit: campaign.settings.skip_limit,
            calling_hours_open: campaign
                .settings
                .calling_hours
                .is_open_at(millis_to_utc(now)),
        };
        match self.store.claim_for_caller(&request).await? {
            ClaimAnswer::Held(held) => Ok(self.with_script(&campaign, held)),
            ClaimAnswer::Claimed(claimed) => {
                self.events.publish(CampaignEvent::Claimed { campaign_id });
                Ok(self.with_script(&campaign, claimed))
            }
            ClaimAnswer::Nothing => Ok(Claim::Nothing(
                self.empty_queue_report(&campaign, now).await?,
            )),
            ClaimAnswer::Throttled { skips } => {
                self.throttle(&campaign, user, skips, now).await?;
                Err(CallingError::Throttled)
            }
        }
    }

    /// Flags a caller who skipped `skips` contacts in the window (once per flag) and
    /// tells the campaign's organisers.
    async fn throttle(
        &self,
        campaign: &Campaign,
        user: &User,
        skips: i64,
        now: Millis,
    ) -> Result<(), StoreError> {
        let flagged = self
            .store
            .flag_caller(
                campaign.id,
                user.id,
                &format!("{skips} contacts skipped in five minutes"),
                now,
            )
            .await?;
        if flagged {
            tracing::warn!(
                campaign_id = campaign.id,
                caller_id = user.id,
                skips,
                "caller throttled and flagged"
            );
            self.events.publish(CampaignEvent::CallerFlagged {
                campaign_id: campaign.id,
            });
        }
        Ok(())
    }

    fn with_script(&self, campaign: &Campaign, claimed: ClaimedContact) -> Claim {
        self.remember_lease(claimed.lease_id, campaign.id);
        let contact = &claimed.contact;
        let script = match Script::parse(&campaign.settings.script) {
            Ok(script) => script.render(&|field: &str| match field {
                "first_name" => Some(contact.first_name.clone()).filter(|s| !s.is_empty()),
                "last_name" => Some(contact.last_name.clone()).filter(|s| !s.is_empty()),
                "postcode" => contact.postcode.clone(),
                "email" => contact.email.clone(),
                other => contact
                    .extra
                    .iter()
                    .find(|(k, _)| {
                        barnstorm_domain::script::field_key(k)
                            == barnstorm_domain::script::field_key(other)
                    })
                    .map(|(_, v)| v.clone()),
            }),
            Err(_) => campaign.settings.script.clone(),
        };
        Claim::Contact { claimed, script }
    }

    /// Extends the caller's lease while the call goes on.
    pub async fn heartbeat(
        &self,
        user: &User,
        lease_id: i64,
        campaign: &Campaign,
        now: Millis,
    ) -> Result<Millis, CallingError> {
        Ok(self
            .store
            .heartbeat_lease(lease_id, user.id, now, campaign.lease_millis())
            .await?)
    }

    /// Gives the contact back unrecorded (a skip or a break).
    pub async fn release(
        &self,
        user: &User,
        lease_id: i64,
        campaign_id: i64,
        now: Millis,
    ) -> Result<(), CallingError> {
        self.store.release_lease(lease_id, user.id, now).await?;
        self.events.publish(CampaignEvent::Released { campaign_id });
        Ok(())
    }

    /// Records a call's outcome after checking it against the campaign; acknowledged only
    /// once committed.
    #[expect(
        clippy::too_many_arguments,
        reason = "one call per recorded outcome; the fields are the request"
    )]
    pub async fn record_outcome(
        &self,
        user: &User,
        campaign: &Campaign,
        lease_id: i64,
        idempotency_key: &str,
        outcome_key: &str,
        answers: &Answers,
        notes: &str,
        callback_at: Option<Millis>,
        now: Millis,
    ) -> Result<RecordedOutcome, CallingError> {
        let outcome = campaign
            .settings
            .outcomes
            .get(outcome_key)
            .ok_or_else(|| CallingError::UnknownOutcome(outcome_key.to_owned()))?;
        let callback_at = match (outcome.effect, callback_at) {
            (barnstorm_domain::outcome::OutcomeEffect::Callback, None) => {
                return Err(CallingError::BadCallbackTime(
                    "callback_at: say when to ring back".into(),
                ));
            }
            (barnstorm_domain::outcome::OutcomeEffect::Callback, Some(at)) if at <= now => {
                return Err(CallingError::BadCallbackTime(
                    "callback_at: the time is in the past".into(),
                ));
            }
            (barnstorm_domain::outcome::OutcomeEffect::Callback, Some(at))
                if at > now + MAX_CALLBACK_AHEAD_MS =>
            {
                return Err(CallingError::BadCallbackTime(
                    "callback_at: at most 90 days ahead".into(),
                ));
            }
            (barnstorm_domain::outcome::OutcomeEffect::Callback, at) => at,
            _ => None,
        };
        // Survey answers belong to conversations: after "no answer" or "wrong number" there
        // is nobody's answer to record, and required questions cannot be required.
        let answers_json = if outcome.counts_as_conversation {
            let clean = campaign
                .settings
                .survey
                .validate_answers(answers)
                .map_err(CallingError::InvalidAnswers)?;
            serde_json::to_string(&clean).map_err(|e| CallingError::Internal(e.to_string()))?
        } else {
            "{}".to_owned()
        };
        let recorded = self
            .store
            .record_outcome(&OutcomeRecord {
                lease_id,
                caller_id: user.id,
                idempotency_key,
                outcome,
                answers_json: &answers_json,
                notes: notes.trim(),
                callback_at,
                retry: &campaign.settings.retry,
                group_id: campaign.group_id,
                now,
            })
            .await?;
        if !recorded.replayed {
            self.events.publish(CampaignEvent::OutcomeRecorded {
                campaign_id: campaign.id,
            });
        }
        Ok(recorded)
    }

    /// Why a caller found nobody to call: [`Dispatcher::report`], counted at most once
    /// per [`EMPTY_QUEUE_CACHE`] per campaign on this node.
    async fn empty_queue_report(
        &self,
        campaign: &Campaign,
        now: Millis,
    ) -> Result<QueueReport, StoreError> {
        if let Some(report) = cached(&self.empty_queues, &campaign.id, EMPTY_QUEUE_CACHE) {
            return Ok(report);
        }
        let lock = match self.counting.lock() {
            Ok(mut locks) => Arc::clone(locks.entry(campaign.id).or_default()),
            Err(_) => Arc::default(),
        };
        let _counting = lock.lock().await;
        if let Some(report) = cached(&self.empty_queues, &campaign.id, EMPTY_QUEUE_CACHE) {
            return Ok(report);
        }
        let report = self.report(campaign, now).await?;
        remember(&self.empty_queues, campaign.id, report.clone());
        Ok(report)
    }

    /// How the campaign's queue stands at `now`, with a one-line explanation.
    pub async fn report(
        &self,
        campaign: &Campaign,
        now: Millis,
    ) -> Result<QueueReport, StoreError> {
        let counts = self.store.queue_counts(campaign.id, now).await?;
        let hours = &campaign.settings.calling_hours;
        let now_utc = millis_to_utc(now);
        let open = hours.is_open_at(now_utc);
        let opens_at = if open {
            None
        } else {
            hours.next_opening_after(now_utc)
        };
        let to_u64 = |n: i64| u64::try_from(n).unwrap_or(0);
        let mut health = QueueHealth {
            leased: to_u64(counts.leased),
            callback_scheduled: to_u64(counts.callbacks_scheduled),
            cooling_down: to_u64(counts.cooling_down),
            suppressed: to_u64(counts.suppressed),
            completed: to_u64(counts.finished),
            ..QueueHealth::default()
        };
        if open {
            health.callable = to_u64(counts.ready);
        } else {
            health.outside_calling_hours = to_u64(counts.ready);
            health.first_opening = opens_at;
        }
        let next = counts.next_available_at.map(millis_to_utc);
        if counts.callbacks_scheduled > 0 {
            health.first_callback_at = next;
        }
        if counts.cooling_down > 0 {
            health.first_cooldown_end = next;
        }
        let mut summary = health.describe(now_utc, hours.time_zone());
        if !open
            && counts.ready == 0
            && let Some(at) = opens_at
        {
            {
                summary = format!(
                    "calling hours are closed until {}; {summary}",
                    at.with_timezone(&hours.time_zone()).format("%a %H:%M")
                );
            }
        }
        Ok(QueueReport {
            counts,
            calling_hours_open: open,
            opens_at: opens_at.map(|t| t.timestamp_millis()),
            summary,
        })
    }
}
