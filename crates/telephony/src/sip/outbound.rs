//! Calls Barnstorm places through the trunk: the caller's own phone ("call me") and each
//! contact. Provisional responses report ringing (and a 183 with SDP brings the network's
//! early media to the caller), the call is cancelled when the ring timeout passes, and
//! once answered a contact is bridged into the caller's leg until either side hangs up.

use super::legs::{self, CallerLine, Control, LegInputs, Role};
use super::sdp::{self, RemoteAudio};
use super::session_timer::{self, SessionTimer};
use super::{Shared, endings};
use crate::media::Leg;
use crate::{CallKey, EndedBy, Ending, Event, SessionKey};
use rsipstack::dialog::dialog::DialogState;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, StatusCodeKind};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long a caller's own phone rings before Barnstorm gives up.
const CALLER_RING_TIMEOUT: Duration = Duration::from_secs(45);
/// A trunk that has said nothing at all (not even 100 Trying) after this long is taken to
/// be unreachable, without waiting out the 32 s of SIP's transaction timer.
const TRUNK_SILENCE: Duration = Duration::from_secs(8);

/// Rings the caller's own phone for their session.
pub(crate) fn ring_caller(
    shared: Arc<Shared>,
    session: SessionKey,
    number: String,
    caller_id: String,
) {
    tokio::spawn(async move {
        run(
            shared,
            Role::Caller(session),
            number,
            caller_id,
            CALLER_RING_TIMEOUT,
        )
        .await;
    });
}

/// Rings a contact and bridges them into the session's leg when they answer.
pub(crate) fn dial(
    shared: Arc<Shared>,
    session: SessionKey,
    call: CallKey,
    number: String,
    caller_id: String,
    ring_timeout: Duration,
) {
    let Some(caller) = shared.session_leg(session) else {
        shared.emit(Event::Ended(
            call,
            Ending {
                by: EndedBy::Local,
                sip_status: None,
                answered: false,
                cause: "the caller is not on the line".to_string(),
            },
        ));
        return;
    };
    tokio::spawn(async move {
        run(
            shared,
            Role::Contact {
                call,
                session,
                caller,
            },
            number,
            caller_id,
            ring_timeout,
        )
        .await;
    });
}

fn register(
    shared: &Shared,
    role: &Role,
    media: &Arc<Leg>,
    control: mpsc::UnboundedSender<Control>,
) {
    match role {
        Role::Caller(session) => {
            if let Ok(mut sessions) = shared.sessions.lock() {
                sessions.insert(*session, CallerLine::new(media.clone(), control));
            }
        }
        Role::Contact { call, session, .. } => {
            if let Ok(mut calls) = shared.calls.lock() {
                calls.insert(*call, (*session, control));
            }
        }
    }
}

fn finish(shared: &Shared, role: Role, ending: Ending) {
    match role {
        Role::Caller(session) => shared.caller_left(session, ending),
        Role::Contact { call, caller, .. } => {
            caller.unbridge();
            // This call's hold on the caller's leg goes before anyone hears it ended.
            drop(caller);
            if let Ok(mut calls) = shared.calls.lock() {
                calls.remove(&call);
            }
            shared.emit(Event::Ended(call, ending));
        }
    }
}

async fn run(
    shared: Arc<Shared>,
    role: Role,
    number: String,
    caller_id: String,
    ring_timeout: Duration,
) {
    let media = match shared.media.open_leg().await {
        Ok(leg) => Arc::new(leg),
        Err(error) => {
            let ending = Ending {
                by: EndedBy::Local,
                sip_status: None,
                answered: false,
                cause: format!("no audio port is free on this node: {error}"),
            };
            finish(&shared, role, ending);
            return;
        }
    };
    let (control_sender, control) = mpsc::unbounded_channel();
    register(&shared, &role, &media, control_sender);
    let (state_sender, states) = shared.dialogs.new_dialog_state_channel();
    let caller_uri = shared.trunk_uri(&caller_id);
    let mut inputs = LegInputs::new(states, media.take_digits(), control);
    let offer = inputs
        .origin
        .describe(shared.config.advertised_ip(), media.port(), None);
    let mut headers = vec![Header::Other(
        "P-Asserted-Identity".to_string(),
        format!("<{caller_uri}>"),
    )];
    headers.extend(session_timer::offer());
    let option = InviteOption {
        caller: caller_uri.clone(),
        callee: shared.trunk_uri(&number),
        destination: Some(shared.destination()),
        content_type: Some("application/sdp".to_string()),
        offer: Some(offer.into_bytes()),
        contact: shared.contact(),
        credential: shared.credential(),
        headers: Some(headers),
        ..Default::default()
    };
    let (dialog, invite) = match shared.dialogs.do_invite_async(option, state_sender) {
        Ok(started) => started,
        Err(error) => {
            finish(&shared, role, endings::unreachable(&error.to_string()));
            return;
        }
    };
    let started = Instant::now();
    let ending = match until_answered(
        &shared,
        &dialog,
        &media,
        &role,
        &mut inputs,
        invite,
        ring_timeout,
    )
    .await
    {
        Ok(chosen) => {
            tracing::info!(
                answered_after_ms = started.elapsed().as_millis(),
                "call answered"
            );
            legs::until_ended(&shared, &dialog, &media, chosen, &role, &mut inputs).await
        }
        Err(ending) => ending,
    };
    shared.dialogs.remove_dialog(&dialog.id());
    // The leg's port is free before anyone hears that the call ended.
    drop(media);
    finish(&shared, role, ending);
}

