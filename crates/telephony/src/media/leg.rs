//! One RTP stream with one remote party: its socket and receive task, symmetric latching,
//! digit detection, loss counting, and relaying each audio packet to the bridged leg the
//! moment it arrives (restamped with that leg's own SSRC, transcoded by table if the codecs
//! differ). Telephone events are never relayed. An idle leg sends nothing.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::arrival::{Arrival, ArrivalTracker, DELAYED_AFTER};
use super::dtmf::DigitDetector;
use super::g711::{Codec, transcode};
use super::outgoing::{OutgoingStream, Source, SourcePacket, Stamp};
use super::playback::{self, Playback};
use super::ports::PortReservation;
use super::rtp::{self, HEADER_LEN, RtpHeader};
use super::stamped;
use super::{Audio, MediaShared, add};

/// The largest datagram read or written.
const MAX_DATAGRAM: usize = 1500;

/// Where and how a leg sends, from the SDP the SIP side negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegConfig {
    /// The address in the remote SDP. Replies go there until a packet arrives; from then on
    /// they go to the address that packet came from (symmetric RTP, for phones behind NAT),
    /// unless packets start coming from this address itself.
    pub remote: SocketAddr,
    /// The audio codec both ends agreed on.
    pub codec: Codec,
    /// The payload type of RFC 4733 telephone events, if negotiated.
    pub dtmf_payload_type: Option<u8>,
}

/// A leg's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LegStats {
    /// Packets received from the remote party.
    pub received: u64,
    /// Packets sent to the remote party.
    pub sent: u64,
    /// Packets missing from the remote party's sequence.
    pub lost: u64,
    /// Packets from the remote party that arrived after a later one.
    pub late: u64,
    /// Packets from the remote party that waited more than 20 ms in the socket.
    pub delayed: u64,
    /// When the last packet from the remote party arrived.
    pub last_received_at: Option<Instant>,
}

#[derive(Debug, Default)]
struct LegCounters {
    received: AtomicU64,
    sent: AtomicU64,
    lost: AtomicU64,
    late: AtomicU64,
    delayed: AtomicU64,
}

struct LegState {
    config: Option<LegConfig>,
    latched: Option<SocketAddr>,
    peer: Option<Weak<LegShared>>,
    playback: Option<u64>,
    outgoing: OutgoingStream,
    arrivals: ArrivalTracker,
    digits: DigitDetector,
    digits_out: mpsc::UnboundedSender<char>,
    last_received_at: Option<Instant>,
}

/// What a leg's handle, its receive task, its playbacks and its bridged peer share.
pub(super) struct LegShared {
    id: u64,
    socket: UdpSocket,
    media: Arc<MediaShared>,
    state: Mutex<LegState>,
    counters: LegCounters,
    digits_in: Mutex<Option<mpsc::UnboundedReceiver<char>>>,
    // Last, so that it drops after the socket: the port is free when it is given back.
    reservation: PortReservation,
}

/// One RTP stream with one remote party. Dropping or closing it stops its audio and frees
/// its port.
pub struct Leg {
    shared: Arc<LegShared>,
    receiver: JoinHandle<()>,
}

impl Leg {
    pub(super) fn open(
        media: &Arc<MediaShared>,
        socket: UdpSocket,
        reservation: PortReservation,
    ) -> Leg {
        let (digits_out, digits_in) = mpsc::unbounded_channel();
        let state = LegState {
            config: None,
            latched: None,
            peer: None,
            playback: None,
            outgoing: OutgoingStream::new(rand::random(), rand::random(), rand::random()),
            arrivals: ArrivalTracker::default(),
            digits: DigitDetector::default(),
            digits_out,
            last_received_at: None,
        };
        let shared = Arc::new(LegShared {
            id: media.next_id(),
            socket,
            media: Arc::clone(media),
            state: Mutex::new(state),
            counters: LegCounters::default(),
            digits_in: Mutex::new(Some(digits_in)),
            reservation,
        });
        let receiver = media.runtime.spawn(receive(Arc::clone(&shared)));
        add(&media.counters.legs_open, 1);
        Leg { shared, receiver }
    }

    /// The local port, for the SDP the SIP side writes.
    pub fn port(&self) -> u16 {
        self.shared.reservation.port()
    }

    /// The SSRC this leg sends with, the same for the whole call.
    pub fn ssrc(&self) -> u32 {
        self.shared.state().outgoing.ssrc()
    }

