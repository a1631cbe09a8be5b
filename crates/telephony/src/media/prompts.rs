//! The prompts a phone-only caller hears: a built-in set rendered once by
//! `scripts/render-prompts.sh` and embedded in the binary, which an operator may override
//! by name with WAV files in a folder of their own. Names are what the calling engine asks
//! for; this module does not decide what is said when.

use std::collections::HashMap;
use std::path::Path;

use super::{Audio, MediaError};

/// The built-in prompts, by name (the texts are in `scripts/render-prompts.sh`).
const BUILT_IN: &[(&str, &[u8])] = &[
    ("welcome", include_bytes!("../../prompts/welcome.wav")),
    ("enter-pin", include_bytes!("../../prompts/enter-pin.wav")),
    ("pin-wrong", include_bytes!("../../prompts/pin-wrong.wav")),
    (
        "next-contact",
        include_bytes!("../../prompts/next-contact.wav"),
    ),
    (
        "press-hash-to-call",
        include_bytes!("../../prompts/press-hash-to-call.wav"),
    ),
    ("connecting", include_bytes!("../../prompts/connecting.wav")),
    (
        "contact-hung-up",
        include_bytes!("../../prompts/contact-hung-up.wav"),
    ),
    (
        "outcome-menu-intro",
        include_bytes!("../../prompts/outcome-menu-intro.wav"),
    ),
    ("press", include_bytes!("../../prompts/press.wav")),
    ("for", include_bytes!("../../prompts/for.wav")),
    ("star", include_bytes!("../../prompts/star.wav")),
    ("hash", include_bytes!("../../prompts/hash.wav")),
    ("saved", include_bytes!("../../prompts/saved.wav")),
    ("not-valid", include_bytes!("../../prompts/not-valid.wav")),
    (
        "no-contacts",
        include_bytes!("../../prompts/no-contacts.wav"),
    ),
    (
        "call-failed",
        include_bytes!("../../prompts/call-failed.wav"),
    ),
    ("goodbye", include_bytes!("../../prompts/goodbye.wav")),
    ("question", include_bytes!("../../prompts/question.wav")),
    ("busy", include_bytes!("../../prompts/busy.wav")),
    ("no-answer", include_bytes!("../../prompts/no-answer.wav")),
    (
        "wrong-number",
        include_bytes!("../../prompts/wrong-number.wav"),
    ),
    ("digit-0", include_bytes!("../../prompts/digit-0.wav")),
    ("digit-1", include_bytes!("../../prompts/digit-1.wav")),
    ("digit-2", include_bytes!("../../prompts/digit-2.wav")),
    ("digit-3", include_bytes!("../../prompts/digit-3.wav")),
    ("digit-4", include_bytes!("../../prompts/digit-4.wav")),
    ("digit-5", include_bytes!("../../prompts/digit-5.wav")),
    ("digit-6", include_bytes!("../../prompts/digit-6.wav")),
    ("digit-7", include_bytes!("../../prompts/digit-7.wav")),
    ("digit-8", include_bytes!("../../prompts/digit-8.wav")),
    ("digit-9", include_bytes!("../../prompts/digit-9.wav")),
];

/// A set of prompts by name.
#[derive(Debug, Clone)]
pub struct Prompts {
    by_name: HashMap<String, Audio>,
}

impl Prompts {
    /// The built-in set.
    pub fn built_in() -> Prompts {
        let by_name = BUILT_IN
            .iter()
            .filter_map(|(name, wav)| Some(((*name).to_owned(), Audio::from_wav(wav).ok()?)))
            .collect();
        Prompts { by_name }
    }

    /// The built-in set with every `NAME.wav` in `dir` taking the place of the prompt of that
    /// name (or adding one). A file that cannot be read or is not a usable WAV is an error
    /// naming it, so a mistake shows when the node starts rather than on a call.
    pub fn with_dir(dir: &Path) -> Result<Prompts, MediaError> {
        let mut prompts = Prompts::built_in();
        let unreadable = |source| MediaError::PromptDir {
            path: dir.to_path_buf(),
            source,
        };
        for entry in std::fs::read_dir(dir).map_err(unreadable)? {
            let path = entry.map_err(unreadable)?.path();
            let is_wav = path
                .extension()
                .is_some_and(|ext| ext.eq_ignore_ascii_case("wav"));
            let Some(name) = path.file_stem().and_then(|stem| stem.to_str()) else {
                continue;
            };
            if !is_wav {
                continue;
            }
            let bad = |reason: String| MediaError::PromptFile {
                path: path.clone(),
                reason,
            };
            let bytes = std::fs::read(&path).map_err(|error| bad(error.to_string()))?;
            let audio = Audio::from_wav(&bytes).map_err(|error| bad(error.to_string()))?;
            prompts.by_name.insert(name.to_owned(), audio);
        }
        Ok(prompts)
    }

    /// The prompt of this name.
    pub fn get(&self, name: &str) -> Option<Audio> {
        self.by_name.get(name).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_prompt_is_short_speech() {
        let prompts = Prompts::built_in();
        for (name, _) in BUILT_IN {
            let audio = prompts
                .get(name)
                .unwrap_or_else(|| panic!("{name} does not load"));
            let ms = audio.duration_ms();
            assert!((150..5000).contains(&ms), "{name} lasts {ms} ms");
        }
        assert!(prompts.get("nonexistent").is_none());
    }
}
