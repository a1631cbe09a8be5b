//! What a leg sends: one SSRC for the whole call and sequence numbers and timestamps that
//! run on across changes of source (a prompt, a bridged contact, the next contact), so the
//! phone's jitter buffer never sees a new stream. Within one source the source's own spacing
//! is kept, gaps and reordering included; at a change the timestamp jumps by the time that
//! passed and the marker bit is set. Pure state; the clock is passed in.

use std::time::Instant;

use super::audio::SAMPLE_RATE;

/// Where a run of outgoing packets comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// Relayed from the bridged leg `leg`, whose remote party sends as `ssrc`.
    Peer {
        /// The bridged leg's id.
        leg: u64,
        /// The SSRC its remote party sends with.
        ssrc: u32,
    },
    /// A prompt played into this leg.
    Playback(u64),
}

/// A packet as its source numbered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SourcePacket {
    pub(super) source: Source,
    pub(super) sequence: u16,
    pub(super) timestamp: u32,
    pub(super) samples: u32,
    pub(super) marker: bool,
}

/// The header fields for one outgoing packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp {
    pub(super) sequence: u16,
    pub(super) timestamp: u32,
    pub(super) marker: bool,
}

#[derive(Debug, Clone, Copy)]
struct Run {
    source: Source,
    sequence_offset: u16,
    timestamp_offset: u32,
}

#[derive(Debug, Clone, Copy)]
struct Newest {
    timestamp: u32,
    samples: u32,
    at: Instant,
}

#[derive(Debug)]
pub(super) struct OutgoingStream {
    ssrc: u32,
    run: Option<Run>,
    next_sequence: u16,
    next_timestamp: u32,
    newest: Option<Newest>,
}

impl OutgoingStream {
    /// A stream with this SSRC starting at these (random, per RFC 3550) values.
    pub(super) fn new(ssrc: u32, first_sequence: u16, first_timestamp: u32) -> OutgoingStream {
        OutgoingStream {
            ssrc,
            run: None,
            next_sequence: first_sequence,
            next_timestamp: first_timestamp,
            newest: None,
        }
    }

    pub(super) fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Stamps a packet for this stream, sent at `now`.
    pub(super) fn stamp(&mut self, packet: SourcePacket, now: Instant) -> Stamp {
        let SourcePacket {
            source,
            sequence,
            timestamp,
            samples,
            marker,
        } = packet;
        let run = match self.run {
            Some(run) if run.source == source => run,
            _ => self.start_run(source, sequence, timestamp, now),
        };
        let starts_run = self.run.is_none_or(|current| current.source != source);
        self.run = Some(run);
        let stamp = Stamp {
            sequence: sequence.wrapping_add(run.sequence_offset),
            timestamp: timestamp.wrapping_add(run.timestamp_offset),
            marker: marker || starts_run,
        };
        if is_newer(stamp.sequence, self.next_sequence.wrapping_sub(1)) || self.newest.is_none() {
            self.next_sequence = stamp.sequence.wrapping_add(1);
            self.newest = Some(Newest {
                timestamp: stamp.timestamp,
                samples,
                at: now,
            });
        }
        stamp
    }

    fn start_run(&self, source: Source, sequence: u16, timestamp: u32, now: Instant) -> Run {
        let first_timestamp = match self.newest {
            None => self.next_timestamp,
            Some(newest) => {
                let elapsed = now.saturating_duration_since(newest.at);
                let elapsed_samples =
                    (elapsed.as_micros() * u128::from(SAMPLE_RATE) / 1_000_000) as u32;
                newest
                    .timestamp
                    .wrapping_add(newest.samples.max(elapsed_samples))
            }
        };
        Run {
            source,
            sequence_offset: self.next_sequence.wrapping_sub(sequence),
            timestamp_offset: first_timestamp.wrapping_sub(timestamp),
        }
    }
}

fn is_newer(sequence: u16, than: u16) -> bool {
    let ahead = sequence.wrapping_sub(than);
    ahead != 0 && ahead < u16::MAX / 2
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn numbering_runs_on_across_sources() {
        let start = Instant::now();
        let mut stream = OutgoingStream::new(7, 65_535, 1000);
        let prompt = Source::Playback(1);
        let contact = Source::Peer { leg: 2, ssrc: 99 };
        let packet = |source, sequence, timestamp| SourcePacket {
            source,
            sequence,
            timestamp,
            samples: 160,
            marker: false,
        };
        let first = stream.stamp(packet(prompt, 0, 0), start);
        let second = stream.stamp(packet(prompt, 1, 160), start + Duration::from_millis(20));
        assert_eq!(
            (first.sequence, first.timestamp, first.marker),
            (65_535, 1000, true)
        );
        assert_eq!(
            (second.sequence, second.timestamp, second.marker),
            (0, 1160, false)
        );
        // The contact starts a second later with its own numbering.
        let later = start + Duration::from_millis(1020);
        let third = stream.stamp(packet(contact, 4000, 90_000), later);
        assert_eq!(
            (third.sequence, third.timestamp, third.marker),
            (1, 1160 + 8000, true)
        );
        // A gap and a reordered packet from the contact are passed on as they are.
        let fifth = stream.stamp(packet(contact, 4002, 90_320), later);
        let fourth = stream.stamp(packet(contact, 4001, 90_160), later);
        assert_eq!((fourth.sequence, fifth.sequence), (2, 3));
        assert_eq!(fifth.timestamp - fourth.timestamp, 160);
        // Straight back to a prompt: numbering continues after the newest packet.
        let next = stream.stamp(packet(Source::Playback(3), 0, 0), later);
        assert_eq!((next.sequence, next.timestamp), (4, fifth.timestamp + 160));
        assert_eq!(stream.ssrc(), 7);
    }
}
