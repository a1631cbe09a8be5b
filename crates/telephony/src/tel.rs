//! The `tel:` adapter, used when no trunk is configured: calls are placed by the caller's
//! own phone from a `tel:` link, so Barnstorm carries no audio and sees no call events.

use crate::{Capabilities, Command, Event, Telephony};
use std::sync::Mutex;
use tokio::sync::mpsc;

/// No bridged calling: every command is refused by the engine before it gets here, and
/// one that arrives anyway is logged and dropped.
pub struct TelLinks {
    events: Mutex<Option<mpsc::UnboundedReceiver<Event>>>,
    _sender: mpsc::UnboundedSender<Event>,
}

impl TelLinks {
    /// The adapter.
    pub fn new() -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        Self {
            events: Mutex::new(Some(receiver)),
            _sender: sender,
        }
    }
}

impl Default for TelLinks {
    fn default() -> Self {
        Self::new()
    }
}

impl Telephony for TelLinks {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            bridged: false,
            dial_in: false,
        }
    }

    fn send(&self, command: Command) {
        tracing::warn!(
            command = command_name(&command),
            "no SIP trunk is configured; bridged calling commands are ignored"
        );
    }

    fn take_events(&self) -> Option<mpsc::UnboundedReceiver<Event>> {
        self.events.lock().ok()?.take()
    }
}

/// A command's name for logs (never its numbers).
pub(crate) fn command_name(command: &Command) -> &'static str {
    match command {
        Command::RingCaller { .. } => "ring_caller",
        Command::AdmitLine { .. } => "admit_line",
        Command::RefuseLine { .. } => "refuse_line",
        Command::Dial { .. } => "dial",
        Command::HangUp { .. } => "hang_up",
        Command::Say { .. } => "say",
        Command::EndSession { .. } => "end_session",
    }
}
