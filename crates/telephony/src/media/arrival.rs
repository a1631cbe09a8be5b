//! Counting what a leg receives: packets missing from the sequence (lost) and packets that
//! arrive after a later one (late: reordered or duplicated), per RFC 3550's rules for a new
//! source and for a jump too large to be loss. Pure state; no clock, no socket.

/// Jumps larger than this are taken as the source restarting, not as lost packets (RFC 3550
/// appendix A.1's MAX_DROPOUT).
const MAX_DROPOUT: u16 = 3000;

/// How one packet fits the stream so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Arrival {
    /// Newer than every packet before it; `lost` packets were skipped.
    InOrder {
        /// How many sequence numbers were skipped.
        lost: u16,
    },
    /// Not newer than the newest packet already received.
    Late,
}

#[derive(Debug, Default)]
pub(super) struct ArrivalTracker {
    newest: Option<(u32, u16)>,
}

impl ArrivalTracker {
    pub(super) fn observe(&mut self, ssrc: u32, sequence: u16) -> Arrival {
        let Some((known_ssrc, newest)) = self.newest.filter(|(known, _)| *known == ssrc) else {
            self.newest = Some((ssrc, sequence));
            return Arrival::InOrder { lost: 0 };
        };
        debug_assert_eq!(known_ssrc, ssrc);
        let ahead = sequence.wrapping_sub(newest);
        if ahead == 0 || ahead > u16::MAX / 2 {
            return Arrival::Late;
        }
        self.newest = Some((ssrc, sequence));
        let lost = if ahead > MAX_DROPOUT { 0 } else { ahead - 1 };
        Arrival::InOrder { lost }
    }
}

/// A packet that waited this long in its socket before the relay read it would miss a
/// phone's smallest jitter buffer (one packet interval): it counts as delayed.
pub(super) const DELAYED_AFTER: std::time::Duration = std::time::Duration::from_millis(20);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_reordering_wrap_and_restarts() {
        let mut tracker = ArrivalTracker::default();
        let seen: Vec<Arrival> = [
            (1, 65_534),
            (1, 65_535),
            (1, 2),
            (1, 1),
            (1, 2),
            (1, 9000),
            (2, 5),
        ]
        .into_iter()
        .map(|(ssrc, sequence)| tracker.observe(ssrc, sequence))
        .collect();
        use Arrival::{InOrder, Late};
        assert_eq!(
            seen,
            [
                InOrder { lost: 0 },
                InOrder { lost: 0 },
                InOrder { lost: 2 },
                Late,
                Late,
                InOrder { lost: 0 },
                InOrder { lost: 0 }
            ]
        );
    }
}
