//! Speaking text at run time (a contact's first name, an outcome's label) with espeak-ng
//! when it is installed: its WAV output is resampled and µ-law-encoded here, so no sox is
//! needed. Without espeak-ng, or when it fails or takes too long, there is no audio.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Audio;

/// How long espeak-ng may take before it is stopped.
const SPEAK_TIMEOUT: Duration = Duration::from_secs(5);
/// Longer text is cut: names and labels are short, and a runaway text must not tie up a call.
const MAX_TEXT_CHARS: usize = 200;

/// The text spoken by espeak-ng as 8 kHz µ-law audio, or `None` when espeak-ng is missing,
/// fails or times out, or the text has nothing to say. It blocks for as long as espeak-ng
/// runs, so async callers run it on a blocking thread.
pub fn speak(text: &str) -> Option<Audio> {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_TEXT_CHARS)
        .collect();
    if text.trim().is_empty() {
        return None;
    }
    let wav = run_espeak(&text)?;
    Audio::from_wav(&wav).ok()
}

fn run_espeak(text: &str) -> Option<Vec<u8>> {
    let mut child = Command::new("espeak-ng")
        .arg("--stdout")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    // The text goes through stdin so that a name starting with "-" is never read as a flag.
    let written = child
        .stdin
        .take()
        .map(|mut stdin| stdin.write_all(text.as_bytes()).is_ok());
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut wav = Vec::new();
        stdout.read_to_end(&mut wav).map(|_| wav)
    });
    let finished = wait_with_deadline(&mut child, Instant::now() + SPEAK_TIMEOUT);
    if !finished {
        let _ = child.kill();
        let _ = child.wait();
    }
    let wav = reader.join().ok()?.ok()?;
    (finished && written == Some(true)).then_some(wav)
}

fn wait_with_deadline(child: &mut std::process::Child, deadline: Instant) -> bool {
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => return false,
        }
    }
    false
}
