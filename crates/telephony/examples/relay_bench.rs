//! The bridged-call relay under load, in two processes (`scripts/bench-relay.sh` runs both):
//!
//!   relay_bench relay CALLS LIFETIME_SECONDS       the relay: CALLS bridged pairs of legs
//!   relay_bench generate CALLS SECONDS RELAY_PID   the phones: G.711 at 50 packets/s each way
//!   relay_bench direct CALLS SECONDS               the phones sending to each other, no relay
//!
//! The generator counts what comes back (lost, late, latency) over SECONDS after a warm-up
//! and reads both processes' CPU time and the relay's memory from /proc over the same window.
//! `direct` measures the phones and the loopback alone: what the machine adds without a relay.

#[path = "common/proc.rs"]
mod proc;

use proc::{cpu_ticks, rss_kib};
use std::error::Error;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use barnstorm_telephony::media::rtp::{self, RtpHeader};
use barnstorm_telephony::media::{Codec, LegConfig, Media};
use tokio::net::UdpSocket;

type Outcome = Result<(), Box<dyn Error>>;

const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;
/// Leg `j` of the relay is on port `RELAY_BASE + 2j`; phone `j` on `PHONE_BASE + j`.
const RELAY_BASE: u16 = 20_000;
const PHONE_BASE: u16 = 26_000;
const MAX_CALLS: usize = 1_400;
const WARM_UP: Duration = Duration::from_secs(3);
const PACKET_INTERVAL: Duration = Duration::from_millis(20);
/// A packet delayed by more than one packet interval would miss a phone's smallest jitter
/// buffer: it counts as late.
const LATE_AFTER: Duration = Duration::from_millis(20);

fn main() -> Outcome {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |index: usize| -> Result<u64, Box<dyn Error>> {
        Ok(args.get(index).ok_or("missing argument")?.parse()?)
    };
    let usage = "usage: relay_bench relay CALLS LIFETIME | generate CALLS SECONDS RELAY_PID | direct CALLS SECONDS";
    let calls = usize::try_from(number(1)?)?;
    if calls == 0 || calls > MAX_CALLS {
        return Err(format!("CALLS must be 1 to {MAX_CALLS}").into());
    }
    let runtime = tokio::runtime::Runtime::new()?;
    match args.first().map(String::as_str) {
        Some("relay") => runtime.block_on(relay(calls, Duration::from_secs(number(2)?))),
        Some("generate") => runtime.block_on(generate(
            calls,
            Duration::from_secs(number(2)?),
            Some(number(3)?),
        )),
        Some("direct") => runtime.block_on(generate(calls, Duration::from_secs(number(2)?), None)),
        _ => Err(usage.into()),
    }
}

fn phone_address(index: usize) -> SocketAddr {
    SocketAddr::from((LOCALHOST, PHONE_BASE + index as u16))
}

async fn relay(calls: usize, lifetime: Duration) -> Outcome {
    let idle_rss = rss_kib(std::process::id().into())?;
    let last_port = RELAY_BASE + (4 * calls) as u16;
    let media = Media::new(LOCALHOST.into(), RELAY_BASE..=last_port).await?;
    let mut legs = Vec::with_capacity(2 * calls);
    for index in 0..2 * calls {
        let leg = media.open_leg().await?;
        if leg.port() != RELAY_BASE + 2 * index as u16 {
            return Err(format!(
                "port {} is taken: free {RELAY_BASE}-{last_port}",
                RELAY_BASE + 2 * index as u16
            )
            .into());
        }
        let remote = phone_address(index);
        leg.start(LegConfig {
            remote,
            codec: Codec::Pcmu,
            dtmf_payload_type: Some(101),
        });
        legs.push(leg);
    }
    for pair in legs.chunks(2) {
        pair[0].bridge(&pair[1]);
    }
    println!("ready idle_rss_kib={idle_rss}");
    tokio::time::sleep(lifetime).await;
    let stats = media.stats();
    println!(
        "relay: legs {}, received {}, sent {}, lost {}, late {}, delayed {}, ignored {}, send failures {}",
        stats.legs_open,
        stats.packets_received,
        stats.packets_sent,
        stats.packets_lost,
        stats.packets_late,
        stats.packets_delayed,
        stats.packets_ignored,
        stats.send_failures
    );
    Ok(())
}

