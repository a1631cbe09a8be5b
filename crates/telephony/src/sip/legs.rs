//! An answered leg, caller's or contact's, from answer to hang-up: keypad digits (RFC 4733
//! from the relay, SIP INFO from the dialog), re-INVITEs and UPDATEs answered with the
//! same audio, session timers kept (refreshing when Barnstorm is the refresher, ending a
//! call whose refresher went quiet), a BYE from either side, and a watchdog that drops a
//! call whose audio stopped arriving (a trunk that vanished mid-call sends no BYE).

use super::sdp::{self, Origin, RemoteAudio};
use super::session_timer::{Due, SessionTimer};
use super::{Shared, endings};
use crate::media::{Codec, Leg, LegConfig};
use crate::{CallKey, Ending, Event, SessionKey};
use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver};
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, StatusCode, StatusCodeKind};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// An answered contact call with no audio for this long is dropped (the trunk lost it).
pub(crate) const NO_AUDIO_LIMIT: Duration = Duration::from_secs(30);
/// A caller's own line may be quiet for longer (a phone that suppresses silence while they
/// wait between calls), but not for ever.
pub(crate) const CALLER_NO_AUDIO_LIMIT: Duration = Duration::from_secs(300);

/// How long a refresh may wait for its answer before it counts as failed.
const REFRESH_WAIT: Duration = Duration::from_secs(8);

/// What the engine can ask of a running leg.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Control {
    /// End it (CANCEL before an answer, BYE after).
    Hangup,
}

/// A caller's leg, registered under their session while it is up.
pub(crate) struct CallerLine {
    pub media: Arc<Leg>,
    pub control: mpsc::UnboundedSender<Control>,
    /// Counts `Say` commands, so a slow synthesis does not talk over a newer one.
    pub said: AtomicU64,
}

impl CallerLine {
    pub(crate) fn new(media: Arc<Leg>, control: mpsc::UnboundedSender<Control>) -> Self {
        Self {
            media,
            control,
            said: AtomicU64::new(0),
        }
    }
}

/// Whose leg it is.
pub(crate) enum Role {
    /// The caller's own phone.
    Caller(SessionKey),
    /// A contact, bridged into a caller's leg.
    Contact {
        call: CallKey,
        session: SessionKey,
        caller: Arc<Leg>,
    },
}

/// The relay settings for what the other side's description says.
pub(crate) fn leg_config(remote: RemoteAudio) -> LegConfig {
    LegConfig {
        remote: remote.address,
        codec: if remote.payload_type == sdp::PCMA {
            Codec::Pcma
        } else {
            Codec::Pcmu
        },
        dtmf_payload_type: remote.telephone_event,
    }
}

/// The content type header of an SDP body.
pub(crate) fn sdp_headers() -> Vec<Header> {
    vec![Header::ContentType("application/sdp".into())]
}

/// A keypad digit carried by a SIP INFO request, if it carries one.
fn info_digit(request: &rsipstack::sip::Request) -> Option<char> {
    let content_type = request.headers.iter().find_map(|header| match header {
        Header::ContentType(value) => Some(value.to_string()),
        _ => None,
    })?;
    let body = std::str::from_utf8(&request.body).ok()?;
    crate::media::digit_from_sip_info(&content_type, body)
}

/// Everything a leg reads while it is up, and what it keeps of its own signalling.
pub(crate) struct LegInputs {
    pub states: DialogStateReceiver,
    pub digits: Option<mpsc::UnboundedReceiver<char>>,
    pub control: mpsc::UnboundedReceiver<Control>,
    /// Barnstorm's side of the leg's SDP.
    pub origin: Origin,
    /// The session timer the call settled on, if any.
    pub timer: Option<SessionTimer>,
}

/// One thing that happened on an answered leg.
pub(crate) enum Happened {
    Digit(char),
    Ended(Ending),
}

impl LegInputs {
    pub(crate) fn new(
        states: DialogStateReceiver,
        digits: Option<mpsc::UnboundedReceiver<char>>,
        control: mpsc::UnboundedReceiver<Control>,
    ) -> Self {
        Self {
            states,
            digits,
            control,
            origin: Origin::new(rand::random()),
            timer: None,
        }
    }

    /// Waits for the next digit or the end of the leg, answering re-INVITEs, UPDATEs and
    /// OPTIONS and keeping the session timer meanwhile; with `silence_limit`, ends a leg
    /// whose audio stopped that long.
    pub(crate) async fn next(
        &mut self,
        dialog: &InviteDialog,
        media: &Leg,
        chosen: RemoteAudio,
        shared: &Shared,
        answered: bool,
        silence_limit: Option<Duration>,
    ) -> Happened {
        let mut watchdog = tokio::time::interval(Duration::from_secs(1));
        let since = Instant::now();
        loop {
            let due = self.timer.map(|timer| timer.next());
            let timer_deadline = due.map_or_else(tokio::time::Instant::now, |(at, _)| at);
            tokio::select! {
                state = self.states.recv() => match state {
                    Some(DialogState::Info(_, request, handle)) => {
                        let _ = handle.reply(StatusCode::OK).await;
                        if let Some(digit) = info_digit(&request) {
                            return Happened::Digit(digit);
                        }
                    }
                    Some(DialogState::Updated(_, request, handle)) => {
                        self.answer_update(&request, handle, media, chosen, shared).await;
                    }
                    Some(DialogState::Options(_, _, handle)) => {
                        let _ = handle.reply(StatusCode::OK).await;
                    }
                    Some(DialogState::Terminated(_, reason)) => {
                        return Happened::Ended(endings::terminated(&reason, answered));
                    }
                    Some(_) => {}
                    None => return Happened::Ended(endings::audio_stopped(0)),
                },
                Some(digit) = next_digit(&mut self.digits) => return Happened::Digit(digit),
                Some(Control::Hangup) = self.control.recv() => {
                    if let Err(error) = dialog.hangup().await {
                        tracing::debug!(%error, "hang-up failed; the leg is dropped anyway");
                    }
                    return Happened::Ended(endings::hung_up_here(answered));
                }
                () = tokio::time::sleep_until(timer_deadline), if due.is_some() => {
                    let ended = match due.map(|(_, due)| due) {
                        Some(Due::Refresh) => self.refresh(dialog, media, chosen, shared).await,
                        _ => Some(endings::session_expired(false)),
                    };
                    if let Some(ending) = ended {
                        let _ = dialog.hangup().await;
                        return Happened::Ended(ending);
                    }
                }
                _ = watchdog.tick(), if silence_limit.is_some() => {
                    let limit = silence_limit.unwrap_or(NO_AUDIO_LIMIT);
                    if silent_for(media, since) >= limit {
                        let _ = dialog.hangup().await;
                        return Happened::Ended(endings::audio_stopped(limit.as_secs()));
                    }
                }
            }
        }
    }

