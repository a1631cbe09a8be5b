//! An answered leg, caller's or contact's, from answer to hang-up: keypad digits (RFC 4733
//! from the relay, SIP INFO from the dialog), re-INVITEs and session refreshes answered
//! with the same audio, a BYE from either side, and a watchdog that drops a call whose
//! audio stopped arriving (a trunk that vanished mid-call sends no BYE).

use super::sdp::{self, RemoteAudio};
use super::{Shared, endings};
use crate::media::{Codec, Leg, LegConfig};
use crate::{CallKey, Ending, Event, SessionKey};
use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver};
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, StatusCode};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// An answered contact call with no audio for this long is dropped (the trunk lost it).
pub(crate) const NO_AUDIO_LIMIT: Duration = Duration::from_secs(30);
/// A caller's own line may be quiet for longer (a phone that suppresses silence while they
/// wait between calls), but not for ever.
pub(crate) const CALLER_NO_AUDIO_LIMIT: Duration = Duration::from_secs(300);

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

/// Everything a leg reads while it is up.
pub(crate) struct LegInputs {
    pub states: DialogStateReceiver,
    pub digits: Option<mpsc::UnboundedReceiver<char>>,
    pub control: mpsc::UnboundedReceiver<Control>,
}

/// One thing that happened on an answered leg.
pub(crate) enum Happened {
    Digit(char),
    Ended(Ending),
}

impl LegInputs {
    /// Waits for the next digit or the end of the leg, answering re-INVITEs, refreshes and
    /// OPTIONS meanwhile; with `silence_limit`, ends a leg whose audio stopped that long.
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
            tokio::select! {
                state = self.states.recv() => match state {
                    Some(DialogState::Info(_, request, handle)) => {
                        let _ = handle.reply(StatusCode::OK).await;
                        if let Some(digit) = info_digit(&request) {
                            return Happened::Digit(digit);
                        }
                    }
                    Some(DialogState::Updated(_, request, handle)) => {
                        if request.body.is_empty() {
                            let _ = handle.reply(StatusCode::OK).await;
                            continue;
                        }
                        match sdp::parse(&request.body) {
                            Ok(remote) => {
                                media.start(leg_config(remote));
                                let answer = sdp::describe(shared.config.advertised_ip(), media.port(), rand::random(), Some(chosen));
                                let _ = handle.respond(StatusCode::OK, Some(sdp_headers()), Some(answer.into_bytes())).await;
                            }
                            Err(_) => {
                                let _ = handle.reply(StatusCode::NotAcceptableHere).await;
                            }
                        }
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
