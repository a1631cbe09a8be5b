//! Prompts played into a leg: 50 packets a second, 160 samples apart, until the end, a
//! bridge or `stop`.

use std::time::{Duration, Instant};

use barnstorm_telephony::media::{Audio, Codec, PlaybackEnd, Prompts};

use super::phone::{Phone, media, voice};

#[tokio::test]
async fn a_prompt_plays_at_fifty_packets_a_second() {
    let media = media(42_500).await;
    let leg = media.open_leg().await.unwrap();
    let phone = Phone::new(1).await;
    phone.dial(&leg, Codec::Pcma);
    let welcome = Prompts::built_in().get("welcome").unwrap();
    // 1 s of the prompt then 10 ms of silence: 51 packets, the last padded.
    let audio = Audio::concat(&[
        Audio::from_ulaw(welcome.samples()[..8000].to_vec()),
        Audio::silence(10),
    ]);
    let started = Instant::now();
    let playback = leg.play(audio);
    let packets = phone.receive_n(51).await;
    let elapsed = started.elapsed();
    assert_eq!(playback.finished().await, PlaybackEnd::Completed);
    assert!(
        elapsed >= Duration::from_millis(980) && elapsed < Duration::from_millis(1300),
        "{elapsed:?}"
    );
    for pair in packets.windows(2) {
        assert_eq!(
            pair[1]
                .header
                .timestamp
                .wrapping_sub(pair[0].header.timestamp),
            160
        );
        assert_eq!(
            pair[1]
                .header
                .sequence
                .wrapping_sub(pair[0].header.sequence),
            1
        );
    }
    assert!(packets.iter().all(|p| p.payload.len() == 160
        && p.header.payload_type == 8
        && p.header.ssrc == leg.ssrc()));
    assert_eq!(packets[50].payload[80..], [0xd5; 80]);
    assert_eq!(leg.stats().sent, 51);
    assert_eq!(phone.receive().await, None);
}

#[tokio::test]
async fn a_bridge_or_stop_cuts_a_prompt_short() {
    let media = media(42_600).await;
    let (caller_leg, contact_leg) = (
        media.open_leg().await.unwrap(),
        media.open_leg().await.unwrap(),
    );
    let (caller, contact) = (Phone::new(1).await, Phone::new(2).await);
    caller.dial(&caller_leg, Codec::Pcmu);
    contact.dial(&contact_leg, Codec::Pcmu);

    let hold = caller_leg.play(Audio::silence(10_000));
    let prompt = caller.receive().await.unwrap();
    caller_leg.bridge(&contact_leg);
    assert_eq!(hold.finished().await, PlaybackEnd::Stopped);
    contact.send(&contact_leg, 0, 7, 0, &voice(5)).await;
    let mut relayed = caller.receive().await.unwrap();
    while relayed.payload != voice(5) {
        relayed = caller.receive().await.unwrap();
    }
    assert_eq!(relayed.header.ssrc, prompt.header.ssrc);

    let menu = contact_leg.play(Audio::silence(10_000));
    contact.receive().await.unwrap();
    menu.stop();
    assert_eq!(menu.finished().await, PlaybackEnd::Stopped);
}

#[test]
fn an_operators_recording_replaces_a_built_in_prompt() {
    let folder = tempfile::tempdir().unwrap();
    let mut wav = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x07\0\x01\0\x40\x1f\0\0\x40\x1f\0\0\x01\0\x08\0data\x04\0\0\0".to_vec();
    wav.extend_from_slice(&[1, 2, 3, 4]);
    std::fs::write(folder.path().join("welcome.wav"), &wav).unwrap();
    std::fs::write(folder.path().join("notes.txt"), "not a prompt").unwrap();
    let prompts = Prompts::with_dir(folder.path()).unwrap();
    assert_eq!(prompts.get("welcome").unwrap().samples(), [1, 2, 3, 4]);
    assert_eq!(prompts.get("goodbye"), Prompts::built_in().get("goodbye"));

    std::fs::write(folder.path().join("goodbye.wav"), b"RIFF....").unwrap();
    let error = Prompts::with_dir(folder.path()).unwrap_err().to_string();
    assert!(error.contains("goodbye.wav"), "{error}");
    assert!(Prompts::with_dir(&folder.path().join("missing")).is_err());
}

#[test]
fn speech_is_audio_when_espeak_is_installed() {
    let spoken = barnstorm_telephony::media::speak("Alice");
    let installed = std::process::Command::new("espeak-ng")
        .arg("--version")
        .output()
        .is_ok();
    assert_eq!(spoken.is_some(), installed);
    if let Some(audio) = spoken {
        assert!(
            (200..3000).contains(&audio.duration_ms()),
            "{} ms",
            audio.duration_ms()
        );
    }
    assert!(barnstorm_telephony::media::speak(" \n ").is_none());
}

#[tokio::test]
async fn a_prompt_can_be_started_from_a_thread_outside_the_runtime() {
    let media = media(42_900).await;
    let leg = std::sync::Arc::new(media.open_leg().await.unwrap());
    let phone = Phone::new(1).await;
    phone.dial(&leg, Codec::Pcmu);
    let on_thread = std::sync::Arc::clone(&leg);
    let playback = std::thread::spawn(move || on_thread.play(Audio::silence(40)))
        .join()
        .unwrap();
    assert_eq!(playback.finished().await, PlaybackEnd::Completed);
    assert_eq!(phone.receive_n(2).await.len(), 2);
}
