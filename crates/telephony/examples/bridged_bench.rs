//! Bridged calls under load through the SIP adapter and its relay, with SIPp as the trunk
//! (`scripts/bench-bridged.sh` starts SIPp and runs this):
//!
//!   bridged_bench TRUNK_PORT SIPP_PID CALLS SECONDS
//!
//! Rings CALLS callers' phones ("call me") and bridges a contact into each, every leg placed
//! through SIPp's trunk with its own RTP stream; holds them all for a warm-up and then
//! SECONDS, reading over that window the relay's counters, this process's and SIPp's CPU
//! time and this process's memory; then hangs every call up and checks every leg closed.

#[path = "common/proc.rs"]
mod proc;

use barnstorm_telephony::media::{Media, MediaStats, Prompts};
use barnstorm_telephony::sip::SipTelephony;
use barnstorm_telephony::sip::config::SipConfig;
use barnstorm_telephony::{CallKey, Command, Event, SessionKey, Telephony};
use proc::{cpu_ticks, rss_kib};
use std::error::Error;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

type Outcome = Result<(), Box<dyn Error>>;

const MAX_CALLS: usize = 2_000;
/// The first RTP port of the node's range (two legs a call, each on an even port).
const RTP_BASE: u16 = 30_000;
const WARM_UP: Duration = Duration::from_secs(3);
/// Calls are set up in steps of this many, one step every 100 ms.
const SETUP_STEP: usize = 20;
const CALLER_ID: &str = "+442079460000";

fn main() -> Outcome {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |index: usize| -> Result<u64, Box<dyn Error>> {
        Ok(args
            .get(index)
            .ok_or("usage: bridged_bench TRUNK_PORT SIPP_PID CALLS SECONDS")?
            .parse()?)
    };
    let trunk_port = u16::try_from(number(0)?)?;
    let sipp = number(1)?;
    let calls = usize::try_from(number(2)?)?;
    if calls == 0 || calls > MAX_CALLS {
        return Err(format!("CALLS must be 1 to {MAX_CALLS}").into());
    }
    let seconds = Duration::from_secs(number(3)?);
    tokio::runtime::Runtime::new()?.block_on(run(trunk_port, sipp, calls, seconds))
}

/// Drama numbers only (Ofcom's ranges for fiction): callers in 0113 496 0xxx and
/// 0161 496 0xxx, contacts in 020 7946 0xxx and 029 2018 0xxx.
fn caller_number(index: usize) -> String {
    let area = if index < 1000 { "1134960" } else { "1614960" };
    format!("+44{area}{:03}", index % 1000)
}

fn contact_number(index: usize) -> String {
    let area = if index < 1000 { "2079460" } else { "2920180" };
    format!("+44{area}{:03}", index % 1000)
}