/// Waits for the answer, reporting ringing; the ending when there is none.
async fn until_answered(
    shared: &Shared,
    dialog: &InviteDialog,
    media: &Leg,
    role: &Role,
    inputs: &mut LegInputs,
    mut invite: rsipstack::platform::JoinHandle<rsipstack::dialog::invitation::InviteAsyncResult>,
    ring_timeout: Duration,
) -> Result<RemoteAudio, Ending> {
    let ring_deadline = tokio::time::sleep(ring_timeout);
    tokio::pin!(ring_deadline);
    let silence_deadline = tokio::time::sleep(TRUNK_SILENCE);
    tokio::pin!(silence_deadline);
    let mut heard = false;
    let mut rang = false;
    let mut invite_done = false;
    loop {
        tokio::select! {
            state = inputs.states.recv() => match state {
                Some(DialogState::Trying(_)) => heard = true,
                Some(DialogState::Early(_, response)) => {
                    heard = true;
                    if !rang {
                        rang = true;
                        // The ring timeout counts from when the phone starts ringing.
                        ring_deadline.as_mut().reset(tokio::time::Instant::now() + ring_timeout);
                        shared.emit(match role {
                            Role::Caller(session) => Event::CallerRinging(*session),
                            Role::Contact { call, .. } => Event::Ringing(*call),
                        });
                    }
                    if !response.body.is_empty()
                        && let Ok(remote) = sdp::parse(&response.body)
                    {
                        media.start(legs::leg_config(remote));
                        if let Role::Contact { caller, .. } = role {
                            caller.bridge(media);
                        }
                    }
                }
                Some(DialogState::Confirmed(_, response)) => {
                    inputs.timer = SessionTimer::from_answer(&response.headers.0);
                    return answered(shared, dialog, media, role, &response.body).await;
                }
                Some(DialogState::Terminated(_, reason)) => {
                    return Err(endings::terminated(&reason, false));
                }
                Some(_) => {}
                None => return Err(endings::unreachable("the call's dialog closed")),
            },
            result = &mut invite, if !invite_done => {
                invite_done = true;
                match result {
                    Ok(Ok((_, Some(response)))) if response.status_code.kind() != StatusCodeKind::Successful => {
                        return Err(endings::refused(response.status_code.code()));
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => return Err(endings::unreachable(&error.to_string())),
                    Err(error) => return Err(endings::unreachable(&error.to_string())),
                }
            }
            () = &mut silence_deadline, if !heard => {
                return Err(endings::unreachable(&format!(
                    "no reply at all within {} s",
                    TRUNK_SILENCE.as_secs()
                )));
            }
            () = &mut ring_deadline => {
                if let Err(error) = dialog.cancel().await {
                    tracing::debug!(%error, "CANCEL failed");
                }
                return Err(endings::no_answer(ring_timeout));
            }
            Some(Control::Hangup) = inputs.control.recv() => {
                let _ = dialog.cancel().await;
                return Err(endings::hung_up_here(false));
            }
        }
    }
}

/// The call was answered: start the audio, bridge a contact, report it.
async fn answered(
    shared: &Shared,
    dialog: &InviteDialog,
    media: &Leg,
    role: &Role,
    body: &[u8],
) -> Result<RemoteAudio, Ending> {
    let remote = match sdp::parse(body) {
        Ok(remote) => remote,
        Err(error) => {
            let _ = dialog.hangup().await;
            return Err(Ending {
                by: EndedBy::Network,
                sip_status: Some(488),
                answered: true,
                cause: format!("the answer's audio cannot be used: {error}"),
            });
        }
    };
    media.start(legs::leg_config(remote));
    match role {
        Role::Caller(session) => shared.emit(Event::CallerJoined(*session)),
        Role::Contact { call, caller, .. } => {
            caller.bridge(media);
            shared.emit(Event::Answered(*call));
        }
    }
    Ok(remote)
}
