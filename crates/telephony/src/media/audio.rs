//! Audio to play into a leg: 8 kHz mono µ-law samples behind an `Arc`, read from WAV files
//! (PCM at any rate and channel count, µ-law or A-law), joined and padded with silence.
//! Resampling here is a box filter, good enough for speech prompts; no playback timing.

use std::sync::Arc;

use super::MediaError;
use super::g711::{alaw_to_linear, linear_to_ulaw};

/// The sample rate of every `Audio`.
pub const SAMPLE_RATE: u32 = 8000;

/// 8 kHz mono G.711 µ-law samples, cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audio(Arc<[u8]>);

impl Audio {
    /// µ-law samples as they are.
    pub fn from_ulaw(samples: Vec<u8>) -> Audio {
        Audio(samples.into())
    }

    /// Reads a RIFF WAVE file: 8- or 16-bit PCM (any rate, mixed down to mono and resampled
    /// to 8 kHz), or 8 kHz µ-law or A-law. A data chunk longer than the file (as written by
    /// a program streaming to a pipe) is cut at the end of the file.
    pub fn from_wav(bytes: &[u8]) -> Result<Audio, MediaError> {
        let wav = Wav::parse(bytes)?;
        let linear = wav.decode()?;
        let resampled = resample(&linear, wav.sample_rate, SAMPLE_RATE);
        Ok(Audio(resampled.into_iter().map(linear_to_ulaw).collect()))
    }

    /// The parts one after another.
    pub fn concat(parts: &[Audio]) -> Audio {
        Audio(
            parts
                .iter()
                .flat_map(|part| part.0.iter().copied())
                .collect(),
        )
    }

    /// `ms` milliseconds of silence.
    pub fn silence(ms: u32) -> Audio {
        let samples = u64::from(ms) * u64::from(SAMPLE_RATE) / 1000;
        Audio(vec![0xff; usize::try_from(samples).unwrap_or(0)].into())
    }

    /// The µ-law samples.
    pub fn samples(&self) -> &[u8] {
        &self.0
    }

    /// How long it plays, in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.0.len() as u64 * 1000 / u64::from(SAMPLE_RATE)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Pcm8,
    Pcm16,
    Ulaw,
    Alaw,
}

struct Wav<'a> {
    encoding: Encoding,
    channels: usize,
    sample_rate: u32,
    data: &'a [u8],
}

fn invalid(reason: &str) -> MediaError {
    MediaError::InvalidWav(reason.to_owned())
}

fn le_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(*bytes.get(at..)?.first_chunk()?))
}

fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(*bytes.get(at..)?.first_chunk()?))
}

impl<'a> Wav<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Wav<'a>, MediaError> {
        if bytes.get(..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
            return Err(invalid("not a RIFF WAVE file"));
        }
        let mut format = None;
        let mut at = 12;
        while let (Some(id), Some(size)) = (bytes.get(at..at + 4), le_u32(bytes, at + 4)) {
            let start = at + 8;
            let end = start.saturating_add(size as usize).min(bytes.len());
            let body = &bytes[start..end];
            match id {
                b"fmt " => format = Some(Self::format(body)?),
                b"data" => {
                    let (encoding, channels, sample_rate) =
                        format.ok_or_else(|| invalid("the data chunk comes before fmt"))?;
                    return Ok(Wav {
                        encoding,
                        channels,
                        sample_rate,
                        data: body,
                    });
                }
                _ => {}
            }
            at = end + (end - start) % 2;
        }
        Err(invalid("no data chunk"))
    }

    fn format(body: &[u8]) -> Result<(Encoding, usize, u32), MediaError> {
        let short = || invalid("the fmt chunk is too short");
        let mut tag = le_u16(body, 0).ok_or_else(short)?;
        let channels = usize::from(le_u16(body, 2).ok_or_else(short)?);
        let sample_rate = le_u32(body, 4).ok_or_else(short)?;
        let bits = le_u16(body, 14).ok_or_else(short)?;
        if tag == 0xfffe {
            tag = le_u16(body, 24).ok_or_else(short)?;
        }
        let encoding = match (tag, bits) {
            (1, 8) => Encoding::Pcm8,
            (1, 16) => Encoding::Pcm16,
            (6, 8) => Encoding::Alaw,
            (7, 8) => Encoding::Ulaw,
            _ => return Err(invalid("only 8/16-bit PCM, µ-law and A-law are supported")),
        };
        if channels == 0 || !(1000..=192_000).contains(&sample_rate) {
            return Err(invalid("the channel count or sample rate is out of range"));
        }
        Ok((encoding, channels, sample_rate))
    }

    fn decode(&self) -> Result<Vec<i16>, MediaError> {
        let width = if self.encoding == Encoding::Pcm16 {
            2
        } else {
            1
        };
        let frame = width * self.channels;
        let mono = self
            .data
            .chunks_exact(frame)
            .map(|frame| {
                let sum: i32 = frame
                    .chunks_exact(width)
                    .map(|sample| i32::from(self.sample(sample)))
                    .sum();
                (sum / self.channels as i32) as i16
            })
            .collect::<Vec<_>>();
        if mono.is_empty() {
            return Err(invalid("no samples"));
        }
        Ok(mono)
    }

    fn sample(&self, bytes: &[u8]) -> i16 {
        match (self.encoding, bytes) {
            (Encoding::Pcm16, [low, high]) => i16::from_le_bytes([*low, *high]),
            (Encoding::Pcm8, [byte]) => (i16::from(*byte) - 128) << 8,
            (Encoding::Ulaw, [byte]) => super::g711::ulaw_to_linear(*byte),
            (Encoding::Alaw, [byte]) => alaw_to_linear(*byte),
            _ => 0,
        }
    }
}

