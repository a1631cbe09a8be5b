//! G.711 µ-law (PCMU) and A-law (PCMA): the two codecs every SIP trunk offers, their RTP
//! payload types, 16-bit linear conversions, and the byte tables that transcode one into
//! the other without a detour through linear samples on the relay's hot path.

/// The audio codec of a leg, as negotiated in SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 µ-law, RTP payload type 0.
    Pcmu,
    /// G.711 A-law, RTP payload type 8.
    Pcma,
}

impl Codec {
    /// The static RTP payload type.
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }
}

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 32_635;

/// Encodes a 16-bit linear sample as µ-law.
pub const fn linear_to_ulaw(sample: i16) -> u8 {
    let mut magnitude = sample as i32;
    let sign = if magnitude < 0 {
        magnitude = -magnitude;
        0x80
    } else {
        0
    };
    if magnitude > ULAW_CLIP {
        magnitude = ULAW_CLIP;
    }
    magnitude += ULAW_BIAS;
    let mut exponent = 7;
    while exponent > 0 && magnitude & (0x80 << exponent) == 0 {
        exponent -= 1;
    }
    let mantissa = (magnitude >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) | mantissa) as u8
}

/// Decodes a µ-law byte to a 16-bit linear sample.
pub const fn ulaw_to_linear(byte: u8) -> i16 {
    let byte = !byte;
    let exponent = ((byte >> 4) & 0x07) as i32;
    let mantissa = (byte & 0x0f) as i32;
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    if byte & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// Encodes a 16-bit linear sample as A-law.
pub const fn linear_to_alaw(sample: i16) -> u8 {
    let mut value = (sample as i32) >> 3;
    let mask = if value >= 0 {
        0xd5
    } else {
        value = -value - 1;
        0x55
    };
    let mut segment = 0;
    while segment < 8 && value >= (0x20 << segment) {
        segment += 1;
    }
    if segment >= 8 {
        return (0x7f ^ mask) as u8;
    }
    let shift = if segment < 2 { 1 } else { segment };
    let encoded = (segment << 4) | ((value >> shift) & 0x0f);
    (encoded ^ mask) as u8
}

/// Decodes an A-law byte to a 16-bit linear sample.
pub const fn alaw_to_linear(byte: u8) -> i16 {
    let byte = byte ^ 0x55;
    let mut magnitude = ((byte & 0x0f) as i32) << 4;
    let segment = ((byte & 0x70) >> 4) as i32;
    magnitude += match segment {
        0 => 8,
        _ => 0x108,
    };
    if segment > 1 {
        magnitude <<= segment - 1;
    }
    if byte & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

const fn table(decode: bool) -> [u8; 256] {
    let mut out = [0u8; 256];
    let mut byte = 0;
    while byte < 256 {
        out[byte] = if decode {
            linear_to_alaw(ulaw_to_linear(byte as u8))
        } else {
            linear_to_ulaw(alaw_to_linear(byte as u8))
        };
        byte += 1;
    }
    out
}

/// µ-law byte → A-law byte.
pub static ULAW_TO_ALAW: [u8; 256] = table(true);
/// A-law byte → µ-law byte.
pub static ALAW_TO_ULAW: [u8; 256] = table(false);

/// Copies `payload` from codec `from` into `out` in codec `to`, by table when they differ.
pub fn transcode(from: Codec, to: Codec, payload: &[u8], out: &mut [u8]) {
    let table = match (from, to) {
        (Codec::Pcmu, Codec::Pcma) => &ULAW_TO_ALAW,
        (Codec::Pcma, Codec::Pcmu) => &ALAW_TO_ULAW,
        _ => {
            out.copy_from_slice(payload);
            return;
        }
    };
    for (target, source) in out.iter_mut().zip(payload) {
        *target = table[usize::from(*source)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_linear_values() {
        assert_eq!(linear_to_ulaw(0), 0xff);
        assert_eq!(ulaw_to_linear(0xff), 0);
        assert_eq!(ulaw_to_linear(0x80), 32_124);
        assert_eq!(ulaw_to_linear(0x00), -32_124);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_alaw(0), 0xd5);
        assert_eq!(alaw_to_linear(0xd5), 8);
        assert_eq!(alaw_to_linear(0xaa), 32_256);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2a);
    }

    #[test]
    fn transcoding_keeps_silence_and_the_extremes() {
        assert_eq!(ULAW_TO_ALAW[0xff], 0xd5);
        assert_eq!(ULAW_TO_ALAW[0x80], 0xaa);
        assert_eq!(ULAW_TO_ALAW[0x00], 0x2a);
        // A-law has no zero: its quietest code is +8, which µ-law holds exactly.
        assert_eq!(ALAW_TO_ULAW[0xd5], 0xfe);
        assert_eq!(ALAW_TO_ULAW[0xaa], 0x80);
        for byte in 0..=255u8 {
            let there = ULAW_TO_ALAW[usize::from(byte)];
            let error = i32::from(alaw_to_linear(there)) - i32::from(ulaw_to_linear(byte));
            let step = (i32::from(ulaw_to_linear(byte)).abs() / 16).max(16);
            assert!(
                error.abs() <= step,
                "µ-law {byte:#x} became A-law {there:#x}"
            );
        }
    }

    #[test]
    fn every_code_survives_a_round_trip_through_linear() {
        for byte in 0..=255u8 {
            assert_eq!(
                linear_to_alaw(alaw_to_linear(byte)),
                byte,
                "A-law {byte:#x}"
            );
            let linear = ulaw_to_linear(byte);
            assert_eq!(
                ulaw_to_linear(linear_to_ulaw(linear)),
                linear,
                "µ-law {byte:#x}"
            );
        }
    }
}
