//! Callers dialling in: the node answers, asks for the PIN the caller page shows, and hands
//! it to the engine, which admits the line into that session or refuses it (three tries,
//! then goodbye). An admitted line is the caller's leg for the rest of the session.

use super::Shared;
use super::legs::{self, CallerLine, Happened, LegInputs, Role};
use super::sdp;
use super::session_timer::SessionTimer;
use super::speech::resolve;
use crate::{Event, LineKey, SessionKey, Speech};
use rsipstack::dialog::dialog::DialogState;
use rsipstack::sip::StatusCode;
use rsipstack::transaction::transaction::Transaction;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// What the engine decided about a PIN.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LineControl {
    /// The PIN belongs to this session.
    Admit(SessionKey),
    /// It belongs to none.
    Refuse,
}

/// Tries at the PIN before the line is hung up.
const PIN_TRIES: usize = 3;
/// The longest PIN read; a `#` ends one sooner.
const PIN_MAX_DIGITS: usize = 10;
/// A caller who presses nothing for this long is asked again.
const DIGIT_WAIT: Duration = Duration::from_secs(15);

/// Answers an INVITE to the dial-in number and runs the line.
pub(crate) async fn answer(shared: Arc<Shared>, mut tx: Transaction) {
    let offer = match sdp::parse(&tx.original.body) {
        Ok(offer) => offer,
        Err(error) => {
            tracing::info!(%error, "refused a dial-in call");
            let _ = tx.reply(StatusCode::NotAcceptableHere).await;
            return;
        }
    };
    let media = match shared.media.open_leg().await {
        Ok(leg) => Arc::new(leg),
        Err(error) => {
            tracing::error!(%error, "no audio port for a dial-in call");
            let _ = tx.reply(StatusCode::ServiceUnavailable).await;
            return;
        }
    };
    let (state_sender, states) = shared.dialogs.new_dialog_state_channel();
    let dialog = match shared.dialogs.get_or_create_server_invite(
        &tx,
        state_sender,
        None,
        Some(shared.contact()),
    ) {
        Ok(dialog) => dialog,
        Err(error) => {
            tracing::error!(%error, "could not start a dial-in dialog");
            let _ = tx.reply(StatusCode::ServerInternalError).await;
            return;
        }
    };
    let requested_timer = SessionTimer::from_request(&tx.original.headers.0);
    let mut handling = dialog.clone();
    tokio::spawn(async move {
        if let Err(error) = handling.handle(&mut tx).await {
            tracing::debug!(%error, "dial-in INVITE transaction ended");
        }
    });
    let (control_sender, control) = mpsc::unbounded_channel();
    let mut inputs = LegInputs::new(states, media.take_digits(), control);
    let answer = inputs
        .origin
        .describe(shared.config.advertised_ip(), media.port(), Some(offer));
    let mut headers = legs::sdp_headers();
    if let Some((timer, timer_headers)) = requested_timer {
        inputs.timer = Some(timer);
        headers.extend(timer_headers);
    }
    if let Err(error) = dialog.accept(Some(headers), Some(answer.into_bytes())) {
        tracing::error!(%error, "could not answer a dial-in call");
        return;
    }
    media.start(legs::leg_config(offer));
    let line = shared.next_line();
    let (line_sender, mut decisions) = mpsc::unbounded_channel();
    if let Ok(mut lines) = shared.lines.lock() {
        lines.insert(line, line_sender);
    }
    let admitted = ask_for_pin(
        &shared,
        &dialog,
        &media,
        offer,
        &mut inputs,
        line,
        &mut decisions,
    )
    .await;
    if let Ok(mut lines) = shared.lines.lock() {
        lines.remove(&line);
    }
    let Some(session) = admitted else {
        shared.dialogs.remove_dialog(&dialog.id());
        return;
    };
    if let Ok(mut sessions) = shared.sessions.lock() {
        sessions.insert(session, CallerLine::new(media.clone(), control_sender));
    }
    shared.emit(Event::CallerJoined(session));
    let ending = legs::until_ended(
        &shared,
        &dialog,
        &media,
        offer,
        &Role::Caller(session),
        &mut inputs,
    )
    .await;
    shared.dialogs.remove_dialog(&dialog.id());
    drop(media);
    shared.caller_left(session, ending);
}

/// Asks for the PIN until the engine admits it, the caller hangs up or the tries run out.
async fn ask_for_pin(
    shared: &Shared,
    dialog: &rsipstack::dialog::invite_dialog::InviteDialog,
    media: &crate::media::Leg,
    offer: sdp::RemoteAudio,
    inputs: &mut LegInputs,
    line: LineKey,
    decisions: &mut mpsc::UnboundedReceiver<LineControl>,
) -> Option<SessionKey> {
    wait_for_ack(inputs).await?;
    let mut speech = vec![Speech::Prompt("welcome"), Speech::Prompt("enter-pin")];
    for _ in 0..PIN_TRIES {
        let playing = media.play(resolve(&shared.prompts, std::mem::take(&mut speech)).await);
        let mut pin = String::new();
        loop {
            let next = tokio::time::timeout(
                DIGIT_WAIT,
                inputs.next(dialog, media, offer, shared, false, None),
            )
            .await;
            match next {
                Ok(Happened::Digit('#')) if !pin.is_empty() => break,
                Ok(Happened::Digit(digit)) if digit.is_ascii_digit() => {
                    playing.stop();
                    pin.push(digit);
                    if pin.len() >= PIN_MAX_DIGITS {
                        break;
                    }
                }
                Ok(Happened::Digit(_)) => {}
                Ok(Happened::Ended(_)) => return None,
                Err(_) => break,
            }
        }
        if pin.is_empty() {
            speech = vec![Speech::Prompt("enter-pin")];
            continue;
        }
        shared.emit(Event::LinePin(line, pin));
        match decisions.recv().await? {
            LineControl::Admit(session) => return Some(session),
            LineControl::Refuse => {
                speech = vec![Speech::Prompt("pin-wrong"), Speech::Prompt("enter-pin")]
            }
        }
    }
    let goodbye = media.play(resolve(&shared.prompts, vec![Speech::Prompt("goodbye")]).await);
    goodbye.finished().await;
    let _ = dialog.hangup().await;
    None
}

/// Waits for the caller's ACK (the line is up); `None` if they hung up first.
async fn wait_for_ack(inputs: &mut LegInputs) -> Option<()> {
    loop {
        match inputs.states.recv().await? {
            DialogState::Confirmed(..) => return Some(()),
            DialogState::Terminated(..) => return None,
            _ => {}
        }
    }
}
