//! What a bridged call's ending says about its outcome: the outcome Barnstorm proposes to
//! the volunteer from the SIP final status, whether the contact answered and how long it
//! rang. Only a proposal: the volunteer confirms or changes it, and recording it is the
//! queue's job. It knows nothing of SIP messages, only the numbers the adapter reports.

use crate::outcome::{OutcomeEffect, OutcomeSet};

/// The shortest ring before a call may be given up as unanswered, in milliseconds. Ofcom
/// expects a call to ring for at least 15 seconds before it is abandoned.
pub const MIN_RING_MS: i64 = 15_000;

/// How a bridged call to a contact ended, as the telephony adapter saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallEnding {
    /// Whether the contact picked up (a 200 OK to the INVITE).
    pub answered: bool,
    /// How long it rang (from the first ringing response to answer or give-up), in
    /// milliseconds.
    pub rang_ms: i64,
    /// The final SIP status of the INVITE, when the call failed with one.
    pub sip_status: Option<u16>,
}

/// The outcome key proposed for a call that ended as `end` described, from `outcomes`:
/// busy (486, 600) proposes the outcome keyed `busy`; a number that does not exist (404,
/// 484, 410, 604) the first outcome with the wrong-number effect; a call that rang at least
/// [`MIN_RING_MS`] unanswered (or ended 408, 480 or 487 after that long) the outcome keyed
/// `no_answer`. An answered call proposes nothing: only the volunteer knows how it went.
/// `None` also when the campaign has no such outcome.
pub fn propose(end: &CallEnding, outcomes: &OutcomeSet) -> Option<String> {
    if end.answered {
        return None;
    }
    let keyed = |key: &str| outcomes.get(key).map(|o| o.key.clone());
    match end.sip_status {
        Some(486 | 600) => keyed("busy"),
        Some(404 | 484 | 410 | 604) => outcomes
            .iter()
            .find(|o| o.effect == OutcomeEffect::WrongNumber)
            .map(|o| o.key.clone()),
        None | Some(408 | 480 | 487) if end.rang_ms >= MIN_RING_MS => keyed("no_answer"),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::outcome::Outcome;

    fn ended(sip_status: Option<u16>, rang_ms: i64) -> CallEnding {
        CallEnding {
            answered: false,
            rang_ms,
            sip_status,
        }
    }

    #[test]
    fn busy_lines_propose_busy() {
        let set = OutcomeSet::default_uk();
        assert_eq!(
            propose(&ended(Some(486), 2_000), &set).as_deref(),
            Some("busy")
        );
        assert_eq!(propose(&ended(Some(600), 0), &set).as_deref(), Some("busy"));
    }

    #[test]
    fn numbers_that_do_not_exist_propose_the_wrong_number_outcome() {
        for status in [404, 484, 410, 604] {
            assert_eq!(
                propose(&ended(Some(status), 0), &OutcomeSet::default_uk()).as_deref(),
                Some("wrong_number"),
                "status {status}"
            );
        }
    }

    #[test]
    fn the_wrong_number_outcome_is_found_by_its_effect_not_its_key() {
        let mut outcomes: Vec<Outcome> = OutcomeSet::default_uk().iter().cloned().collect();
        for outcome in &mut outcomes {
            if outcome.key == "wrong_number" {
                outcome.key = "bad_number".into();
            }
        }
        let set = OutcomeSet::new(outcomes).unwrap();
        assert_eq!(
            propose(&ended(Some(404), 0), &set).as_deref(),
            Some("bad_number")
        );
    }

    #[test]
    fn no_answer_needs_fifteen_seconds_of_ringing() {
        let set = OutcomeSet::default_uk();
        assert_eq!(propose(&ended(None, MIN_RING_MS - 1), &set), None);
        assert_eq!(
            propose(&ended(None, MIN_RING_MS), &set).as_deref(),
            Some("no_answer")
        );
        for status in [408, 480, 487] {
            assert_eq!(
                propose(&ended(Some(status), 20_000), &set).as_deref(),
                Some("no_answer"),
                "status {status}"
            );
            assert_eq!(propose(&ended(Some(status), 5_000), &set), None);
        }
    }

    #[test]
    fn answered_calls_and_other_failures_propose_nothing() {
        let set = OutcomeSet::default_uk();
        let answered = CallEnding {
            answered: true,
            rang_ms: 30_000,
            sip_status: None,
        };
        assert_eq!(propose(&answered, &set), None);
        assert_eq!(propose(&ended(Some(503), 30_000), &set), None);
        assert_eq!(propose(&ended(Some(488), 0), &set), None);
    }

    #[test]
    fn a_campaign_without_the_outcome_gets_no_proposal() {
        let outcomes: Vec<Outcome> = OutcomeSet::default_uk()
            .iter()
            .filter(|o| !matches!(o.key.as_str(), "busy" | "no_answer" | "wrong_number"))
            .cloned()
            .collect();
        let set = OutcomeSet::new(outcomes).unwrap();
        assert_eq!(propose(&ended(Some(486), 0), &set), None);
        assert_eq!(propose(&ended(Some(404), 0), &set), None);
        assert_eq!(propose(&ended(None, 20_000), &set), None);
    }
}
