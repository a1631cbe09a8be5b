//! Session timers (RFC 4028): a call's INVITE offers them, the answer or the far end's
//! refresh settles the interval and who refreshes, and a leg either refreshes in time
//! (a re-INVITE at half the interval) or, when the far end is the refresher and goes
//! quiet, ends the call before the session expires.

use rsipstack::sip::Header;
use std::time::Duration;
use tokio::time::Instant;

/// The interval Barnstorm asks for on its own calls (RFC 4028's recommended 30 minutes).
pub(crate) const OFFERED_SECS: u64 = 1800;
/// The shortest interval Barnstorm asks the far end to accept (RFC 4028's minimum).
const MIN_SE_SECS: u64 = 90;

/// Which side of the dialog sends the refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refresher {
    /// Barnstorm.
    Us,
    /// The phone or the trunk.
    Them,
}

/// Barnstorm's role in the request that set the timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Uac,
    Uas,
}

/// A running session timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionTimer {
    pub interval: Duration,
    pub refresher: Refresher,
    /// When the session ends unless it is refreshed.
    pub expires_at: Instant,
    /// When the leg must act next.
    due_at: Instant,
}

/// What the leg should do when the timer's deadline passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    /// Send a refresh.
    Refresh,
    /// The far end did not refresh in time: end the call.
    Expired,
}

/// What the headers of one message say about timers.
struct Seen {
    interval: u64,
    refresher: Option<Role>,
    supported: bool,
}

fn seen(headers: &[Header]) -> Option<Seen> {
    let mut value = None;
    let mut supported = false;
    for header in headers {
        match header {
            Header::SessionExpires(expires) => value = Some(expires.value().to_string()),
            Header::Supported(tags) => supported |= lists_timer(tags.value()),
            Header::Require(tags) => supported |= lists_timer(tags.value()),
            Header::Other(name, text) if name.eq_ignore_ascii_case("x") => {
                value = Some(text.clone());
            }
            _ => {}
        }
    }
    let value = value?;
    let mut parts = value.split(';');
    let interval = parts.next()?.trim().parse::<u64>().ok()?;
    let refresher = parts.find_map(|param| {
        let (name, side) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("refresher") {
            return None;
        }
        match side.trim().to_ascii_lowercase().as_str() {
            "uac" => Some(Role::Uac),
            "uas" => Some(Role::Uas),
            _ => None,
        }
    });
    (interval > 0).then_some(Seen {
        interval,
        refresher,
        supported,
    })
}

/// Whether an option-tag list (`Supported:`, `Require:`) names `timer`.
fn lists_timer(tags: &str) -> bool {
    tags.split(',')
        .any(|tag| tag.trim().eq_ignore_ascii_case("timer"))
}

/// The headers on an INVITE Barnstorm sends: timers are supported, and the far end may
/// choose who refreshes.
pub(crate) fn offer() -> Vec<Header> {
    vec![
        Header::Supported("timer".into()),
        Header::SessionExpires(OFFERED_SECS.to_string().into()),
        Header::MinSE(MIN_SE_SECS.to_string().into()),
    ]
}

impl SessionTimer {
    fn new(interval: u64, refresher: Refresher) -> Self {
        let interval = Duration::from_secs(interval);
        let now = Instant::now();
        let due_at = match refresher {
            Refresher::Us => now + interval / 2,
            Refresher::Them => now + interval - (interval / 3).min(Duration::from_secs(32)),
        };
        Self {
            interval,
            refresher,
            expires_at: now + interval,
            due_at,
        }
    }

    /// The timer a 2xx to Barnstorm's own INVITE or re-INVITE sets, if it sets one (a 2xx
    /// without Session-Expires turns timers off, RFC 4028 §7.2).
    pub(crate) fn from_answer(headers: &[Header]) -> Option<Self> {
        let seen = seen(headers)?;
        let refresher = match seen.refresher {
            Some(Role::Uas) => Refresher::Them,
            Some(Role::Uac) | None => Refresher::Us,
        };
        Some(Self::new(seen.interval, refresher))
    }

