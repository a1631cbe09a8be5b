//! RFC 3550 RTP packets: reading a header off the wire and writing one. Only version 2 is
//! accepted; padding, CSRC lists and header extensions are skipped over to find the payload.
//! Any byte string gives a packet or an error, never a panic. Knows nothing of sockets.

use thiserror::Error;

/// The fixed part of an RTP header (the CSRC list and extension are skipped on reading and
/// never written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    /// The marker bit: the first packet of a talkspurt, or the start of a telephone event.
    pub marker: bool,
    /// The payload type (7 bits).
    pub payload_type: u8,
    /// The sequence number.
    pub sequence: u16,
    /// The sampling timestamp.
    pub timestamp: u32,
    /// The synchronisation source.
    pub ssrc: u32,
}

/// A parsed packet: its header and the payload between the header and any padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// The header fields.
    pub header: RtpHeader,
    /// The payload bytes.
    pub payload: &'a [u8],
}

/// Why bytes are not an RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtpError {
    /// Shorter than the fixed 12-byte header, or than the CSRC list or extension it announces.
    #[error("RTP packet truncated")]
    Truncated,
    /// The version field is not 2.
    #[error("RTP version {0} is not supported (only version 2)")]
    Version(u8),
    /// The padding count is zero or longer than the packet.
    #[error("RTP padding length is invalid")]
    Padding,
}

/// The length of the fixed header this module writes.
pub const HEADER_LEN: usize = 12;

/// Reads an RTP packet.
pub fn parse(bytes: &[u8]) -> Result<RtpPacket<'_>, RtpError> {
    let fixed: &[u8; HEADER_LEN] = bytes.first_chunk().ok_or(RtpError::Truncated)?;
    let version = fixed[0] >> 6;
    if version != 2 {
        return Err(RtpError::Version(version));
    }
    let has_padding = fixed[0] & 0x20 != 0;
    let has_extension = fixed[0] & 0x10 != 0;
    let csrc_count = usize::from(fixed[0] & 0x0f);
    let header = RtpHeader {
        marker: fixed[1] & 0x80 != 0,
        payload_type: fixed[1] & 0x7f,
        sequence: u16::from_be_bytes([fixed[2], fixed[3]]),
        timestamp: u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
        ssrc: u32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]),
    };
    let mut rest = bytes
        .get(HEADER_LEN + 4 * csrc_count..)
        .ok_or(RtpError::Truncated)?;
    if has_extension {
        rest = skip_extension(rest)?;
    }
    if has_padding {
        rest = strip_padding(rest)?;
    }
    Ok(RtpPacket {
        header,
        payload: rest,
    })
}

fn skip_extension(rest: &[u8]) -> Result<&[u8], RtpError> {
    let head: &[u8; 4] = rest.first_chunk().ok_or(RtpError::Truncated)?;
    let words = usize::from(u16::from_be_bytes([head[2], head[3]]));
    rest.get(4 + 4 * words..).ok_or(RtpError::Truncated)
}

fn strip_padding(rest: &[u8]) -> Result<&[u8], RtpError> {
    let count = usize::from(*rest.last().ok_or(RtpError::Padding)?);
    if count == 0 {
        return Err(RtpError::Padding);
    }
    let end = rest.len().checked_sub(count).ok_or(RtpError::Padding)?;
    Ok(&rest[..end])
}

/// Writes a version 2 header without padding, CSRCs or extension, then the payload, into
/// `out`; returns the packet's length, or `None` when `out` is too small.
pub fn write(header: &RtpHeader, payload: &[u8], out: &mut [u8]) -> Option<usize> {
    let len = HEADER_LEN + payload.len();
    let packet = out.get_mut(..len)?;
    packet[..HEADER_LEN].copy_from_slice(&header_bytes(header));
    packet[HEADER_LEN..].copy_from_slice(payload);
    Some(len)
}

/// The 12 bytes of a version 2 header without padding, CSRCs or extension.
pub fn header_bytes(header: &RtpHeader) -> [u8; HEADER_LEN] {
    let mut bytes = [0u8; HEADER_LEN];
    bytes[0] = 0x80;
    bytes[1] = (u8::from(header.marker) << 7) | (header.payload_type & 0x7f);
    bytes[2..4].copy_from_slice(&header.sequence.to_be_bytes());
    bytes[4..8].copy_from_slice(&header.timestamp.to_be_bytes());
    bytes[8..12].copy_from_slice(&header.ssrc.to_be_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn header() -> RtpHeader {
        RtpHeader {
            marker: true,
            payload_type: 8,
            sequence: 65_535,
            timestamp: 0xdead_beef,
            ssrc: 0x0102_0304,
        }
    }

    #[test]
    fn a_written_packet_reads_back() {
        let mut out = [0u8; 64];
        let len = write(&header(), b"abc", &mut out).unwrap();
        let packet = parse(&out[..len]).unwrap();
        assert_eq!(packet.header, header());
        assert_eq!(packet.payload, b"abc");
        assert_eq!(write(&header(), &[0; 60], &mut out), None);
    }

    #[test]
    fn csrcs_extension_and_padding_are_skipped() {
        let mut bytes = vec![0x80 | 0x20 | 0x10 | 2, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        bytes.extend_from_slice(&[1, 1, 1, 1, 2, 2, 2, 2]);
        bytes.extend_from_slice(&[0xbe, 0xde, 0, 1, 9, 9, 9, 9]);
        bytes.extend_from_slice(b"voice");
        bytes.extend_from_slice(&[0, 0, 3]);
        let packet = parse(&bytes).unwrap();
        assert_eq!(packet.payload, b"voice");
        assert_eq!(packet.header.sequence, 1);
        assert_eq!(packet.header.ssrc, 3);
    }

    #[test]
    fn bad_packets_are_refused() {
        assert_eq!(parse(&[0x80; 11]), Err(RtpError::Truncated));
        assert_eq!(parse(&[0x40; 12]), Err(RtpError::Version(1)));
        let mut csrcs = [0u8; 12];
        csrcs[0] = 0x8f;
        assert_eq!(parse(&csrcs), Err(RtpError::Truncated));
        let mut padded = [0u8; 13];
        padded[0] = 0xa0;
        padded[12] = 9;
        assert_eq!(parse(&padded), Err(RtpError::Padding));
        padded[12] = 0;
        assert_eq!(parse(&padded), Err(RtpError::Padding));
        let mut extended = [0u8; 14];
        extended[0] = 0x90;
        assert_eq!(parse(&extended), Err(RtpError::Truncated));
    }
}
