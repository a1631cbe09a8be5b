//! The calling session: who may call a campaign, handing out the next contact (one at a
//! time per caller, no faster than the campaign's pace limit, showing only the fields
//! callers are shown), heartbeats, releases, outcomes with checked survey answers and
//! their correction within a minute, skip throttling, suspending callers who keep hitting
//! the pace limit, and the explanation shown when nobody is callable. Every state change
//! is announced on the [`CampaignEvents`] bus so dashboards update live.

use crate::events::{CampaignEvent, CampaignEvents};
use barnstorm_domain::limits;
use barnstorm_domain::outcome::{Outcome, OutcomeEffect};
use barnstorm_domain::queue_policy::QueueHealth;
use barnstorm_domain::script::Script;
use barnstorm_domain::survey::{AnswerError, Answers};
use barnstorm_store::phonebank::HOUR_MS;
use barnstorm_store::phonebank::{
    Campaign, CampaignStatus, ClaimAnswer, ClaimRequest, ClaimedContact, LeaseProblem,
    OutcomeRecord, QueueCounts, RecordedOutcome,
};
use barnstorm_store::webhooks::WebhookEventType;
use barnstorm_store::{Millis, Role, Store, StoreError, User};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Skips counted over this window for throttling.
pub const SKIP_WINDOW_MS: Millis = 5 * 60 * 1000;
/// A caller refused this many claims by the pace limit within [`PACE_REFUSAL_WINDOW_MS`]
/// is suspended automatically and flagged: a person told to wait does not ask ten times.
pub const PACE_REFUSALS_BEFORE_SUSPENSION: i64 = 10;
/// The window over which pace refusals are counted towards a suspension.
pub const PACE_REFUSAL_WINDOW_MS: Millis = HOUR_MS;
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
    /// The caller was handed as many new contacts as the campaign's pace limit allows.
    #[error("you have been handed contacts faster than anyone can call them; you can go on in {} seconds", seconds_until(*.retry_at, *.now))]
    PaceLimited {
        /// When the caller may be handed the next contact.
        retry_at: Millis,
        /// The time of the refusal.
        now: Millis,
        /// Whether this refusal suspended the caller.
        suspended: bool,
    },

    /// The outcome key is not one of the campaign's.
    #[error("'{0}' is not an outcome of this campaign")]
    UnknownOutcome(String),
    /// Survey answers failed their checks.
    #[error("some answers are not valid")]
    InvalidAnswers(Vec<AnswerError>),
    /// The callback time is missing, past, or too far ahead.
    #[error("{0}")]
    BadCallbackTime(String),
    /// A free-text field (the call notes) is longer than its limit.
    #[error(transparent)]
    TooLong(#[from] barnstorm_domain::limits::TooLong),
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

/// Whole seconds from `now` until `at`, at least 1.
pub fn seconds_until(at: Millis, now: Millis) -> i64 {
    ((at - now + 999) / 1000).max(1)
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

    /// Forgets a cached campaign, and the explanation of its empty queue, after this node
    /// changed it: the next claim reads the new settings and explains with the new hours.
    pub fn forget_campaign(&self, campaign_id: i64) {
        if let Ok(mut cache) = self.campaigns.lock() {
            cache.remove(&campaign_id);
        }
        if let Ok(mut cache) = self.empty_queues.lock() {
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
            pace: campaign.settings.pace,
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
            ClaimAnswer::PaceLimited { retry_at } => {
                let suspended = self.pace_refused(&campaign, user, now).await?;
                Err(CallingError::PaceLimited {
                    retry_at,
                    now,
                    suspended,
                })
            }
            ClaimAnswer::Barred(bar) => Err(LeaseProblem::Barred(bar).into()),
        }
    }

    /// Counts a claim refused by the pace limit; once the caller has been refused
    /// [`PACE_REFUSALS_BEFORE_SUSPENSION`] times in the window, suspends and flags them
    /// and tells the dashboard. True when this refusal suspended them.
    async fn pace_refused(
        &self,
        campaign: &Campaign,
        user: &User,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let refusals = self
            .store
            .count_pace_refusal(campaign.id, user.id, now, PACE_REFUSAL_WINDOW_MS)
            .await?;
        if refusals.count < PACE_REFUSALS_BEFORE_SUSPENSION {
            return Ok(false);
        }
        let reason = format!(
            "suspended automatically: {} claims refused by the pace limit ({} a minute, {} an hour) within an hour",
            refusals.count, campaign.settings.pace.per_minute, campaign.settings.pace.per_hour
        );
        let suspended = self
            .store
            .suspend_caller(campaign.id, user.id, None, &reason, now)
            .await?;
        if suspended {
            tracing::warn!(
                campaign_id = campaign.id,
                caller_id = user.id,
                refusals = refusals.count,
                "caller suspended for claiming faster than the pace limit"
            );
            self.events.publish(CampaignEvent::CallerFlagged {
                campaign_id: campaign.id,
            });
        }
        Ok(suspended)
    }

    /// Suspends a caller on an organiser's word (`actor`): their claims, heartbeats and
    /// outcomes are refused at once on every node and their contact goes back.
    pub async fn suspend_caller(
        &self,
        campaign: &Campaign,
        user_id: i64,
        actor: i64,
        reason: &str,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let suspended = self
            .store
            .suspend_caller(campaign.id, user_id, Some(actor), reason, now)
            .await?;
        if suspended {
            self.forget_caller(campaign.id, user_id);
            self.events.publish(CampaignEvent::CallerFlagged {
                campaign_id: campaign.id,
            });
        }
        Ok(suspended)
    }

    /// Removes a caller from a campaign on an organiser's word (`actor`), as
    /// [`Dispatcher::suspend_caller`] but for good.
    pub async fn remove_caller(
        &self,
        campaign: &Campaign,
        user_id: i64,
        actor: i64,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let removed = self
            .store
            .remove_campaign_caller(campaign.id, user_id, actor, now)
            .await?;
        if removed {
            self.forget_caller(campaign.id, user_id);
            self.events.publish(CampaignEvent::CallerFlagged {
                campaign_id: campaign.id,
            });
        }
        Ok(removed)
    }

    /// Lifts a caller's suspension on an organiser's word (`actor`).
    pub async fn lift_suspension(
        &self,
        campaign: &Campaign,
        user_id: i64,
        actor: i64,
    ) -> Result<bool, StoreError> {
        let lifted = self
            .store
            .lift_caller_suspension(campaign.id, user_id, actor)
            .await?;
        if lifted {
            self.events.publish(CampaignEvent::CallerFlagged {
                campaign_id: campaign.id,
            });
        }
        Ok(lifted)
    }

    /// Forgets that a caller may call (this node's cache); other nodes' caches do not
    /// matter, since every claim and lease operation reads the bar from the database.
    fn forget_caller(&self, campaign_id: i64, user_id: i64) {
        if let Ok(mut cache) = self.callers.lock() {
            cache.remove(&(user_id, campaign_id));
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

    /// The claim as the caller sees it: only the fields they are shown, and the script
    /// filled in from those alone.
    fn with_script(&self, campaign: &Campaign, mut claimed: ClaimedContact) -> Claim {
        self.remember_lease(claimed.lease_id, campaign.id);
        claimed.contact = campaign.settings.as_shown_to_callers(claimed.contact);
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
        let call = CheckedCall::new(campaign, outcome_key, answers, notes, callback_at, now)?;
        let recorded = self
            .store
            .record_outcome(&call.record(user, campaign, lease_id, idempotency_key, now))
            .await;
        let recorded = self
            .after_do_not_call_limit(campaign, user, now, recorded)
            .await?;
        if !recorded.replayed {
            self.events.publish(CampaignEvent::OutcomeRecorded {
                campaign_id: campaign.id,
            });
            self.queue_attempt_webhook(campaign, user, &recorded).await;
        }
        Ok(recorded)
    }

    /// Changes the outcome, answers and notes of the caller's latest call, saved on
    /// `lease_id` less than a minute ago, with the same checks as recording it.
    #[expect(
        clippy::too_many_arguments,
        reason = "one call per correction; the fields are the request"
    )]
    pub async fn correct_outcome(
        &self,
        user: &User,
        campaign: &Campaign,
        lease_id: i64,
        outcome_key: &str,
        answers: &Answers,
        notes: &str,
        callback_at: Option<Millis>,
        now: Millis,
    ) -> Result<RecordedOutcome, CallingError> {
        let call = CheckedCall::new(campaign, outcome_key, answers, notes, callback_at, now)?;
        let corrected = self
            .store
            .correct_outcome(&call.record(user, campaign, lease_id, "", now))
            .await;
        let corrected = self
            .after_do_not_call_limit(campaign, user, now, corrected)
            .await?;
        self.events.publish(CampaignEvent::OutcomeRecorded {
            campaign_id: campaign.id,
        });
        Ok(corrected)
    }

    /// Queues `attempt.recorded` for a call just committed. The call is saved by the
    /// batching queue, outside any transaction this could join, so the message follows it
    /// at once; a failure here is logged and never undoes the caller's call.
    async fn queue_attempt_webhook(
        &self,
        campaign: &Campaign,
        user: &User,
        recorded: &RecordedOutcome,
    ) {
        let data = serde_json::json!({
            "attempt_id": recorded.attempt_id,
            "campaign_id": campaign.id,
            "group_id": campaign.group_id,
            "contact_id": recorded.contact_id,
            "caller_id": user.id,
            "outcome": recorded.outcome,
        });
        if let Err(error) = self
            .store
            .queue_webhook(WebhookEventType::AttemptRecorded, data)
            .await
        {
            tracing::warn!(%error, attempt_id = recorded.attempt_id, "could not queue the attempt.recorded webhook");
        }
    }

    /// Flags the caller when the store refused a "do not call" outcome for the limit.
    async fn after_do_not_call_limit(
        &self,
        campaign: &Campaign,
        user: &User,
        now: Millis,
        result: Result<RecordedOutcome, LeaseProblem>,
    ) -> Result<RecordedOutcome, CallingError> {
        match result {
            Err(LeaseProblem::DoNotCallLimited { retry_at }) => {
                self.do_not_call_limited(campaign, user, now).await?;
                Err(LeaseProblem::DoNotCallLimited { retry_at }.into())
            }
            other => Ok(other?),
        }
    }

    /// Flags a caller who reached the campaign's limit of "do not call" outcomes.
    async fn do_not_call_limited(
        &self,
        campaign: &Campaign,
        user: &User,
        now: Millis,
    ) -> Result<(), StoreError> {
        let reason = format!(
            "reached the limit of {} \"do not call\" outcomes an hour",
            campaign.settings.do_not_call_per_hour
        );
        if self
            .store
            .flag_caller(campaign.id, user.id, &reason, now)
            .await?
        {
            tracing::warn!(
                campaign_id = campaign.id,
                caller_id = user.id,
                "caller flagged at the do-not-call limit"
            );
            self.events.publish(CampaignEvent::CallerFlagged {
                campaign_id: campaign.id,
            });
        }
        Ok(())
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
        health.first_callback_at = counts.next_callback_at.map(millis_to_utc);
        health.first_cooldown_end = counts.next_cooldown_end.map(millis_to_utc);
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

/// An outcome checked against its campaign: a known outcome, notes within their limit, a
/// callback time where one is needed and survey answers that pass the survey's checks.
struct CheckedCall<'c> {
    outcome: &'c Outcome,
    answers_json: String,
    notes: &'c str,
    callback_at: Option<Millis>,
}

impl<'c> CheckedCall<'c> {
    fn new(
        campaign: &'c Campaign,
        outcome_key: &str,
        answers: &Answers,
        notes: &'c str,
        callback_at: Option<Millis>,
        now: Millis,
    ) -> Result<Self, CallingError> {
        let notes = notes.trim();
        limits::check_length("notes", notes, limits::CALL_NOTES)?;
        let outcome = campaign
            .settings
            .outcomes
            .get(outcome_key)
            .ok_or_else(|| CallingError::UnknownOutcome(outcome_key.to_owned()))?;
        let callback_at = match (outcome.effect, callback_at) {
            (OutcomeEffect::Callback, None) => {
                return Err(CallingError::BadCallbackTime(
                    "callback_at: say when to ring back".into(),
                ));
            }
            (OutcomeEffect::Callback, Some(at)) if at <= now => {
                return Err(CallingError::BadCallbackTime(
                    "callback_at: the time is in the past".into(),
                ));
            }
            (OutcomeEffect::Callback, Some(at)) if at > now + MAX_CALLBACK_AHEAD_MS => {
                return Err(CallingError::BadCallbackTime(
                    "callback_at: at most 90 days ahead".into(),
                ));
            }
            (OutcomeEffect::Callback, at) => at,
            _ => None,
        };
        // Survey answers belong to conversations: after "no answer" or "wrong number" there
        // is nobody's answer to record. Which shown questions must be answered is the
        // outcome's rule (`Outcome::requires_answer`): none for an opt-out.
        let answers_json = if outcome.counts_as_conversation {
            let clean = campaign
                .settings
                .survey
                .validate_answers_requiring(answers, &|question| outcome.requires_answer(question))
                .map_err(CallingError::InvalidAnswers)?;
            serde_json::to_string(&clean).map_err(|e| CallingError::Internal(e.to_string()))?
        } else {
            "{}".to_owned()
        };
        Ok(Self {
            outcome,
            answers_json,
            notes,
            callback_at,
        })
    }

    /// The store's record of this call on `lease_id` by `user`.
    fn record<'r>(
        &'r self,
        user: &User,
        campaign: &'r Campaign,
        lease_id: i64,
        idempotency_key: &'r str,
        now: Millis,
    ) -> OutcomeRecord<'r> {
        OutcomeRecord {
            lease_id,
            caller_id: user.id,
            idempotency_key,
            outcome: self.outcome,
            answers_json: &self.answers_json,
            notes: self.notes,
            callback_at: self.callback_at,
            retry: &campaign.settings.retry,
            campaign_id: campaign.id,
            group_id: campaign.group_id,
            do_not_call_per_hour: campaign.settings.do_not_call_per_hour,
            now,
        }
    }
}
