//! Fuzzes the RTP boundary the media relay reads from the network: any datagram gives a
//! packet or an error, a packet written back reads the same, and its payload read as a
//! telephone event or a SIP INFO body never panics either.
#![no_main]

use barnstorm_telephony::media::rtp::{self, RtpHeader};
use barnstorm_telephony::media::{DigitDetector, TelephoneEvent, digit_from_sip_info};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(packet) = rtp::parse(bytes) {
        let mut out = vec![0u8; rtp::HEADER_LEN + packet.payload.len()];
        let len = rtp::write(&packet.header, packet.payload, &mut out);
        assert_eq!(len, Some(out.len()));
        let again = rtp::parse(&out).map(|p| (p.header, p.payload.to_vec()));
        let header: RtpHeader = packet.header;
        assert_eq!(again, Ok((header, packet.payload.to_vec())));
        let _ = TelephoneEvent::parse(packet.payload);
        let _ = DigitDetector::default().on_packet(header.timestamp, header.marker, packet.payload);
    }
    let text = String::from_utf8_lossy(bytes);
    let _ = digit_from_sip_info("application/dtmf-relay", &text);
    let _ = digit_from_sip_info("application/dtmf", &text);
});