    /// The timer a request from the far end (an INVITE to the dial-in number, or a
    /// refresh) asks for, with the headers Barnstorm's 2xx must carry. A far end that
    /// supports timers refreshes unless it asked Barnstorm to; one that does not (a proxy
    /// on the way added the header) leaves the refreshing to Barnstorm (RFC 4028 §9).
    pub(crate) fn from_request(headers: &[Header]) -> Option<(Self, Vec<Header>)> {
        let seen = seen(headers)?;
        let (refresher, side) = match (seen.supported, seen.refresher) {
            (true, Some(Role::Uac) | None) => (Refresher::Them, "uac"),
            _ => (Refresher::Us, "uas"),
        };
        let mut answer = vec![Header::SessionExpires(
            format!("{};refresher={side}", seen.interval).into(),
        )];
        if refresher == Refresher::Them {
            answer.push(Header::Require("timer".into()));
        }
        Some((Self::new(seen.interval, refresher), answer))
    }

    /// The headers of a refresh Barnstorm sends: the same interval, Barnstorm refreshing.
    pub(crate) fn refresh_headers(&self) -> Vec<Header> {
        vec![
            Header::Supported("timer".into()),
            Header::SessionExpires(format!("{};refresher=uac", self.interval.as_secs()).into()),
        ]
    }

    /// When the leg must act next, and what it must do then: refresh at half the interval
    /// (RFC 4028 §10), or give up on a silent refresher a third of the interval (at most
    /// 32 s) before the session would expire.
    pub(crate) fn next(&self) -> (Instant, Due) {
        let due = match self.refresher {
            Refresher::Us => Due::Refresh,
            Refresher::Them => Due::Expired,
        };
        (self.due_at, due)
    }

    /// After a refresh that failed without ending the dialog (a 491 or a 500), tries again
    /// halfway to expiry; `None` when less than a second is left.
    pub(crate) fn retry(&mut self) -> Option<()> {
        let left = self.expires_at.saturating_duration_since(Instant::now());
        if left < Duration::from_secs(1) {
            return None;
        }
        self.due_at = Instant::now() + left / 2;
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seconds from now to `at`, rounded (the test takes well under half a second).
    fn whole_secs(at: Instant) -> u64 {
        (at - Instant::now()).as_secs_f64().round() as u64
    }

    fn header(name: &str, value: &str) -> Header {
        match name {
            "Session-Expires" => Header::SessionExpires(value.into()),
            "Supported" => Header::Supported(value.into()),
            _ => Header::Other(name.to_string(), value.to_string()),
        }
    }

    #[test]
    fn an_answer_that_makes_barnstorm_the_refresher_is_refreshed_at_half_time() {
        let timer =
            SessionTimer::from_answer(&[header("Session-Expires", "90;refresher=uac")]).unwrap();
        assert_eq!(timer.refresher, Refresher::Us);
        let (at, due) = timer.next();
        assert_eq!(due, Due::Refresh);
        assert_eq!(whole_secs(at), 45);
    }

    #[test]
    fn a_far_end_refresher_that_goes_quiet_is_given_up_before_expiry() {
        let timer =
            SessionTimer::from_answer(&[header("Session-Expires", "1800; Refresher=UAS")]).unwrap();
        assert_eq!(timer.refresher, Refresher::Them);
        let (at, due) = timer.next();
        assert_eq!(due, Due::Expired);
        assert_eq!(whole_secs(at), 1800 - 32);
        assert!(SessionTimer::from_answer(&[header("Supported", "timer")]).is_none());
        assert!(SessionTimer::from_answer(&[header("Session-Expires", "soon")]).is_none());
    }

    #[test]
    fn a_request_from_a_phone_that_supports_timers_leaves_the_refreshing_to_it() {
        let (timer, answer) =
            SessionTimer::from_request(&[header("Supported", "100rel, timer"), header("x", "600")])
                .unwrap();
        assert_eq!(timer.refresher, Refresher::Them);
        assert_eq!(answer[0].to_string(), "Session-Expires: 600;refresher=uac");
        assert_eq!(answer[1].to_string(), "Require: timer");

        let (timer, answer) =
            SessionTimer::from_request(&[header("Session-Expires", "600;refresher=uac")]).unwrap();
        assert_eq!(timer.refresher, Refresher::Us, "the phone cannot refresh");
        assert_eq!(answer.len(), 1);
        assert_eq!(answer[0].to_string(), "Session-Expires: 600;refresher=uas");
    }
}