    /// Answers a re-INVITE or UPDATE from the far end: new audio if it sends a description,
    /// and the session timer it asks for (none if it asks for none, RFC 4028 §9).
    async fn answer_update(
        &mut self,
        request: &rsipstack::sip::Request,
        handle: rsipstack::dialog::dialog::TransactionHandle,
        media: &Leg,
        chosen: RemoteAudio,
        shared: &Shared,
    ) {
        let mut headers = Vec::new();
        self.timer = SessionTimer::from_request(&request.headers.0).map(|(timer, answer)| {
            headers = answer;
            timer
        });
        if request.body.is_empty() {
            let _ = handle.respond(StatusCode::OK, Some(headers), None).await;
            return;
        }
        match sdp::parse(&request.body) {
            Ok(remote) => {
                media.start(leg_config(remote));
                let answer =
                    self.origin
                        .describe(shared.config.advertised_ip(), media.port(), Some(chosen));
                headers.extend(sdp_headers());
                let _ = handle
                    .respond(StatusCode::OK, Some(headers), Some(answer.into_bytes()))
                    .await;
            }
            Err(_) => {
                let _ = handle.reply(StatusCode::NotAcceptableHere).await;
            }
        }
    }

    /// Refreshes the session with a re-INVITE carrying the same audio; the ending when
    /// the far end no longer knows the call (481, 408 or no answer at all).
    async fn refresh(
        &mut self,
        dialog: &InviteDialog,
        media: &Leg,
        chosen: RemoteAudio,
        shared: &Shared,
    ) -> Option<Ending> {
        let timer = self.timer?;
        let mut headers = timer.refresh_headers();
        headers.extend(sdp_headers());
        let offer = self
            .origin
            .describe(shared.config.advertised_ip(), media.port(), Some(chosen));
        // The leg reads nothing else while it waits, so a far end that never answers the
        // refresh is given up on long before SIP's own 32 s, and never past the expiry.
        let left = timer
            .expires_at
            .saturating_duration_since(tokio::time::Instant::now());
        let response = tokio::time::timeout(
            REFRESH_WAIT.min(left),
            dialog.reinvite(Some(headers), Some(offer.into_bytes())),
        )
        .await
        .unwrap_or(Ok(None));
        match response {
            Ok(Some(response)) if response.status_code.kind() == StatusCodeKind::Successful => {
                if let Ok(remote) = sdp::parse(&response.body) {
                    media.start(leg_config(remote));
                }
                self.timer = SessionTimer::from_answer(&response.headers.0);
                None
            }
            Ok(Some(response)) if matches!(response.status_code.code(), 408 | 481) => {
                Some(endings::refresh_refused(response.status_code.code()))
            }
            Ok(Some(response)) => {
                tracing::info!(
                    status = response.status_code.code(),
                    "a session refresh was refused; trying again"
                );
                self.retry_refresh()
            }
            Ok(None) | Err(_) => self.retry_refresh(),
        }
    }

    fn retry_refresh(&mut self) -> Option<Ending> {
        match self.timer.as_mut().and_then(SessionTimer::retry) {
            Some(()) => None,
            None => Some(endings::session_expired(true)),
        }
    }
}

async fn next_digit(digits: &mut Option<mpsc::UnboundedReceiver<char>>) -> Option<char> {
    match digits {
        Some(digits) => digits.recv().await,
        None => std::future::pending().await,
    }
}

/// How long since audio last arrived on `media` (or since `since`, if it never has).
fn silent_for(media: &Leg, since: Instant) -> Duration {
    media
        .stats()
        .last_received_at
        .unwrap_or(since)
        .max(since)
        .elapsed()
}

/// Runs an answered leg until it ends, reporting a caller's digits.
pub(crate) async fn until_ended(
    shared: &Shared,
    dialog: &InviteDialog,
    media: &Leg,
    chosen: RemoteAudio,
    role: &Role,
    inputs: &mut LegInputs,
) -> Ending {
    let limit = match role {
        Role::Caller(_) => CALLER_NO_AUDIO_LIMIT,
        Role::Contact { .. } => NO_AUDIO_LIMIT,
    };
    loop {
        match inputs
            .next(dialog, media, chosen, shared, true, Some(limit))
            .await
        {
            Happened::Digit(digit) => {
                if let Role::Caller(session) = role {
                    shared.emit(Event::Digit(*session, digit));
                }
            }
            Happened::Ended(ending) => return ending,
        }
    }
}