/// What the phones counted over the measured window.
struct Tally {
    sent: AtomicU64,
    send_failures: AtomicU64,
    received: AtomicU64,
    late: AtomicU64,
    /// Packets by latency in whole milliseconds; the last bucket holds 100 ms and more.
    latency_ms: Vec<AtomicU64>,
}

impl Tally {
    fn new() -> Tally {
        let zero = || AtomicU64::new(0);
        Tally {
            sent: zero(),
            send_failures: zero(),
            received: zero(),
            late: zero(),
            latency_ms: (0..=100).map(|_| zero()).collect(),
        }
    }
}

struct Window {
    origin: Instant,
    start: Duration,
    end: Duration,
}

impl Window {
    fn contains(&self, sent_at: Duration) -> bool {
        sent_at >= self.start && sent_at < self.end
    }
}

/// Where phone `index` sends: its leg on the relay, or straight to its partner phone.
fn destination(index: usize, through_relay: bool) -> SocketAddr {
    if through_relay {
        SocketAddr::from((LOCALHOST, RELAY_BASE + 2 * index as u16))
    } else {
        phone_address(index ^ 1)
    }
}

/// CPU ticks of the relay, or none without one.
fn relay_ticks(relay_pid: Option<u64>) -> Result<u64, Box<dyn Error>> {
    relay_pid.map_or(Ok(0), cpu_ticks)
}

async fn generate(calls: usize, seconds: Duration, relay_pid: Option<u64>) -> Outcome {
    let origin = Instant::now();
    let window = Arc::new(Window {
        origin,
        start: WARM_UP,
        end: WARM_UP + seconds,
    });
    let tally = Arc::new(Tally::new());
    let mut phones = Vec::with_capacity(2 * calls);
    for index in 0..2 * calls {
        let phone = UdpSocket::bind(phone_address(index)).await?;
        // Connected, a phone's sends skip the route lookup and it hears only its own leg.
        phone
            .connect(destination(index, relay_pid.is_some()))
            .await?;
        phones.push(Arc::new(phone));
    }
    for (index, phone) in phones.iter().enumerate() {
        tokio::spawn(listen(
            Arc::clone(phone),
            index ^ 1,
            Arc::clone(&window),
            Arc::clone(&tally),
        ));
    }
    // Twenty senders, each for a twentieth of the phones and 1 ms after the one before, so
    // packets leave evenly over each 20 ms rather than in one burst.
    let slots = 20;
    let mut senders = Vec::new();
    for slot in 0..slots {
        let mine: Vec<(usize, Arc<UdpSocket>)> = phones
            .iter()
            .enumerate()
            .skip(slot)
            .step_by(slots)
            .map(|(i, p)| (i, Arc::clone(p)))
            .collect();
        let offset = PACKET_INTERVAL * slot as u32 / slots as u32;
        senders.push(tokio::spawn(send(
            mine,
            offset,
            Arc::clone(&window),
            Arc::clone(&tally),
        )));
    }

    tokio::time::sleep_until((origin + window.start).into()).await;
    let (relay_before, own_before) = (relay_ticks(relay_pid)?, cpu_ticks(own_pid())?);
    tokio::time::sleep_until((origin + window.end).into()).await;
    let (relay_after, own_after) = (relay_ticks(relay_pid)?, cpu_ticks(own_pid())?);
    let relay_rss = relay_pid.map(rss_kib).transpose()?;
    for sender in senders {
        sender.abort();
    }
    // Packets sent at the end of the window are still on their way.
    tokio::time::sleep(Duration::from_millis(500)).await;
    report(
        calls,
        seconds,
        &tally,
        relay_after - relay_before,
        own_after - own_before,
        relay_rss,
    );
    Ok(())
}