async fn run(trunk_port: u16, sipp: u64, calls: usize, seconds: Duration) -> Outcome {
    let me = u64::from(std::process::id());
    let last_port = RTP_BASE + u16::try_from(4 * calls + 64)?;
    let ports = RTP_BASE..=last_port;
    let media = Media::new("127.0.0.1".parse()?, ports.clone()).await?;
    let config = SipConfig {
        trunk: format!("sip:127.0.0.1:{trunk_port}").parse()?,
        register: false,
        outbound_proxy: None,
        listen: "127.0.0.1:0".parse()?,
        public_ip: None,
        rtp_ports: ports,
        dial_in_number: None,
    };
    let sip = SipTelephony::start(config, media.clone(), Prompts::built_in()).await?;
    let mut events = sip.take_events().ok_or("no event stream")?;
    let idle_rss = rss_kib(me)?;

    let setup = Instant::now();
    for step in (0..calls).step_by(SETUP_STEP) {
        for index in step..(step + SETUP_STEP).min(calls) {
            sip.send(Command::RingCaller {
                session: SessionKey(index as i64),
                number: caller_number(index),
                caller_id: CALLER_ID.to_string(),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for(&mut events, calls, "callers on the line", |event| {
        matches!(event, Event::CallerJoined(_))
    })
    .await?;
    for step in (0..calls).step_by(SETUP_STEP) {
        for index in step..(step + SETUP_STEP).min(calls) {
            sip.send(Command::Dial {
                session: SessionKey(index as i64),
                call: CallKey(index as i64),
                number: contact_number(index),
                caller_id: CALLER_ID.to_string(),
                ring_timeout: Duration::from_secs(30),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for(&mut events, calls, "contacts answered", |event| {
        matches!(event, Event::Answered(_))
    })
    .await?;
    println!(
        "{calls} bridged calls ({} legs) up after {:.1} s",
        2 * calls,
        setup.elapsed().as_secs_f64()
    );

    tokio::time::sleep(WARM_UP).await;
    let (before, node_before, sipp_before, started) = (
        media.stats(),
        cpu_ticks(me)?,
        cpu_ticks(sipp)?,
        Instant::now(),
    );
    tokio::time::sleep(seconds).await;
    let (after, node_after, sipp_after, window) = (
        media.stats(),
        cpu_ticks(me)?,
        cpu_ticks(sipp)?,
        started.elapsed(),
    );
    let rss = rss_kib(me)?;
    report(
        calls,
        window,
        &before,
        &after,
        (node_after - node_before, sipp_after - sipp_before),
        (idle_rss, rss),
    );

    for index in 0..calls {
        sip.send(Command::HangUp {
            call: CallKey(index as i64),
        });
        sip.send(Command::EndSession {
            session: SessionKey(index as i64),
        });
    }
    let closing = Instant::now();
    while media.stats().legs_open > 0 {
        if closing.elapsed() > Duration::from_secs(60) {
            return Err(format!(
                "{} legs still open after hanging up",
                media.stats().legs_open
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("every leg closed");
    Ok(())
}

/// Waits until `count` events match `wanted`; an error names any call that ended instead.
async fn wait_for(
    events: &mut UnboundedReceiver<Event>,
    count: usize,
    what: &str,
    wanted: impl Fn(&Event) -> bool,
) -> Outcome {
    let mut seen = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while seen < count {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(event)) if wanted(&event) => seen += 1,
            Ok(Some(Event::Ended(call, ending))) => {
                return Err(format!("call {} ended: {}", call.0, ending.cause).into());
            }
            Ok(Some(Event::CallerLeft(session, ending))) => {
                return Err(format!("caller {} left: {}", session.0, ending.cause).into());
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return Err(format!("only {seen} of {count} {what}").into()),
        }
    }
    Ok(())
}

fn report(
    calls: usize,
    window: Duration,
    before: &MediaStats,
    after: &MediaStats,
    (node_ticks, sipp_ticks): (u64, u64),
    (idle_rss, rss): (u64, u64),
) {
    let secs = window.as_secs_f64();
    let received = after.packets_received - before.packets_received;
    let sent = after.packets_sent - before.packets_sent;
    let lost = after.packets_lost - before.packets_lost;
    let late = after.packets_late - before.packets_late;
    let delayed = after.packets_delayed - before.packets_delayed;
    let failed = after.send_failures - before.send_failures;
    let ignored = after.packets_ignored - before.packets_ignored;
    let share = |count: u64| 100.0 * count as f64 / received.max(1) as f64;
    // Clock ticks are 1/100 s: ticks per second of window is percent of a core.
    let core = |ticks: u64| ticks as f64 / secs;
    println!("window {secs:.1} s, legs open {}", after.legs_open);
    println!(
        "relay received {received} ({:.0}/s), sent {sent} ({:.0}/s)",
        received as f64 / secs,
        sent as f64 / secs
    );
    println!(
        "lost {lost} ({:.3}%), late (reordered) {late} ({:.3}%), delayed > 20 ms {delayed} ({:.3}%), send failures {failed}, ignored {ignored}",
        share(lost),
        share(late),
        share(delayed)
    );
    println!(
        "node CPU {:.1}% of a core, {:.3}% per call; SIPp CPU {:.1}% of a core, {:.3}% per call",
        core(node_ticks),
        core(node_ticks) / calls as f64,
        core(sipp_ticks),
        core(sipp_ticks) / calls as f64
    );
    println!(
        "node RSS {rss} KiB, {} KiB per call (idle {idle_rss} KiB)",
        rss.saturating_sub(idle_rss) / calls as u64
    );
}
