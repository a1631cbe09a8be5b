//! How a SIP call ended, in the words a caller and an organiser read: the final status,
//! who ended it and one line of cause ("busy (486)", "the trunk refused Barnstorm's
//! credentials (401)", "no answer after 25 s").

use crate::{EndedBy, Ending};
use rsipstack::dialog::dialog::TerminatedReason;

/// A call refused or failed with a final status before it was answered.
pub(crate) fn refused(status: u16) -> Ending {
    let cause = match status {
        486 | 600 => "busy".to_string(),
        404 | 410 | 484 | 604 => "the number is not in service".to_string(),
        401 | 407 => "the trunk refused Barnstorm's credentials".to_string(),
        403 => "the trunk refused the call; check the credentials and the caller ID".to_string(),
        408 | 480 => "no answer".to_string(),
        487 => "cancelled".to_string(),
        488 | 606 => "the other side accepts neither G.711 µ-law nor A-law".to_string(),
        603 => "declined".to_string(),
        500..=599 => "the trunk failed".to_string(),
        _ => "the call was refused".to_string(),
    };
    let by = if (500..600).contains(&status) || matches!(status, 401 | 403 | 407) {
        EndedBy::Network
    } else {
        EndedBy::Remote
    };
    Ending {
        by,
        sip_status: Some(status),
        answered: false,
        cause: format!("{cause} ({status})"),
    }
}

/// A call that never got a final status from the trunk.
pub(crate) fn unreachable(reason: &str) -> Ending {
    Ending {
        by: EndedBy::Network,
        sip_status: None,
        answered: false,
        cause: format!("the trunk could not be reached: {reason}"),
    }
}

/// Barnstorm gave up ringing.
pub(crate) fn no_answer(rang_for: std::time::Duration) -> Ending {
    Ending {
        by: EndedBy::GaveUp,
        sip_status: Some(487),
        answered: false,
        cause: format!("no answer after {} s", rang_for.as_secs()),
    }
}

/// Barnstorm ended the leg (a hang-up from the caller page or keypad, or the session ending).
pub(crate) fn hung_up_here(answered: bool) -> Ending {
    Ending {
        by: EndedBy::Local,
        sip_status: (!answered).then_some(487),
        answered,
        cause: if answered {
            "hung up".to_string()
        } else {
            "cancelled before answer".to_string()
        },
    }
}

/// The dialog ended for `reason` (after or before an answer).
pub(crate) fn terminated(reason: &TerminatedReason, answered: bool) -> Ending {
    match reason {
        TerminatedReason::UasBye | TerminatedReason::UacBye => Ending {
            by: EndedBy::Remote,
            sip_status: None,
            answered,
            cause: "the other side hung up".to_string(),
        },
        TerminatedReason::UasBusy | TerminatedReason::UacBusy => refused(486),
        TerminatedReason::UasDecline => refused(603),
        TerminatedReason::UacCancel => hung_up_here(answered),
        TerminatedReason::ProxyAuthRequired => refused(407),
        TerminatedReason::ProxyError(status)
        | TerminatedReason::UacOther(status)
        | TerminatedReason::UasOther(status) => {
            let mut ending = refused(status.code());
            ending.answered = answered;
            ending
        }
        TerminatedReason::Timeout => Ending {
            by: EndedBy::Network,
            sip_status: None,
            answered,
            cause: "the network stopped answering".to_string(),
        },
    }
}

/// Audio stopped arriving on an answered call.
pub(crate) fn audio_stopped(seconds: u64) -> Ending {
    Ending {
        by: EndedBy::Network,
        sip_status: None,
        answered: true,
        cause: format!("no audio from the network for {seconds} s; the call was dropped"),
    }
}

/// The session timer ran out: the far end, which was to refresh the session, did not
/// (`ours` false), or none of Barnstorm's refreshes was accepted (`ours` true).
pub(crate) fn session_expired(ours: bool) -> Ending {
    let what = if ours {
        "the network accepted none of Barnstorm's refreshes of the call's session"
    } else {
        "the network stopped refreshing the call's session"
    };
    Ending {
        by: EndedBy::Network,
        sip_status: None,
        answered: true,
        cause: format!("{what}; the call was ended"),
    }
}

/// Barnstorm's refresh of the session was answered with `status` (481, 408): the far end
/// no longer knows the call.
pub(crate) fn refresh_refused(status: u16) -> Ending {
    Ending {
        by: EndedBy::Network,
        sip_status: Some(status),
        answered: true,
        cause: format!("the network no longer knows the call ({status}); the call was ended"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_as_people_say_them() {
        assert_eq!(refused(486).cause, "busy (486)");
        assert_eq!(refused(404).cause, "the number is not in service (404)");
        assert_eq!(refused(401).by, EndedBy::Network);
        assert_eq!(refused(486).by, EndedBy::Remote);
        assert!(refused(488).cause.contains("G.711"));
        assert_eq!(
            no_answer(std::time::Duration::from_secs(25)).cause,
            "no answer after 25 s"
        );
    }
}
