//! The audio path of a bridged call: RTP legs on the node's own UDP ports, relayed between
//! a caller and a contact, with keypad digits read off the stream and prompts played into it.
//! It speaks RTP only: SDP, SIP and the calling engine decide which legs exist and when
//! they are bridged, and tell this module through `Media` and `Leg`.

mod arrival;
mod audio;
mod dtmf;
mod g711;
mod leg;
mod outgoing;
mod playback;
mod ports;
mod prompts;
pub mod rtp;
mod speech;
mod stamped;

use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use thiserror::Error;

pub use audio::{Audio, SAMPLE_RATE};
pub use dtmf::{DigitDetector, TelephoneEvent, digit_from_event, digit_from_sip_info};
pub use g711::{
    ALAW_TO_ULAW, Codec, ULAW_TO_ALAW, alaw_to_linear, linear_to_alaw, linear_to_ulaw,
    ulaw_to_linear,
};
pub use leg::{Leg, LegConfig, LegStats};
pub use playback::{Playback, PlaybackEnd};
pub use prompts::Prompts;
pub use speech::speak;

use ports::PortTable;

/// What can go wrong in the media module.
#[derive(Debug, Error)]
pub enum MediaError {
    /// The configured RTP port range holds no even port RTP could use.
    #[error("the RTP port range {first}-{last} holds no even port above 1")]
    PortRange {
        /// The first port of the range.
        first: u16,
        /// The last port of the range.
        last: u16,
    },
    /// Every even port of the range is held by an open leg (or by another program).
    #[error(
        "no free RTP port between {first} and {last}: every even port is taken by an open \
         call; allow more ports or fewer concurrent calls"
    )]
    PortsExhausted {
        /// The first port of the range.
        first: u16,
        /// The last port of the range.
        last: u16,
    },
    /// The address to bind RTP sockets to cannot be used on this machine.
    #[error("cannot bind RTP sockets to {address}: {source}")]
    Bind {
        /// The address and port.
        address: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A WAV file could not be used.
    #[error("not a usable WAV file: {0}")]
    InvalidWav(String),
    /// The operator's prompt folder could not be read.
    #[error("cannot read the prompt folder {}: {source}", path.display())]
    PromptDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file in the operator's prompt folder could not be used.
    #[error("prompt {}: {reason}", path.display())]
    PromptFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Node totals since start, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MediaStats {
    /// Legs open now.
    pub legs_open: u64,
    /// RTP packets received from a leg's remote party (audio and telephone events).
    pub packets_received: u64,
    /// RTP packets sent (relayed audio and prompts).
    pub packets_sent: u64,
    /// Packets missing from the received streams (sequence gaps).
    pub packets_lost: u64,
    /// Packets received after a later one (reordered or duplicated).
    pub packets_late: u64,
    /// Packets that waited more than 20 ms in their socket before the relay read them:
    /// the relay fell behind.
    pub packets_delayed: u64,
    /// Datagrams ignored: not RTP, from an address other than the leg's remote, or on a
    /// leg not started yet.
    pub packets_ignored: u64,
    /// Packets that could not be sent (the socket's buffer was full, or the network refused).
    pub send_failures: u64,
}

#[derive(Debug, Default)]
struct MediaCounters {
    legs_open: AtomicU64,
    packets_received: AtomicU64,
    packets_sent: AtomicU64,
    packets_lost: AtomicU64,
    packets_late: AtomicU64,
    packets_delayed: AtomicU64,
    packets_ignored: AtomicU64,
    send_failures: AtomicU64,
}

fn add(counter: &AtomicU64, amount: u64) {
    counter.fetch_add(amount, Ordering::Relaxed);
}

struct MediaShared {
    bind: IpAddr,
    /// The runtime `Media::new` ran on: legs and prompts run their tasks there, so `play`,
    /// a plain function, works from any thread.
    runtime: tokio::runtime::Handle,
    ports: PortTable,
    counters: MediaCounters,
    next_id: AtomicU64,
}

impl MediaShared {
    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// The RTP side of one node: hands out legs on ports of its range and keeps node totals.
#[derive(Clone)]
pub struct Media {
    shared: Arc<MediaShared>,
}

impl Media {
    /// Media on `bind`, with legs on the even ports of `ports` (RTP's convention; the odd
    /// port above each is left for RTCP, which is not sent). Fails when the range holds no
    /// usable port or the address does not belong to this machine.
    pub async fn new(bind: IpAddr, ports: RangeInclusive<u16>) -> Result<Media, MediaError> {
        let table = PortTable::new(ports)?;
        let probe = std::net::SocketAddr::new(bind, 0);
        tokio::net::UdpSocket::bind(probe)
            .await
            .map_err(|source| MediaError::Bind {
                address: probe,
                source,
            })?;
        let shared = MediaShared {
            bind,
            runtime: tokio::runtime::Handle::current(),
            ports: table,
            counters: MediaCounters::default(),
            next_id: AtomicU64::new(1),
        };
        Ok(Media {
            shared: Arc::new(shared),
        })
    }

    /// Opens a leg on the next free even port of the range.
    pub async fn open_leg(&self) -> Result<Leg, MediaError> {
        let (socket, reservation) = ports::bind_free_port(&self.shared)?;
        Ok(Leg::open(&self.shared, socket, reservation))
    }

    /// Node totals since start.
    pub fn stats(&self) -> MediaStats {
        let counters = &self.shared.counters;
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        MediaStats {
            legs_open: read(&counters.legs_open),
            packets_received: read(&counters.packets_received),
            packets_sent: read(&counters.packets_sent),
            packets_lost: read(&counters.packets_lost),
            packets_late: read(&counters.packets_late),
            packets_delayed: read(&counters.packets_delayed),
            packets_ignored: read(&counters.packets_ignored),
            send_failures: read(&counters.send_failures),
        }
    }
}
