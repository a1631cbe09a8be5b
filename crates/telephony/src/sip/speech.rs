//! Saying things to a caller: prompts by name (the operator's recordings or the built-in
//! set) and words for the synthesiser, joined and played into the caller's leg. A new
//! `Say` replaces what is being said; [`Event::SaidAll`] follows only when it finished.

use super::Shared;
use crate::media::{Audio, PlaybackEnd, Prompts, speak};
use crate::{Event, SessionKey, Speech};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Plays `speech` to the caller of `session`.
pub(crate) fn say(shared: Arc<Shared>, session: SessionKey, speech: Vec<Speech>) {
    let Some(generation) = shared.sessions.lock().ok().and_then(|sessions| {
        sessions
            .get(&session)
            .map(|line| line.said.fetch_add(1, Ordering::Relaxed) + 1)
    }) else {
        return;
    };
    tokio::spawn(async move {
        let audio = resolve(&shared.prompts, speech).await;
        let playback = {
            let Ok(sessions) = shared.sessions.lock() else {
                return;
            };
            let Some(line) = sessions.get(&session) else {
                return;
            };
            if line.said.load(Ordering::Relaxed) != generation {
                return;
            }
            line.media.play(audio)
        };
        if playback.finished().await == PlaybackEnd::Completed {
            shared.emit(Event::SaidAll(session));
        }
    });
}

/// The audio for `speech`: prompts looked up by name, words synthesised off the runtime's
/// threads; anything missing is left out.
pub(crate) async fn resolve(prompts: &Prompts, speech: Vec<Speech>) -> Audio {
    let mut parts = Vec::with_capacity(speech.len());
    for part in speech {
        match part {
            Speech::Prompt(name) => match prompts.get(name) {
                Some(audio) => parts.push(audio),
                None => tracing::warn!(prompt = name, "no such prompt"),
            },
            Speech::Say(words) => {
                if let Ok(Some(audio)) = tokio::task::spawn_blocking(move || speak(&words)).await {
                    parts.push(audio);
                }
            }
        }
    }
    Audio::concat(&parts)
}
