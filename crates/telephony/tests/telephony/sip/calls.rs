//! Calls through the SIP adapter against SIPp's trunk: "call me" rings the volunteer and
//! reads their keypad; contacts who answer are bridged with audio both ways; busy, not in
//! service and never-answering contacts end as the trunk said, the last cancelled no
//! earlier than its ring timeout.

use super::sipp::{self, Sipp, Step};
use barnstorm_telephony::media::{Media, Prompts};
use barnstorm_telephony::sip::SipTelephony;
use barnstorm_telephony::sip::config::SipConfig;
use barnstorm_telephony::{CallKey, Command, EndedBy, Ending, Event, SessionKey, Telephony};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

const VOLUNTEER: &str = "+441134960999";
const CALLER_ID: &str = "+442079460000";

async fn adapter(
    trunk_port: u16,
    dial_in: Option<&str>,
) -> (Arc<SipTelephony>, Media, UnboundedReceiver<Event>) {
    adapter_on(&format!("sip:127.0.0.1:{trunk_port}"), dial_in).await
}

/// The adapter on `trunk` (a `--sip-trunk` URI), with its media and its events.
async fn adapter_on(
    trunk: &str,
    dial_in: Option<&str>,
) -> (Arc<SipTelephony>, Media, UnboundedReceiver<Event>) {
    adapter_with(trunk, dial_in, false).await
}

/// The adapter on `trunk`, registering with it when `register`.
async fn adapter_with(
    trunk: &str,
    dial_in: Option<&str>,
    register: bool,
) -> (Arc<SipTelephony>, Media, UnboundedReceiver<Event>) {
    let (first, last) = sipp::free_port_range(40);
    let media = Media::new("127.0.0.1".parse().unwrap(), first..=last)
        .await
        .unwrap();
    let config = SipConfig {
        trunk: trunk.parse().unwrap(),
        register,
        outbound_proxy: None,
        listen: "127.0.0.1:0".parse().unwrap(),
        public_ip: None,
        rtp_ports: first..=last,
        dial_in_number: dial_in.map(str::to_string),
    };
    let sip = SipTelephony::start(config, media.clone(), Prompts::built_in())
        .await
        .unwrap();
    let events = sip.take_events().unwrap();
    (sip, media, events)
}

/// The next event, failing the test after `within`.
async fn next(events: &mut UnboundedReceiver<Event>, within: Duration, trunk: &Sipp) -> Event {
    match tokio::time::timeout(within, events.recv()).await {
        Ok(Some(event)) => event,
        _ => panic!(
            "no event within {within:?}; SIPp said:\n{}",
            trunk.messages()
        ),
    }
}

/// Waits for the end of `call`, returning it and when it came.
async fn ended(
    events: &mut UnboundedReceiver<Event>,
    call: CallKey,
    within: Duration,
    trunk: &Sipp,
) -> (Ending, Vec<Event>) {
    let mut before = Vec::new();
    loop {
        match next(events, within, trunk).await {
            Event::Ended(c, ending) if c == call => return (ending, before),
            other => before.push(other),
        }
    }
}

/// Rings the volunteer's phone for session 1 and waits until they are on the line.
async fn caller_joins(sip: &SipTelephony, events: &mut UnboundedReceiver<Event>, trunk: &Sipp) {
    sip.send(Command::RingCaller {
        session: SessionKey(1),
        number: VOLUNTEER.to_string(),
        caller_id: CALLER_ID.to_string(),
    });
    let s = Duration::from_secs(5);
    assert_eq!(
        next(events, s, trunk).await,
        Event::CallerRinging(SessionKey(1))
    );
    assert_eq!(
        next(events, s, trunk).await,
        Event::CallerJoined(SessionKey(1))
    );
}

/// Ends session 1; the volunteer must still have been on the line.
async fn caller_leaves(sip: &SipTelephony, events: &mut UnboundedReceiver<Event>, trunk: &Sipp) {
    sip.send(Command::EndSession {
        session: SessionKey(1),
    });
    match next(events, Duration::from_secs(5), trunk).await {
        Event::CallerLeft(SessionKey(1), ending) => assert_eq!(ending.by, EndedBy::Local),
        other => panic!("the caller should have stayed on the line until now, got {other:?}"),
    }
}