async fn send(
    phones: Vec<(usize, Arc<UdpSocket>)>,
    offset: Duration,
    window: Arc<Window>,
    tally: Arc<Tally>,
) {
    let mut ticks = tokio::time::interval_at((window.origin + offset).into(), PACKET_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut packet = [0u8; rtp::HEADER_LEN + 160];
    for round in 0u32.. {
        ticks.tick().await;
        for (index, phone) in &phones {
            let sent_at = window.origin.elapsed();
            let header = RtpHeader {
                marker: round == 0,
                payload_type: 0,
                sequence: round as u16,
                timestamp: round.wrapping_mul(160),
                ssrc: *index as u32,
            };
            let mut payload = [0x55u8; 160];
            payload[..8].copy_from_slice(&(sent_at.as_micros() as u64).to_be_bytes());
            payload[8..12].copy_from_slice(&(*index as u32).to_be_bytes());
            let Some(len) = rtp::write(&header, &payload, &mut packet) else {
                continue;
            };
            let sent = phone.try_send(&packet[..len]);
            if window.contains(sent_at) {
                let counter = if sent.is_ok() {
                    &tally.sent
                } else {
                    &tally.send_failures
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

async fn listen(phone: Arc<UdpSocket>, partner: usize, window: Arc<Window>, tally: Arc<Tally>) {
    let mut buffer = [0u8; 1500];
    while let Ok(len) = phone.recv(&mut buffer).await {
        let arrived = window.origin.elapsed();
        let Ok(packet) = rtp::parse(&buffer[..len]) else {
            continue;
        };
        let Some(stamp) = packet.payload.get(..12) else {
            continue;
        };
        let sent_at = Duration::from_micros(u64::from_be_bytes(
            stamp[..8].try_into().unwrap_or_default(),
        ));
        let from = u32::from_be_bytes(stamp[8..12].try_into().unwrap_or_default());
        if from as usize != partner || !window.contains(sent_at) {
            continue;
        }
        let latency = arrived.saturating_sub(sent_at);
        tally.received.fetch_add(1, Ordering::Relaxed);
        if latency > LATE_AFTER {
            tally.late.fetch_add(1, Ordering::Relaxed);
        }
        let bucket = (latency.as_millis() as usize).min(100);
        tally.latency_ms[bucket].fetch_add(1, Ordering::Relaxed);
    }
}

fn report(
    calls: usize,
    seconds: Duration,
    tally: &Tally,
    relay_ticks: u64,
    own_ticks: u64,
    relay_rss: Option<u64>,
) {
    let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    let (sent, received, late) = (read(&tally.sent), read(&tally.received), read(&tally.late));
    let lost = sent.saturating_sub(received);
    let percent = |part: u64| 100.0 * part as f64 / sent.max(1) as f64;
    let core_percent = |ticks: u64| ticks as f64 / seconds.as_secs_f64();
    let quantile = |q: f64| {
        let target = (received as f64 * q).ceil() as u64;
        let mut seen = 0;
        tally.latency_ms.iter().position(|bucket| {
            seen += read(bucket);
            seen >= target.max(1)
        })
    };
    let ms = |bucket: Option<usize>| {
        bucket.map_or("-".to_owned(), |b| {
            if b == 100 {
                ">=100".into()
            } else {
                format!("<{}", b + 1)
            }
        })
    };
    println!(
        "calls {calls}, {} s measured, {} packets/s sent",
        seconds.as_secs(),
        sent / seconds.as_secs().max(1)
    );
    println!(
        "sent {sent}, received {received}, send failures {}",
        read(&tally.send_failures)
    );
    println!(
        "lost {lost} ({:.4}%), late >{} ms {late} ({:.4}%)",
        percent(lost),
        LATE_AFTER.as_millis(),
        percent(late)
    );
    println!(
        "latency ms: p50 {}, p99 {}, p99.9 {}, max {}",
        ms(quantile(0.5)),
        ms(quantile(0.99)),
        ms(quantile(0.999)),
        ms(quantile(1.0))
    );
    let Some(relay_rss) = relay_rss else {
        println!(
            "no relay; generator CPU {:.1}% of a core",
            core_percent(own_ticks)
        );
        return;
    };
    println!(
        "relay CPU {:.1}% of a core ({:.3}% per call); generator CPU {:.1}% of a core (baseline)",
        core_percent(relay_ticks),
        core_percent(relay_ticks) / calls as f64,
        core_percent(own_ticks)
    );
    println!("relay RSS {relay_rss} KiB");
}

fn own_pid() -> u64 {
    std::process::id().into()
}
