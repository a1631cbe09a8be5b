//! Telephony for bridged calling: the port the calling engine drives (start and end a
//! caller's audio session, dial a contact into it, hang up, play prompts, and a stream of
//! call events) and its adapters: `tel:` links (no audio through Barnstorm) and a SIP trunk
//! with its own RTP relay. It knows no HTTP and no database; numbers and digits come in as
//! values and leave only towards the phone network.

pub mod media;
pub mod sip;
pub mod tel;

use std::time::Duration;
use tokio::sync::mpsc;

/// The engine's name for a caller's audio session (its phone session id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionKey(pub i64);

/// The engine's name for one dialled call to a contact (its call record id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallKey(pub i64);

/// An inbound call that has not yet become a session (a caller dialling in, before the PIN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LineKey(pub u64);

/// What an adapter can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Calls go through Barnstorm, so neither side sees the other's number.
    pub bridged: bool,
    /// Callers can join by dialling the campaign's inbound number.
    pub dial_in: bool,
}

/// One part of something said to a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Speech {
    /// A prompt by name (`welcome`, `digit-1`, …): the operator's recording or the built-in one.
    Prompt(&'static str),
    /// Words spoken by the synthesiser when one is installed, left out otherwise.
    Say(String),
}

/// An instruction from the engine; its results arrive later as [`Event`]s.
#[derive(Debug, Clone)]
pub enum Command {
    /// "Call me": ring the caller's own phone and keep that leg up for the session.
    RingCaller {
        /// The session the leg belongs to.
        session: SessionKey,
        /// The caller's number, E.164. It goes only to the trunk.
        number: String,
        /// The number the caller sees ringing, E.164.
        caller_id: String,
    },
    /// A caller who dialled in gave the PIN of this session: the line becomes the session.
    AdmitLine {
        /// The inbound line.
        line: LineKey,
        /// The session whose PIN it was.
        session: SessionKey,
    },
    /// The PIN matched no session: say so and ask again, or hang up after too many tries.
    RefuseLine {
        /// The inbound line.
        line: LineKey,
    },
    /// Ring a contact and bridge them into the session when they answer.
    Dial {
        /// The caller's session.
        session: SessionKey,
        /// The call record.
        call: CallKey,
        /// The contact's number, E.164. It goes only to the trunk.
        number: String,
        /// The campaign's number the contact sees, E.164.
        caller_id: String,
        /// Give up (CANCEL) after ringing this long.
        ring_timeout: Duration,
    },
    /// End the contact's leg; the caller stays on the line.
    HangUp {
        /// The call to end.
        call: CallKey,
    },
    /// Say something to the caller (replaces what is being said).
    Say {
        /// The caller's session.
        session: SessionKey,
        /// What to say, in order.
        speech: Vec<Speech>,
    },
    /// End the caller's leg (and any call in it).
    EndSession {
        /// The session to end.
        session: SessionKey,
    },
}

/// Who ended a call or leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    /// The other party: the contact (or caller) hung up, or the network refused the call.
    Remote,
    /// Barnstorm, asked to: the caller hung up the contact, or the session ended.
    Local,
    /// Barnstorm gave up ringing at the ring timeout.
    GaveUp,
    /// The network failed: the trunk did not answer, or audio stopped arriving.
    Network,
}

/// How a call or leg ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    /// Who ended it.
    pub by: EndedBy,
    /// The SIP final status, when there was one (486 busy, 404 not found, 200 after talking).
    pub sip_status: Option<u16>,
    /// Whether the far end answered.
    pub answered: bool,
    /// One line for people: "busy (486)", "no answer after 25 s", "trunk unreachable".
    pub cause: String,
}

/// Something that happened on the line.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The caller's phone is ringing ("call me").
    CallerRinging(SessionKey),
    /// The caller is on the line: answered "call me", or dialled in with a good PIN.
    CallerJoined(SessionKey),
    /// The caller's leg ended; any contact call in it has ended too.
    CallerLeft(SessionKey, Ending),
    /// A caller dialled in and entered a PIN.
    LinePin(LineKey, String),
    /// The caller pressed a key (RFC 4733 or SIP INFO).
    Digit(SessionKey, char),
    /// What was being said to the caller has finished.
    SaidAll(SessionKey),
    /// The contact's phone is ringing.
    Ringing(CallKey),
    /// The contact answered and is bridged to the caller.
    Answered(CallKey),
    /// The contact's call ended (or never connected).
    Ended(CallKey, Ending),
}

/// The port: the engine sends [`Command`]s and reads [`Event`]s.
pub trait Telephony: Send + Sync {
    /// What this adapter can do.
    fn capabilities(&self) -> Capabilities;
    /// Queues a command; never blocks.
    fn send(&self, command: Command);
    /// The event stream; only the first call gets it.
    fn take_events(&self) -> Option<mpsc::UnboundedReceiver<Event>>;
    /// The node's audio relay totals, when the adapter carries audio.
    fn media_stats(&self) -> Option<media::MediaStats> {
        None
    }
}
