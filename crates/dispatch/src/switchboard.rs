//! Bridged calling: the engine side of the [`Telephony`] port. A caller opens a phone
//! session ("call me" rings their phone; "dial in" gives them a PIN), and from then on the
//! switchboard hands them contacts under the same leases as the caller page, dials each
//! one with the campaign's caller ID when they press Call (or `#`), keeps a call record of
//! every attempt, proposes the outcome from how the call ended, and lets a caller with
//! only a phone hear the contact's name and record the outcome and survey on the keypad.
//! No view it returns and no log line it writes holds a phone number.

use crate::engine::{CallingError, Claim, Dispatcher};
use barnstorm_domain::call_result::{self, CallEnding};
use barnstorm_domain::keypad::{Pressed, Spoken, WrapUp};
use barnstorm_domain::outcome::OutcomeEffect;
use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_store::phonebank::{CallEnd, CallStart, Campaign, HungUpBy, JoinKind, PhoneSession};
use barnstorm_store::{Millis, Store, StoreError, User, now_millis};
use barnstorm_telephony::{
    CallKey, Command, EndedBy, Ending, Event, LineKey, SessionKey, Speech, Telephony,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a contact's phone rings before Barnstorm gives up: above Ofcom's 15 seconds.
pub const RING_TIMEOUT: Duration = Duration::from_secs(20);
/// How often the leases of callers on the line are renewed.
const LEASE_RENEWAL: Duration = Duration::from_secs(15);
/// A keypad "call back" books the contact for this long after the call.
const KEYPAD_CALLBACK_AFTER_MS: Millis = 24 * 3600 * 1000;

/// Why a phone session request was refused.
#[derive(Debug, thiserror::Error)]
pub enum SwitchboardError {
    /// The campaign does not offer bridged calling.
    #[error("this campaign does not use bridged calling")]
    NotBridged,
    /// The server has no SIP trunk.
    #[error(
        "this server has no SIP trunk, so it cannot place calls; ask its operator to start it with --sip-trunk"
    )]
    NoTrunk,
    /// The way of joining is not offered.
    #[error("this campaign does not offer {0}")]
    NotOffered(&'static str),
    /// The campaign has no caller ID yet.
    #[error(
        "this campaign has no caller ID yet; an organiser must set one before calls can be placed"
    )]
    NoCallerId,
    /// "Call me" without a number.
    #[error("phone: type the number Barnstorm should ring")]
    NoNumber,
    /// The number does not parse.
    #[error("phone: {0}")]
    BadNumber(String),
    /// The caller has no phone session on this server.
    #[error("you are not on the line; start a phone session first")]
    NotOnLine,
    /// The caller's session is on another server.
    #[error("your phone session is on another Barnstorm server; reload the page to reach it")]
    OtherNode,
    /// The phone has not answered yet.
    #[error("your phone is not connected yet")]
    NotJoined,
    /// A call is already under way.
    #[error("a call is already under way; hang up first")]
    OnCall,
    /// Nobody to call.
    #[error("there is nobody to call right now")]
    NobodyToCall,
    /// The calling rules refused.
    #[error(transparent)]
    Calling(#[from] CallingError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a caller's line stands, for the caller page (never a number).
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct LineView {
    /// `ringing_you`, `waiting_for_you`, `ready`, `dialling`, `on_call`, `wrap_up`.
    pub stage: &'static str,
    /// One sentence for the caller.
    pub message: String,
    /// The PIN to enter after dialling in.
    pub pin: Option<String>,
    /// The number to dial in on.
    pub dial_in_number: Option<String>,
    /// The lease the line holds, if any.
    pub lease_id: Option<i64>,
    /// The contact's first name.
    pub contact: Option<String>,
    /// How the last call ended ("busy (486)").
    pub last_call: Option<String>,
    /// The outcome proposed from how the last call ended.
    pub proposed_outcome: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// "Call me" is ringing the caller, or a dial-in caller has not rung yet.
    Waiting,
    /// On the line, a contact held, no call yet.
    Ready,
    /// The contact's phone is being rung.
    Dialling,
    /// Talking.
    OnCall,
    /// The call ended; the outcome is not recorded yet.
    WrapUp,
}

struct Held {
    lease_id: i64,
    contact_id: i64,
    first_name: String,
    number: String,
}

struct Line {
    session: PhoneSession,
    user: User,
    stage: Stage,
    held: Option<Held>,
    call: Option<Call>,
    wrap: Option<WrapUp>,
    last_call: Option<String>,
    proposed: Option<String>,
    message: String,
}

struct Call {
    id: i64,
    dialled_at: Millis,
    ringing_at: Option<Millis>,
}

struct Inner {
    telephony: Arc<dyn Telephony>,
    dispatcher: Dispatcher,
    store: Store,
    node: String,
    dial_in_number: Option<String>,
    lines: Mutex<HashMap<i64, Line>>,
    calls: Mutex<HashMap<i64, i64>>,
}

/// The switchboard, shared by every request on a node.
#[derive(Clone)]
pub struct Switchboard {
    inner: Arc<Inner>,
}

impl Switchboard {
    /// Starts the switchboard on `telephony` for this `node` (inside a Tokio runtime: it
    /// spawns the task that reads call events and the one that renews leases).
    pub fn new(
        telephony: Arc<dyn Telephony>,
        dispatcher: Dispatcher,
        store: Store,
        node: String,
        dial_in_number: Option<String>,
    ) -> Self {
        let events = telephony.take_events();
        let switchboard = Self {
            inner: Arc::new(Inner {
                telephony,
                dispatcher,
                store,
                node,
                dial_in_number,
                lines: Mutex::default(),
                calls: Mutex::default(),
            }),
        };
        if let Some(mut events) = events {
            let events_board = switchboard.clone();
            tokio::spawn(async move {
                while let Some(event) = events.recv().await {
                    events_board.on_event(event).await;
                }
            });
        }
        let renewals = switchboard.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(LEASE_RENEWAL);
            loop {
                tick.tick().await;
                renewals.renew_leases().await;
            }
        });
        switchboard
    }

    /// Closes the calls this node left open when it last stopped (a node that died
    /// mid-call): their records end with the network to blame. Returns how many.
    pub async fn close_calls_left_open(&self) -> Result<u64, StoreError> {
        let closed = self
            .inner
            .store
            .close_calls_of_node(
                &self.inner.node,
                "the node stopped during the call",
                now_millis(),
            )
            .await?;
        if closed > 0 {
            tracing::warn!(
                node = self.inner.node,
                closed,
                "closed calls left open when this node last stopped"
            );
        }
        Ok(closed)
    }

    /// The audio relay's totals on this node, when it has a trunk.
    pub fn media_stats(&self) -> Option<barnstorm_telephony::media::MediaStats> {
        self.inner.telephony.media_stats()
    }

    /// Callers with a phone line (ringing, waiting or on it) on this node.
    pub fn lines_open(&self) -> usize {
        self.lock_lines().len()
    }

    /// Whether this server can bridge calls at all.
    pub fn has_trunk(&self) -> bool {
        self.inner.telephony.capabilities().bridged
    }

    /// The number callers dial in on, when the trunk has one.
    pub fn dial_in_number(&self) -> Option<&str> {
        self.inner.dial_in_number.as_deref()
    }

    /// Opens a phone session for `user` on `campaign`: rings `number` ("call me", the
    /// caller's saved number when none is given) or waits for them to dial in.
    pub async fn open(
        &self,
        user: &User,
        campaign: &Campaign,
        join: JoinKind,
        number: Option<&str>,
    ) -> Result<LineView, SwitchboardError> {
        // Who may call comes first: nobody else learns how the campaign calls.
        if !self.inner.dispatcher.may_call(user, campaign).await? {
            return Err(CallingError::NotACaller.into());
        }
        let bridging = &campaign.settings.bridging;
        if !bridging.is_bridged() {
            return Err(SwitchboardError::NotBridged);
        }
        if !self.has_trunk() {
            return Err(SwitchboardError::NoTrunk);
        }
        let caller_id = bridging
            .caller_id
            .clone()
            .ok_or(SwitchboardError::NoCallerId)?;
        let number = match join {
            JoinKind::CallMe if !bridging.call_me => {
                return Err(SwitchboardError::NotOffered("call me"));
            }
            JoinKind::DialIn if !bridging.dial_in || self.inner.dial_in_number.is_none() => {
                return Err(SwitchboardError::NotOffered("dialling in"));
            }
            JoinKind::CallMe => Some(self.caller_number(user, number).await?),
            JoinKind::DialIn => None,
        };
        let now = now_millis();
        let session = self
            .inner
            .store
            .open_phone_session(campaign.id, user.id, join, &self.inner.node, now)
            .await?;
        self.end_replaced_lines(user.id, campaign.id, session.id);
        let message = match join {
            JoinKind::CallMe => {
                "Barnstorm is ringing your phone. Answer it to start calling.".to_string()
            }
            JoinKind::DialIn => format!(
                "Ring {} and enter PIN {} followed by #.",
                self.inner.dial_in_number.as_deref().unwrap_or_default(),
                session.pin
            ),
        };
        let line = Line {
            session: session.clone(),
            user: user.clone(),
            stage: Stage::Waiting,
            held: None,
            call: None,
            wrap: None,
            last_call: None,
            proposed: None,
            message,
        };
        let view = self.view_of(&line);
        self.lock_lines().insert(session.id, line);
        if let Some(number) = number {
            self.inner.telephony.send(Command::RingCaller {
                session: SessionKey(session.id),
                number,
                caller_id,
            });
        }
        Ok(view)
    }

    /// The caller's number for "call me": the one typed (saved for next time), else the saved one.
    async fn caller_number(
        &self,
        user: &User,
        typed: Option<&str>,
    ) -> Result<String, SwitchboardError> {
        match typed.map(str::trim).filter(|t| !t.is_empty()) {
            Some(typed) => {
                let number = normalise_phone(typed, Region::default())
                    .map_err(|e| SwitchboardError::BadNumber(e.to_string()))?
                    .as_str()
                    .to_string();
                self.inner
                    .store
                    .set_caller_phone(user.id, Some(&number))
                    .await?;
                Ok(number)
            }
            None => self
                .inner
                .store
                .caller_phone(user.id)
                .await?
                .ok_or(SwitchboardError::NoNumber),
        }
    }

    /// Where the caller's line stands, if they have one on this node.
    pub async fn view(
        &self,
        user: &User,
        campaign_id: i64,
    ) -> Result<Option<LineView>, SwitchboardError> {
        if let Some(view) = self.with_line(user.id, campaign_id, |board, line| board.view_of(line))
        {
            return Ok(Some(view));
        }
        match self
            .inner
            .store
            .open_phone_session_of(campaign_id, user.id)
            .await?
        {
            Some(session) if session.node != self.inner.node => Err(SwitchboardError::OtherNode),
            _ => Ok(None),
        }
    }

    /// Dials the contact the caller holds (claiming one if they hold none).
    pub async fn call(&self, user: &User, campaign_id: i64) -> Result<LineView, SwitchboardError> {
        let session_id = self.session_of(user.id, campaign_id)?;
        self.dial(session_id).await?;
        self.with_session(session_id, |board, line| board.view_of(line))
            .ok_or(SwitchboardError::NotOnLine)
    }

    /// Ends the contact's leg; the caller stays on the line.
    pub fn hang_up(&self, user: &User, campaign_id: i64) -> Result<(), SwitchboardError> {
        let session_id = self.session_of(user.id, campaign_id)?;
        let call = self
            .with_session(session_id, |_, line| line.call.as_ref().map(|c| c.id))
            .flatten();
        if let Some(call) = call {
            self.inner.telephony.send(Command::HangUp {
                call: CallKey(call),
            });
        }
        Ok(())
    }

    /// Ends the caller's phone session.
    pub fn end(&self, user: &User, campaign_id: i64) -> Result<(), SwitchboardError> {
        let session_id = self.session_of(user.id, campaign_id)?;
        self.inner.telephony.send(Command::EndSession {
            session: SessionKey(session_id),
        });
        Ok(())
    }

    /// The caller recorded the outcome of `lease_id` on the page: move their line, if it
    /// holds that contact, on to the next one. Every outcome passes here, so a campaign that
    /// does not bridge calls costs nothing.
    pub async fn outcome_recorded(&self, user: &User, campaign: &Campaign, lease_id: i64) {
        if !campaign.settings.bridging.is_bridged() {
            return;
        }
        let line = self.with_line(user.id, campaign.id, |_, line| {
            let held = line.held.as_ref().map(|h| h.lease_id);
            (held == Some(lease_id)).then_some(line.session.id)
        });
        if let Some(Some(session_id)) = line {
            self.next_contact(session_id).await;
        }
    }

    fn lock_lines(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Line>> {
        self.inner
            .lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn with_session<T>(&self, session_id: i64, f: impl FnOnce(&Self, &mut Line) -> T) -> Option<T> {
        let mut lines = self.lock_lines();
        lines.get_mut(&session_id).map(|line| f(self, line))
    }

    fn with_line<T>(
        &self,
        user_id: i64,
        campaign_id: i64,
        f: impl FnOnce(&Self, &mut Line) -> T,
    ) -> Option<T> {
        let mut lines = self.lock_lines();
        lines
            .values_mut()
            .find(|l| l.user.id == user_id && l.session.campaign_id == campaign_id)
            .map(|line| f(self, line))
    }

    fn session_of(&self, user_id: i64, campaign_id: i64) -> Result<i64, SwitchboardError> {
        self.with_line(user_id, campaign_id, |_, line| line.session.id)
            .ok_or(SwitchboardError::NotOnLine)
    }

    fn end_replaced_lines(&self, user_id: i64, campaign_id: i64, keep: i64) {
        let replaced: Vec<i64> = self
            .lock_lines()
            .values()
            .filter(|l| {
                l.user.id == user_id && l.session.campaign_id == campaign_id && l.session.id != keep
            })
            .map(|l| l.session.id)
            .collect();
        for session in replaced {
            self.inner.telephony.send(Command::EndSession {
                session: SessionKey(session),
            });
        }
    }

    fn view_of(&self, line: &Line) -> LineView {
        let waiting = line.stage == Stage::Waiting;
        LineView {
            stage: match (line.stage, line.session.join) {
                (Stage::Waiting, JoinKind::CallMe) => "ringing_you",
                (Stage::Waiting, JoinKind::DialIn) => "waiting_for_you",
                (Stage::Ready, _) => "ready",
                (Stage::Dialling, _) => "dialling",
                (Stage::OnCall, _) => "on_call",
                (Stage::WrapUp, _) => "wrap_up",
            },
            message: line.message.clone(),
            pin: (waiting && line.session.join == JoinKind::DialIn)
                .then(|| line.session.pin.clone()),
            dial_in_number: (line.session.join == JoinKind::DialIn)
                .then(|| self.inner.dial_in_number.clone())
                .flatten(),
            lease_id: line.held.as_ref().map(|h| h.lease_id),
            contact: line.held.as_ref().map(|h| h.first_name.clone()),
            last_call: line.last_call.clone(),
            proposed_outcome: line.proposed.clone(),
        }
    }

    async fn campaign(&self, campaign_id: i64) -> Option<Campaign> {
        self.inner.dispatcher.campaign(campaign_id).await.ok()
    }

    fn say(&self, session_id: i64, parts: Vec<Spoken>) {
        let speech = parts
            .into_iter()
            .map(|part| match part {
                Spoken::Prompt(name) => Speech::Prompt(name),
                Spoken::Words(words) => Speech::Say(words),
            })
            .collect();
        self.inner.telephony.send(Command::Say {
            session: SessionKey(session_id),
            speech,
        });
    }

    async fn on_event(&self, event: Event) {
        let now = now_millis();
        match event {
            Event::CallerRinging(_) => {}
            Event::CallerJoined(SessionKey(session)) => {
                if let Err(error) = self.inner.store.phone_session_joined(session, now).await {
                    tracing::error!(%error, session, "could not mark the phone session joined");
                }
                self.with_session(session, |_, line| line.stage = Stage::Ready);
                self.next_contact(session).await;
            }
            Event::CallerLeft(SessionKey(session), ending) => {
                self.caller_left(session, ending, now).await
            }
            Event::LinePin(line, pin) => self.line_pin(line, &pin).await,
            Event::Digit(SessionKey(session), digit) => self.digit(session, digit).await,
            Event::SaidAll(_) => {}
            Event::Ringing(CallKey(call)) => {
                if let Err(error) = self.inner.store.call_ringing(call, now).await {
                    tracing::error!(%error, call, "could not record ringing");
                }
                self.on_call_line(call, |line| {
                    if let Some(c) = line.call.as_mut() {
                        c.ringing_at.get_or_insert(now);
                    }
                    line.message = format!("Ringing {}…", first_name(line));
                });
            }
            Event::Answered(CallKey(call)) => {
                if let Err(error) = self.inner.store.call_answered(call, now).await {
                    tracing::error!(%error, call, "could not record the answer");
                }
                self.on_call_line(call, |line| {
                    line.stage = Stage::OnCall;
                    line.message = format!(
                        "On the call with {}. Hang up ends only their side.",
                        first_name(line)
                    );
                });
            }
            Event::Ended(CallKey(call), ending) => self.call_ended(call, ending, now).await,
        }
    }

    fn on_call_line(&self, call: i64, f: impl FnOnce(&mut Line)) {
        let session = self
            .inner
            .calls
            .lock()
            .ok()
            .and_then(|calls| calls.get(&call).copied());
        if let Some(session) = session {
            self.with_session(session, |_, line| f(line));
        }
    }

    /// Hands the line the contact its caller holds, or the next one, and announces it.
    async fn next_contact(&self, session_id: i64) {
        let Some((user, campaign_id)) = self.with_session(session_id, |_, line| {
            (line.user.clone(), line.session.campaign_id)
        }) else {
            return;
        };
        let claim = self
            .inner
            .dispatcher
            .claim(&user, campaign_id, now_millis())
            .await;
        let (message, speech) = match claim {
            Ok(Claim::Contact { claimed, .. }) => {
                let first = claimed.contact.first_name.clone();
                let held = Held {
                    lease_id: claimed.lease_id,
                    contact_id: claimed.contact.id,
                    first_name: first.clone(),
                    number: claimed.contact.phone.clone(),
                };
                self.with_session(session_id, |_, line| {
                    line.held = Some(held);
                    line.stage = Stage::Ready;
                    line.wrap = None;
                    line.proposed = None;
                });
                (
                    format!("Next: {first}. Press Call, or # on your keypad."),
                    vec![
                        Spoken::Prompt("next-contact"),
                        Spoken::Words(first),
                        Spoken::Prompt("press-hash-to-call"),
                    ],
                )
            }
            Ok(Claim::Nothing(report)) => {
                self.with_session(session_id, |_, line| {
                    line.held = None;
                    line.stage = Stage::Ready;
                });
                (report.summary, vec![Spoken::Prompt("no-contacts")])
            }
            Err(error) => (error.to_string(), vec![Spoken::Prompt("call-failed")]),
        };
        self.with_session(session_id, |_, line| line.message = message);
        self.say(session_id, speech);
    }

    async fn dial(&self, session_id: i64) -> Result<(), SwitchboardError> {
        let (stage, campaign_id, user_id, has_held) = self
            .with_session(session_id, |_, line| {
                (
                    line.stage,
                    line.session.campaign_id,
                    line.user.id,
                    line.held.is_some(),
                )
            })
            .ok_or(SwitchboardError::NotOnLine)?;
        match stage {
            Stage::Waiting => return Err(SwitchboardError::NotJoined),
            Stage::Dialling | Stage::OnCall => return Err(SwitchboardError::OnCall),
            Stage::Ready | Stage::WrapUp => {}
        }
        if !has_held || stage == Stage::WrapUp {
            self.next_contact(session_id).await;
        }
        let campaign = self
            .campaign(campaign_id)
            .await
            .ok_or(SwitchboardError::NotOnLine)?;
        let caller_id = campaign
            .settings
            .bridging
            .caller_id
            .clone()
            .ok_or(SwitchboardError::NoCallerId)?;
        let Some((lease_id, contact_id, number)) = self
            .with_session(session_id, |_, line| {
                line.held
                    .as_ref()
                    .map(|h| (h.lease_id, h.contact_id, h.number.clone()))
            })
            .flatten()
        else {
            return Err(SwitchboardError::NobodyToCall);
        };
        let now = now_millis();
        let call = self
            .inner
            .store
            .call_dialled(&CallStart {
                campaign_id,
                lease_id,
                contact_id,
                caller_id: user_id,
                session_id,
                node: self.inner.node.clone(),
                now,
            })
            .await?;
        if let Ok(mut calls) = self.inner.calls.lock() {
            calls.insert(call, session_id);
        }
        self.with_session(session_id, |_, line| {
            line.stage = Stage::Dialling;
            line.call = Some(Call {
                id: call,
                dialled_at: now,
                ringing_at: None,
            });
            line.last_call = None;
            line.proposed = None;
            line.message = format!("Calling {}…", first_name(line));
        });
        self.say(session_id, vec![Spoken::Prompt("connecting")]);
        self.inner.telephony.send(Command::Dial {
            session: SessionKey(session_id),
            call: CallKey(call),
            number,
            caller_id,
            ring_timeout: RING_TIMEOUT,
        });
        Ok(())
    }

    async fn call_ended(&self, call: i64, ending: Ending, now: Millis) {
        let session = self
            .inner
            .calls
            .lock()
            .ok()
            .and_then(|mut calls| calls.remove(&call));
        let Some(session_id) = session else {
            return;
        };
        let Some((campaign_id, timing)) = self.with_session(session_id, |_, line| {
            (
                line.session.campaign_id,
                line.call.take().map(|c| (c.dialled_at, c.ringing_at)),
            )
        }) else {
            return;
        };
        let campaign = self.campaign(campaign_id).await;
        let (dialled_at, ringing_at) = timing.unwrap_or((now, None));
        let proposed = campaign.as_ref().and_then(|c| {
            call_result::propose(
                &CallEnding {
                    answered: ending.answered,
                    rang_ms: now - ringing_at.unwrap_or(dialled_at),
                    sip_status: ending.sip_status,
                },
                &c.settings.outcomes,
            )
        });
        let end = CallEnd {
            now,
            hung_up_by: hung_up_by(&ending),
            sip_status: ending.sip_status,
            cause: Some(ending.cause.clone()),
            proposed_outcome: proposed.clone(),
        };
        if let Err(error) = self.inner.store.call_ended(call, &end).await {
            tracing::error!(%error, call, "could not record the end of a call");
        }
        let Some(campaign) = campaign else {
            return;
        };
        let wrap = WrapUp::new(&campaign.settings.outcomes, &campaign.settings.survey);
        let mut speech = vec![Spoken::Prompt(ended_prompt(&ending))];
        if let Some(key) = proposed.as_deref().and_then(|p| wrap.menu().key_of(p)) {
            speech.extend([
                Spoken::Prompt("press"),
                barnstorm_domain::keypad::key_prompt(key),
            ]);
        }
        speech.extend(wrap.spoken());
        self.with_session(session_id, |_, line| {
            line.stage = Stage::WrapUp;
            line.last_call = Some(ending.cause.clone());
            line.proposed = proposed;
            line.message = format!(
                "The call with {} ended: {}. Record the outcome here or on your keypad.",
                first_name(line),
                ending.cause
            );
            line.wrap = Some(wrap);
        });
        self.say(session_id, speech);
    }

    async fn digit(&self, session_id: i64, digit: char) {
        let Some((stage, call)) = self.with_session(session_id, |_, line| {
            (line.stage, line.call.as_ref().map(|c| c.id))
        }) else {
            return;
        };
        match (stage, digit) {
            (Stage::Ready, '#') => {
                if let Err(error) = self.dial(session_id).await {
                    self.with_session(session_id, |_, line| line.message = error.to_string());
                    self.say(session_id, vec![Spoken::Prompt("call-failed")]);
                }
            }
            (Stage::Ready, '*') => self.skip(session_id).await,
            (Stage::Dialling | Stage::OnCall, '*') => {
                if let Some(call) = call {
                    self.inner.telephony.send(Command::HangUp {
                        call: CallKey(call),
                    });
                }
            }
            (Stage::WrapUp, digit) => self.wrap_up_key(session_id, digit).await,
            _ => {}
        }
    }

    async fn skip(&self, session_id: i64) {
        let Some((user, campaign_id, lease)) = self.with_session(session_id, |_, line| {
            (
                line.user.clone(),
                line.session.campaign_id,
                line.held.take().map(|h| h.lease_id),
            )
        }) else {
            return;
        };
        if let Some(lease) = lease
            && let Err(error) = self
                .inner
                .dispatcher
                .release(&user, lease, campaign_id, now_millis())
                .await
        {
            tracing::error!(%error, "could not release a skipped contact");
        }
        self.next_contact(session_id).await;
    }

    async fn wrap_up_key(&self, session_id: i64, digit: char) {
        let Some(pressed) = self
            .with_session(session_id, |_, line| {
                line.wrap.as_mut().map(|w| (w.press(digit), w.spoken()))
            })
            .flatten()
        else {
            return;
        };
        match pressed {
            (Pressed::NotOnMenu, menu) => {
                let mut speech = vec![Spoken::Prompt("not-valid")];
                speech.extend(menu);
                self.say(session_id, speech);
            }
            (Pressed::Next, next) => self.say(session_id, next),
            (Pressed::Done { outcome, answers }, _) => {
                self.record_from_keypad(session_id, &outcome, &answers)
                    .await
            }
        }
    }

    async fn record_from_keypad(
        &self,
        session_id: i64,
        outcome: &str,
        answers: &barnstorm_domain::survey::Answers,
    ) {
        let Some((user, campaign_id, lease)) = self.with_session(session_id, |_, line| {
            (
                line.user.clone(),
                line.session.campaign_id,
                line.held.as_ref().map(|h| h.lease_id),
            )
        }) else {
            return;
        };
        let (Some(campaign), Some(lease)) = (self.campaign(campaign_id).await, lease) else {
            return;
        };
        let now = now_millis();
        let callback_at = campaign
            .settings
            .outcomes
            .get(outcome)
            .is_some_and(|o| o.effect == OutcomeEffect::Callback)
            .then_some(now + KEYPAD_CALLBACK_AFTER_MS);
        let key = format!("keypad-{session_id}-{lease}");
        let recorded = self
            .inner
            .dispatcher
            .record_outcome(
                &user,
                &campaign,
                lease,
                &key,
                outcome,
                answers,
                "",
                callback_at,
                now,
            )
            .await;
        match recorded {
            Ok(_) => {
                self.say(session_id, vec![Spoken::Prompt("saved")]);
                self.next_contact(session_id).await;
            }
            Err(error) => {
                tracing::info!(%error, "a keypad outcome was refused");
                self.with_session(session_id, |_, line| {
                    line.message = format!(
                        "The keypad outcome was not saved: {error}. Record it on this page."
                    );
                });
                self.say(
                    session_id,
                    vec![
                        Spoken::Prompt("not-valid"),
                        Spoken::Words("Please record this call on the caller page.".into()),
                    ],
                );
            }
        }
    }

    async fn line_pin(&self, line: LineKey, pin: &str) {
        match self.admit(pin).await {
            Ok(Some(session)) => self.inner.telephony.send(Command::AdmitLine {
                line,
                session: SessionKey(session),
            }),
            Ok(None) => self.inner.telephony.send(Command::RefuseLine { line }),
            Err(error) => {
                tracing::error!(%error, "could not look up a dial-in PIN");
                self.inner.telephony.send(Command::RefuseLine { line });
            }
        }
    }

    /// The open dial-in session with `pin`, taken onto this node (where its audio now is).
    async fn admit(&self, pin: &str) -> Result<Option<i64>, StoreError> {
        let Some(session) = self.inner.store.open_phone_session_by_pin(pin).await? else {
            return Ok(None);
        };
        if session.join != JoinKind::DialIn || session.joined_at.is_some() {
            return Ok(None);
        }
        if self.with_session(session.id, |_, _| ()).is_some() {
            return Ok(Some(session.id));
        }
        let Some(user) = self.inner.store.user_by_id(session.caller_id).await? else {
            return Ok(None);
        };
        let id = session.id;
        self.lock_lines().insert(
            id,
            Line {
                session,
                user,
                stage: Stage::Waiting,
                held: None,
                call: None,
                wrap: None,
                last_call: None,
                proposed: None,
                message: String::new(),
            },
        );
        Ok(Some(id))
    }

    async fn caller_left(&self, session_id: i64, ending: Ending, now: Millis) {
        let line = self.lock_lines().remove(&session_id);
        if let Err(error) = self
            .inner
            .store
            .end_phone_session(session_id, &ending.cause, now)
            .await
        {
            tracing::error!(%error, session_id, "could not end a phone session");
        }
        let Some(line) = line else {
            return;
        };
        // A contact held but never rung goes back to the queue; one that was rung stays
        // leased so the caller can still record the outcome on the page.
        if line.stage == Stage::Ready
            && let Some(held) = line.held
            && let Err(error) = self
                .inner
                .dispatcher
                .release(&line.user, held.lease_id, line.session.campaign_id, now)
                .await
        {
            tracing::error!(%error, "could not release the contact of a caller who left");
        }
    }

    async fn renew_leases(&self) {
        let held: Vec<(User, i64, i64)> = self
            .lock_lines()
            .values()
            .filter_map(|line| {
                let lease = line.held.as_ref()?.lease_id;
                Some((line.user.clone(), line.session.campaign_id, lease))
            })
            .collect();
        for (user, campaign_id, lease) in held {
            let Some(campaign) = self.campaign(campaign_id).await else {
                continue;
            };
            if let Err(error) = self
                .inner
                .dispatcher
                .heartbeat(&user, lease, &campaign, now_millis())
                .await
            {
                tracing::warn!(%error, lease, "could not renew the lease of a caller on the line");
            }
        }
    }
}

fn first_name(line: &Line) -> String {
    line.held
        .as_ref()
        .map_or_else(|| "the contact".to_string(), |h| h.first_name.clone())
}

fn hung_up_by(ending: &Ending) -> HungUpBy {
    match ending.by {
        EndedBy::Remote => HungUpBy::Contact,
        EndedBy::Local => HungUpBy::Caller,
        EndedBy::GaveUp => HungUpBy::Barnstorm,
        EndedBy::Network => HungUpBy::Network,
    }
}

fn ended_prompt(ending: &Ending) -> &'static str {
    match ending.sip_status {
        Some(486 | 600) => "busy",
        Some(404 | 410 | 484 | 604) => "wrong-number",
        _ if ending.by == EndedBy::GaveUp => "no-answer",
        _ if ending.answered => "contact-hung-up",
        _ => "call-failed",
    }
}