fn dial(sip: &SipTelephony, call: i64, number: &str, ring_timeout: Duration) {
    sip.send(Command::Dial {
        session: SessionKey(1),
        call: CallKey(call),
        number: number.to_string(),
        caller_id: CALLER_ID.to_string(),
        ring_timeout,
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_me_bridges_contacts_and_reports_how_each_call_ended() {
    if !sipp::sipp_or_skip("call_me_bridges_contacts_and_reports_how_each_call_ended") {
        return;
    }
    let steps = [
        Step::Pause(Duration::from_millis(1500)),
        Step::Press('5'),
        Step::Talk,
        Step::Pause(Duration::from_secs(40)),
    ];
    let trunk = Sipp::trunk(&steps, 6);
    let (sip, media, mut events) = adapter(trunk.port, None).await;
    let s = Duration::from_secs(5);
    caller_joins(&sip, &mut events, &trunk).await;
    assert_eq!(
        next(&mut events, s, &trunk).await,
        Event::Digit(SessionKey(1), '5')
    );

    // A contact who answers after 3 s and hangs up after talking for 6 s.
    let before = media.stats();
    dial(&sip, 10, "+442079460001", Duration::from_secs(20));
    let (ending, seen) = ended(&mut events, CallKey(10), Duration::from_secs(20), &trunk).await;
    assert_eq!(
        seen,
        [Event::Ringing(CallKey(10)), Event::Answered(CallKey(10))]
    );
    assert!(
        ending.answered && ending.by == EndedBy::Remote,
        "{ending:?}"
    );
    let during = media.stats();
    let relayed = during.packets_sent - before.packets_sent;
    let received = during.packets_received - before.packets_received;
    // Six seconds of speech from each side at 30 and 20 ms a packet, both relayed.
    assert!(
        received > 300,
        "only {received} packets arrived during the call"
    );
    assert!(
        relayed > 300,
        "only {relayed} packets were relayed during the call"
    );

    // Busy, then not in service: the trunk's status, no answer.
    dial(&sip, 11, "+442079460002", Duration::from_secs(20));
    let (busy, _) = ended(&mut events, CallKey(11), s, &trunk).await;
    assert_eq!(
        (busy.sip_status, busy.answered, busy.cause.as_str()),
        (Some(486), false, "busy (486)")
    );
    dial(&sip, 12, "+442079460004", Duration::from_secs(20));
    let (missing, _) = ended(&mut events, CallKey(12), s, &trunk).await;
    assert_eq!(missing.sip_status, Some(404));
    dial(&sip, 14, "+442079460006", Duration::from_secs(20));
    let (codecless, _) = ended(&mut events, CallKey(14), s, &trunk).await;
    assert_eq!(codecless.sip_status, Some(488));
    assert!(codecless.cause.contains("G.711"), "{}", codecless.cause);

    // Nobody answers: Barnstorm cancels at the ring timeout, never sooner.
    let dialled = Instant::now();
    dial(&sip, 13, "+442079460003", Duration::from_secs(15));
    let (silent, _) = ended(&mut events, CallKey(13), Duration::from_secs(25), &trunk).await;
    assert!(
        dialled.elapsed() >= Duration::from_secs(15),
        "cancelled after {:?}",
        dialled.elapsed()
    );
    assert_eq!((silent.by, silent.answered), (EndedBy::GaveUp, false));

    caller_leaves(&sip, &mut events, &trunk).await;
    assert_eq!(media.stats().legs_open, 0, "every leg's port is freed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_trunk_is_reported_not_waited_on_forever() {
    if !sipp::sipp_or_skip("an_unreachable_trunk_is_reported_not_waited_on_forever") {
        return;
    }
    let closed_port = sipp::free_udp_port();
    let (sip, _media, mut events) = adapter(closed_port, None).await;
    sip.send(Command::RingCaller {
        session: SessionKey(7),
        number: VOLUNTEER.to_string(),
        caller_id: CALLER_ID.to_string(),
    });
    let event = tokio::time::timeout(Duration::from_secs(40), events.recv())
        .await
        .unwrap()
        .unwrap();
    match event {
        Event::CallerLeft(SessionKey(7), ending) => {
            assert_eq!(ending.by, EndedBy::Network, "{ending:?}");
            assert!(ending.cause.contains("trunk"), "{}", ending.cause);
        }
        other => panic!("expected the caller's leg to fail, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dial_in_line_is_asked_again_after_a_wrong_pin_then_admitted() {
    if !sipp::sipp_or_skip("a_dial_in_line_is_asked_again_after_a_wrong_pin_then_admitted") {
        return;
    }
    let trunk = Sipp::trunk(&[], 1);
    let (sip, _media, mut events) = adapter(trunk.port, Some("+441134960000")).await;
    let steps = [
        Step::Pause(Duration::from_millis(1000)),
        Step::Press('1'),
        Step::Press('2'),
        Step::Press('#'),
        Step::Pause(Duration::from_millis(1000)),
        Step::Press('3'),
        Step::Press('4'),
        Step::Press('#'),
        Step::Pause(Duration::from_millis(1000)),
        Step::Press('7'),
        Step::Pause(Duration::from_millis(1000)),
    ];
    let mut phone = Sipp::dial_in(sip.sip_port(), "+441134960000", &steps);
    let s = Duration::from_secs(10);
    let Event::LinePin(line, pin) = next(&mut events, s, &trunk).await else {
        panic!("expected a PIN");
    };
    assert_eq!(pin, "12");
    sip.send(Command::RefuseLine { line });
    assert_eq!(
        next(&mut events, s, &trunk).await,
        Event::LinePin(line, "34".to_string())
    );
    sip.send(Command::AdmitLine {
        line,
        session: SessionKey(3),
    });
    assert_eq!(
        next(&mut events, s, &trunk).await,
        Event::CallerJoined(SessionKey(3))
    );
    assert_eq!(
        next(&mut events, s, &trunk).await,
        Event::Digit(SessionKey(3), '7')
    );
    match next(&mut events, s, &trunk).await {
        Event::CallerLeft(SessionKey(3), ending) => {
            assert_eq!(ending.by, EndedBy::Remote, "{ending:?}")
        }
        other => panic!("expected the caller to hang up, got {other:?}"),
    }
    assert!(
        phone.succeeded(s),
        "the dial-in call went wrong:\n{}",
        phone.messages()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_the_trunk_refuses_are_answered_then_reported() {
    if !sipp::sipp_or_skip("credentials_the_trunk_refuses_are_answered_then_reported") {
        return;
    }
    let mut trunk = Sipp::refusing_trunk(1);
    let (sip, _media, mut events) =
        adapter_on(&format!("sip:alice:wrong@127.0.0.1:{}", trunk.port), None).await;
    sip.send(Command::RingCaller {
        session: SessionKey(9),
        number: VOLUNTEER.to_string(),
        caller_id: CALLER_ID.to_string(),
    });
    match next(&mut events, Duration::from_secs(10), &trunk).await {
        Event::CallerLeft(SessionKey(9), ending) => {
            assert_eq!(
                (ending.by, ending.sip_status),
                (EndedBy::Network, Some(403)),
                "{ending:?}"
            );
            assert!(
                ending.cause.contains("check the credentials"),
                "{}",
                ending.cause
            );
        }
        other => panic!("expected the refusal, got {other:?}"),
    }
    assert!(
        trunk.succeeded(Duration::from_secs(10)),
        "no digest answer to the challenge:\n{}",
        trunk.messages()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_registers_with_the_trunk_using_its_credentials() {
    if !sipp::sipp_or_skip("a_node_registers_with_the_trunk_using_its_credentials") {
        return;
    }
    let mut registrar = Sipp::registrar();
    let trunk = format!("sip:alice:secret@127.0.0.1:{}", registrar.port);
    let (_sip, _media, _events) = adapter_with(&trunk, None, true).await;
    assert!(
        registrar.succeeded(Duration::from_secs(10)),
        "the node did not register with its credentials:\n{}",
        registrar.messages()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_audio_stops_is_dropped_and_the_caller_stays_on() {
    if !sipp::sipp_or_skip("a_call_whose_audio_stops_is_dropped_and_the_caller_stays_on") {
        return;
    }
    let steps = [Step::Talk, Step::Pause(Duration::from_secs(45))];
    let trunk = Sipp::trunk(&steps, 2);
    let (sip, _media, mut events) = adapter(trunk.port, None).await;
    caller_joins(&sip, &mut events, &trunk).await;
    dial(&sip, 20, "+442079460007", Duration::from_secs(20));
    let answered = Instant::now();
    let (dropped, _) = ended(&mut events, CallKey(20), Duration::from_secs(40), &trunk).await;
    assert_eq!(
        (dropped.by, dropped.answered),
        (EndedBy::Network, true),
        "{dropped:?}"
    );
    assert!(dropped.cause.contains("no audio"), "{}", dropped.cause);
    assert!(
        answered.elapsed() >= Duration::from_secs(30),
        "dropped after {:?}",
        answered.elapsed()
    );
    caller_leaves(&sip, &mut events, &trunk).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_timers_are_refreshed_when_barnstorm_refreshes_and_a_silent_refresher_is_hung_up() {
    if !sipp::sipp_or_skip("session_timers_are_refreshed_when_barnstorm_refreshes") {
        return;
    }
    let steps = [Step::Talk, Step::Pause(Duration::from_secs(30))];
    let mut trunk = Sipp::trunk(&steps, 4);
    let (sip, _media, mut events) = adapter(trunk.port, None).await;
    caller_joins(&sip, &mut events, &trunk).await;

    // The trunk sets a 4 s timer for Barnstorm to refresh, and fails the call if a
    // refresh is late; it re-INVITEs once itself, and hangs up after a second refresh.
    dial(&sip, 30, "+442079460008", Duration::from_secs(20));
    let (refreshed, _) = ended(&mut events, CallKey(30), Duration::from_secs(15), &trunk).await;
    assert_eq!(
        (refreshed.by, refreshed.answered),
        (EndedBy::Remote, true),
        "{refreshed:?}; SIPp said:\n{}",
        trunk.messages()
    );

    // The trunk is the refresher and never refreshes: Barnstorm ends the call before the
    // session would expire, and the caller stays on.
    dial(&sip, 31, "+442079460000", Duration::from_secs(20));
    let dialled = Instant::now();
    let (lapsed, _) = ended(&mut events, CallKey(31), Duration::from_secs(10), &trunk).await;
    assert_eq!(
        (lapsed.by, lapsed.answered),
        (EndedBy::Network, true),
        "{lapsed:?}"
    );
    assert!(lapsed.cause.contains("refreshing"), "{}", lapsed.cause);
    assert!(
        dialled.elapsed() < Duration::from_secs(6),
        "hung up after {:?}",
        dialled.elapsed()
    );

    // Barnstorm is the refresher and the trunk never answers its refresh: the call ends
    // when the session expires, not after SIP's 32 s.
    dial(&sip, 32, "+442079460020", Duration::from_secs(20));
    let dialled = Instant::now();
    let (unrefreshed, _) = ended(&mut events, CallKey(32), Duration::from_secs(12), &trunk).await;
    assert_eq!(
        (unrefreshed.by, unrefreshed.answered),
        (EndedBy::Network, true),
        "{unrefreshed:?}"
    );
    assert!(
        unrefreshed.cause.contains("accepted none"),
        "{}",
        unrefreshed.cause
    );
    assert!(
        dialled.elapsed() < Duration::from_secs(8),
        "hung up after {:?}",
        dialled.elapsed()
    );

    caller_leaves(&sip, &mut events, &trunk).await;
    assert!(
        trunk.succeeded(Duration::from_secs(10)),
        "SIPp saw a call go other than as its scenario says:\n{}",
        trunk.messages()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunk_over_tcp_carries_the_callers_line_and_a_bridged_call() {
    if !sipp::sipp_or_skip("a_trunk_over_tcp_carries_the_callers_line_and_a_bridged_call") {
        return;
    }
    let steps = [Step::Talk, Step::Pause(Duration::from_secs(20))];
    let mut trunk = Sipp::trunk_over_tcp(&steps, 2);
    let (sip, media, mut events) =
        adapter_on(&format!("sip:127.0.0.1:{};transport=tcp", trunk.port), None).await;
    caller_joins(&sip, &mut events, &trunk).await;
    // A contact who answers after 1 s and hangs up (a BYE over the connection) 2 s later.
    dial(&sip, 40, "+442079460005", Duration::from_secs(20));
    let (ending, seen) = ended(&mut events, CallKey(40), Duration::from_secs(10), &trunk).await;
    assert_eq!(
        seen,
        [Event::Ringing(CallKey(40)), Event::Answered(CallKey(40))]
    );
    assert_eq!(
        (ending.by, ending.answered),
        (EndedBy::Remote, true),
        "{ending:?}"
    );
    assert!(
        media.stats().packets_received > 0,
        "the caller's audio arrived"
    );

    caller_leaves(&sip, &mut events, &trunk).await;
    assert!(
        trunk.succeeded(Duration::from_secs(10)),
        "SIPp saw a call go other than as its scenario says:\n{}",
        trunk.messages()
    );
}