    /// Starts or reconfigures the leg (a re-INVITE may change the remote or the codec). A new
    /// remote address drops the latched one, so the next packet latches again.
    pub fn start(&self, config: LegConfig) {
        let mut state = self.shared.state();
        if state.config.is_none_or(|old| old.remote != config.remote) {
            state.latched = None;
        }
        state.config = Some(config);
    }

    /// The digits the remote party presses, one per key press. Only the first call gets them.
    pub fn take_digits(&self) -> Option<mpsc::UnboundedReceiver<char>> {
        self.shared
            .digits_in
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Relays audio from each leg to the other until one is unbridged or closed. Bridging
    /// stops what either leg was playing, and ends any bridge either was in.
    pub fn bridge(&self, other: &Leg) {
        if self.shared.id == other.shared.id {
            return;
        }
        self.unbridge();
        other.unbridge();
        for (leg, peer) in [(self, other), (other, self)] {
            let mut state = leg.shared.state();
            state.peer = Some(Arc::downgrade(&peer.shared));
            state.playback = None;
        }
    }

    /// Ends the bridge this leg is in; both legs go quiet.
    pub fn unbridge(&self) {
        self.shared.unbridge();
    }

    /// Plays `audio` into this leg, in place of any earlier prompt and of the bridged leg's
    /// audio, until it ends, `Playback::stop`, a bridge or close.
    pub fn play(&self, audio: Audio) -> Playback {
        let id = self.shared.media.next_id();
        self.shared.state().playback = Some(id);
        playback::start(&self.shared, id, audio)
    }

    /// This leg's counters.
    pub fn stats(&self) -> LegStats {
        let counters = &self.shared.counters;
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        LegStats {
            received: read(&counters.received),
            sent: read(&counters.sent),
            lost: read(&counters.lost),
            late: read(&counters.late),
            delayed: read(&counters.delayed),
            last_received_at: self.shared.state().last_received_at,
        }
    }

    /// Closes the leg: its audio stops and its port is freed.
    pub fn close(self) {}
}

impl Drop for Leg {
    fn drop(&mut self) {
        self.shared.unbridge();
        let mut state = self.shared.state();
        state.playback = None;
        state.config = None;
        drop(state);
        self.receiver.abort();
        // Counted closed now; the port follows once the receive task has let go of it.
        self.shared
            .media
            .counters
            .legs_open
            .fetch_sub(1, Ordering::Relaxed);
    }
}

async fn receive(leg: Arc<LegShared>) {
    let mut buffer = [0u8; MAX_DATAGRAM];
    loop {
        match stamped::recv(&leg.socket, &mut buffer).await {
            Ok(datagram) => {
                leg.on_datagram(&buffer[..datagram.len], datagram.from, datagram.waited);
            }
            // An ICMP "port unreachable" for an earlier send; the remote may come back.
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => {}
            Err(error) => {
                tracing::warn!(port = leg.reservation.port(), %error, "RTP receive failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

impl LegShared {
    pub(super) fn runtime(&self) -> &tokio::runtime::Handle {
        &self.media.runtime
    }

    fn state(&self) -> MutexGuard<'_, LegState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn unbridge(self: &Arc<Self>) {
        let peer = self.state().peer.take().and_then(|peer| peer.upgrade());
        if let Some(peer) = peer {
            let mut state = peer.state();
            if state
                .peer
                .as_ref()
                .is_some_and(|back| std::ptr::eq(back.as_ptr(), Arc::as_ptr(self)))
            {
                state.peer = None;
            }
        }
    }

    fn on_datagram(&self, bytes: &[u8], from: SocketAddr, waited: Option<Duration>) {
        let counters = &self.media.counters;
        let Ok(packet) = rtp::parse(bytes) else {
            return add(&counters.packets_ignored, 1);
        };
        let header = packet.header;
        let mut state = self.state();
        let Some(config) = state.config else {
            return add(&counters.packets_ignored, 1);
        };
        match state.latched {
            // The address in the SDP always wins: a stray sender that latched first (or
            // someone probing the port range) cannot keep the call's audio.
            Some(latched) if latched != from && from != config.remote => {
                return add(&counters.packets_ignored, 1);
            }
            _ => state.latched = Some(from),
        }
        state.last_received_at = Some(Instant::now());
        self.count_arrival(state.arrivals.observe(header.ssrc, header.sequence));
        if waited.is_some_and(|waited| waited > DELAYED_AFTER) {
            add(&self.counters.delayed, 1);
            add(&counters.packets_delayed, 1);
        }
        if Some(header.payload_type) == config.dtmf_payload_type {
            if let Some(digit) =
                state
                    .digits
                    .on_packet(header.timestamp, header.marker, packet.payload)
            {
                // The receiver may be gone (the call is ending); the digit is then moot.
                let _ = state.digits_out.send(digit);
            }
            return;
        }
        if header.payload_type != config.codec.payload_type() {
            return;
        }
        let peer = state.peer.as_ref().and_then(Weak::upgrade);
        drop(state);
        if let Some(peer) = peer {
            peer.relay(self.id, &header, packet.payload, config.codec);
        }
    }

    fn count_arrival(&self, arrival: Arrival) {
        let counters = &self.media.counters;
        add(&self.counters.received, 1);
        add(&counters.packets_received, 1);
        match arrival {
            Arrival::InOrder { lost: 0 } => {}
            Arrival::InOrder { lost } => {
                add(&self.counters.lost, u64::from(lost));
                add(&counters.packets_lost, u64::from(lost));
            }
            Arrival::Late => {
                add(&self.counters.late, 1);
                add(&counters.packets_late, 1);
            }
        }
    }

    /// Sends a packet the bridged leg `from_leg` received, unless a prompt is playing here.
    fn relay(&self, from_leg: u64, header: &RtpHeader, payload: &[u8], codec: Codec) {
        let packet = SourcePacket {
            source: Source::Peer {
                leg: from_leg,
                ssrc: header.ssrc,
            },
            sequence: header.sequence,
            timestamp: header.timestamp,
            samples: payload.len() as u32,
            marker: header.marker,
        };
        let mut state = self.state();
        if state.playback.is_some() {
            return;
        }
        let Some((stamp, ssrc, config, target)) = state.stamp(packet) else {
            return;
        };
        drop(state);
        self.send(&stamp, ssrc, config.codec, codec, payload, target);
    }

    /// Sends one chunk of playback `id`; false once that playback no longer owns the leg.
    pub(super) fn send_prompt_chunk(&self, id: u64, index: u32, chunk: &[u8]) -> bool {
        let mut state = self.state();
        if state.playback != Some(id) {
            return false;
        }
        let samples = chunk.len() as u32;
        let stamped = state.stamp(SourcePacket {
            source: Source::Playback(id),
            sequence: index as u16,
            timestamp: index.wrapping_mul(samples),
            samples,
            marker: false,
        });
        drop(state);
        if let Some((stamp, ssrc, config, target)) = stamped {
            self.send(&stamp, ssrc, config.codec, Codec::Pcmu, chunk, target);
        }
        true
    }

    /// Ends playback `id` if it still owns the leg.
    pub(super) fn end_playback(&self, id: u64) {
        let mut state = self.state();
        if state.playback == Some(id) {
            state.playback = None;
        }
    }

    fn send(
        &self,
        stamp: &Stamp,
        ssrc: u32,
        codec: Codec,
        from: Codec,
        payload: &[u8],
        target: SocketAddr,
    ) {
        let mut packet = [0u8; MAX_DATAGRAM];
        let header = RtpHeader {
            marker: stamp.marker,
            payload_type: codec.payload_type(),
            sequence: stamp.sequence,
            timestamp: stamp.timestamp,
            ssrc,
        };
        let len = HEADER_LEN + payload.len();
        let Some(body) = packet.get_mut(HEADER_LEN..len) else {
            return;
        };
        transcode(from, codec, payload, body);
        packet[..HEADER_LEN].copy_from_slice(&rtp::header_bytes(&header));
        match self.socket.try_send_to(&packet[..len], target) {
            Ok(_) => {
                add(&self.counters.sent, 1);
                add(&self.media.counters.packets_sent, 1);
            }
            Err(_) => add(&self.media.counters.send_failures, 1),
        }
    }
}

impl LegState {
    fn stamp(&mut self, packet: SourcePacket) -> Option<(Stamp, u32, LegConfig, SocketAddr)> {
        let config = self.config?;
        let target = self.latched.unwrap_or(config.remote);
        let stamp = self.outgoing.stamp(packet, Instant::now());
        Some((stamp, self.outgoing.ssrc(), config, target))
    }
}