/// Resamples by averaging the input samples that fall in each output sample's period.
fn resample(input: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to {
        return input.to_vec();
    }
    let output_len = (input.len() as u64 * u64::from(to) / u64::from(from)) as usize;
    (0..output_len)
        .map(|index| {
            let start = index as u64 * u64::from(from) / u64::from(to);
            let end = ((index as u64 + 1) * u64::from(from))
                .div_ceil(u64::from(to))
                .max(start + 1);
            let window = &input[start as usize..(end as usize).min(input.len())];
            let sum: i64 = window.iter().map(|&sample| i64::from(sample)).sum();
            (sum / window.len().max(1) as i64) as i16
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn wav(tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8], data_size: u32) -> Vec<u8> {
        let mut out = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&channels.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        out.extend_from_slice(&(rate * u32::from(channels * bits / 8)).to_le_bytes());
        out.extend_from_slice(&(channels * bits / 8).to_le_bytes());
        out.extend_from_slice(&bits.to_le_bytes());
        out.extend_from_slice(b"LIST\x03\0\0\0abc\0data");
        out.extend_from_slice(&data_size.to_le_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn an_8khz_ulaw_file_is_taken_as_it_is() {
        let audio = Audio::from_wav(&wav(7, 1, 8000, 8, &[1, 2, 3], 3)).unwrap();
        assert_eq!(audio.samples(), [1, 2, 3]);
    }

    #[test]
    fn stereo_pcm_at_16khz_is_mixed_and_halved() {
        let frames: Vec<u8> = (0..160)
            .flat_map(|_| [1000i16.to_le_bytes(), 3000i16.to_le_bytes()].concat())
            .collect();
        let audio = Audio::from_wav(&wav(1, 2, 16_000, 16, &frames, u32::MAX)).unwrap();
        assert_eq!(audio.samples().len(), 80);
        assert!(audio.samples().iter().all(|&s| s == linear_to_ulaw(2000)));
        assert_eq!(audio.duration_ms(), 10);
    }

    #[test]
    fn bad_files_are_refused() {
        assert!(Audio::from_wav(b"RIFF").is_err());
        assert!(Audio::from_wav(&wav(3, 1, 8000, 32, &[0; 8], 8)).is_err());
        assert!(Audio::from_wav(&wav(1, 0, 8000, 16, &[0; 8], 8)).is_err());
        assert!(Audio::from_wav(&wav(1, 1, 8000, 16, &[], 0)).is_err());
    }

    #[test]
    fn concat_and_silence() {
        let one = Audio::from_ulaw(vec![1, 2]);
        let joined = Audio::concat(&[one.clone(), Audio::silence(1), one]);
        assert_eq!(
            joined.samples(),
            [1, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2]
        );
    }
}
