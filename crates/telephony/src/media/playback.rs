//! Playing audio into a leg: one 20 ms packet (160 samples) every 20 ms from a task of its
//! own, the last one padded with silence, until the audio ends or something else takes the
//! leg (a bridge, another prompt, `stop`, close). It does not choose what to play.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{MissedTickBehavior, interval};

use super::Audio;
use super::leg::LegShared;

/// Samples in one packet: 20 ms at 8 kHz.
const SAMPLES_PER_PACKET: usize = 160;
const PACKET_INTERVAL: Duration = Duration::from_millis(20);

/// How a playback ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaybackEnd {
    /// All of the audio was sent.
    Completed,
    /// It was cut short: `stop`, a bridge, another prompt or the leg closing.
    Stopped,
}

/// A prompt playing into a leg.
pub struct Playback {
    leg: Weak<LegShared>,
    id: u64,
    end: watch::Receiver<Option<PlaybackEnd>>,
}

impl Playback {
    /// Waits until the playback ends, and says how.
    pub async fn finished(&self) -> PlaybackEnd {
        let mut end = self.end.clone();
        match end.wait_for(Option::is_some).await {
            Ok(value) => value.unwrap_or(PlaybackEnd::Stopped),
            Err(_) => PlaybackEnd::Stopped,
        }
    }

    /// Stops the playback now; the leg goes back to the bridged audio, or to silence.
    pub fn stop(&self) {
        if let Some(leg) = self.leg.upgrade() {
            leg.end_playback(self.id);
        }
    }
}

pub(super) fn start(leg: &Arc<LegShared>, id: u64, audio: Audio) -> Playback {
    let (done, end) = watch::channel(None);
    leg.runtime().spawn(play(Arc::clone(leg), id, audio, done));
    Playback {
        leg: Arc::downgrade(leg),
        id,
        end,
    }
}

async fn play(
    leg: Arc<LegShared>,
    id: u64,
    audio: Audio,
    done: watch::Sender<Option<PlaybackEnd>>,
) {
    let mut ticks = interval(PACKET_INTERVAL);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut end = PlaybackEnd::Completed;
    for (index, chunk) in audio.samples().chunks(SAMPLES_PER_PACKET).enumerate() {
        ticks.tick().await;
        let mut packet = [0xff; SAMPLES_PER_PACKET];
        packet[..chunk.len()].copy_from_slice(chunk);
        if !leg.send_prompt_chunk(id, index as u32, &packet) {
            end = PlaybackEnd::Stopped;
            break;
        }
    }
    if end == PlaybackEnd::Completed {
        // The last packet is still playing at the phone.
        ticks.tick().await;
        leg.end_playback(id);
    }
    drop(leg);
    done.send_replace(Some(end));
}
