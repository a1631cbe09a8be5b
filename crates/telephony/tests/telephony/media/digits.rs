//! Keypad digits: SIPp's RFC 4733 captures replayed into a leg, one digit per key press,
//! never relayed to the bridged leg.

use std::path::Path;

use barnstorm_telephony::media::Codec;
use barnstorm_telephony::media::rtp::{self, RtpHeader};

use super::phone::{Phone, media, voice};

const SIPP_CAPTURES: &str = "/usr/share/sip-tester";
const KEYS: [(&str, char); 12] = [
    ("0", '0'),
    ("1", '1'),
    ("2", '2'),
    ("3", '3'),
    ("4", '4'),
    ("5", '5'),
    ("6", '6'),
    ("7", '7'),
    ("8", '8'),
    ("9", '9'),
    ("star", '*'),
    ("pound", '#'),
];

/// The RTP packets of a classic pcap file of Ethernet/IPv4/UDP frames.
fn rtp_packets_in_pcap(bytes: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(bytes[..4], [0xd4, 0xc3, 0xb2, 0xa1], "a little-endian pcap");
    let mut packets = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let captured = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        let frame = &bytes[at + 16..at + 16 + captured];
        let ip = &frame[14..];
        let udp = &ip[usize::from(ip[0] & 0x0f) * 4..];
        packets.push(udp[8..].to_vec());
        at += 16 + captured;
    }
    packets
}

/// What a phone sends for one key press per RFC 4733: three start packets with the marker,
/// updates, and three end packets, all with the event's timestamp.
fn key_press(event: u8, sequence: u16, timestamp: u32) -> Vec<Vec<u8>> {
    let packet = |index: u16, end: bool| {
        let header = RtpHeader {
            marker: index < 3,
            payload_type: 101,
            sequence: sequence + index,
            timestamp,
            ssrc: 9,
        };
        let duration = 160 * (index + 1);
        let [high, low] = duration.to_be_bytes();
        let mut out = [0u8; 16];
        let len = rtp::write(
            &header,
            &[event, if end { 0x8a } else { 0x0a }, high, low],
            &mut out,
        )
        .unwrap();
        out[..len].to_vec()
    };
    (0..6)
        .map(|index| packet(index, false))
        .chain((6..9).map(|index| packet(index, true)))
        .collect()
}

fn presses() -> Vec<(char, Vec<Vec<u8>>)> {
    let folder = Path::new(SIPP_CAPTURES);
    if folder.join("dtmf_2833_0.pcap").exists() {
        KEYS.iter()
            .map(|(name, key)| {
                let bytes = std::fs::read(folder.join(format!("dtmf_2833_{name}.pcap"))).unwrap();
                (*key, rtp_packets_in_pcap(&bytes))
            })
            .collect()
    } else {
        eprintln!("SIPp's captures are not in {SIPP_CAPTURES}: using packets built per RFC 4733");
        KEYS.iter()
            .zip(0u8..)
            .map(|((_, key), event)| {
                (
                    *key,
                    key_press(event, u16::from(event) * 10, u32::from(event) * 8000),
                )
            })
            .collect()
    }
}

#[tokio::test]
async fn each_key_press_is_one_digit_and_is_not_relayed() {
    let media = media(42_400).await;
    let (caller_leg, contact_leg) = (
        media.open_leg().await.unwrap(),
        media.open_leg().await.unwrap(),
    );
    let (caller, contact) = (Phone::new(9).await, Phone::new(10).await);
    caller.dial(&caller_leg, Codec::Pcmu);
    contact.dial(&contact_leg, Codec::Pcmu);
    caller_leg.bridge(&contact_leg);
    let mut digits = caller_leg.take_digits().unwrap();
    assert!(caller_leg.take_digits().is_none());

    let mut expected = String::new();
    let mut all = presses();
    // The same key twice in a row, the second a replay of the first.
    all.push(all[5].clone());
    for (key, packets) in all {
        expected.push(key);
        for packet in packets {
            caller.send_raw(&caller_leg, &packet).await;
        }
    }
    caller.send(&caller_leg, 0, 1, 0, &voice(4)).await;

    let mut heard = String::new();
    while heard.len() < expected.len() {
        let digit = tokio::time::timeout(std::time::Duration::from_secs(2), digits.recv()).await;
        heard.push(digit.expect("a digit").expect("the leg is open"));
    }
    assert_eq!(heard, expected);
    assert_eq!(heard, "0123456789*#5");
    // Only the audio packet reached the contact.
    assert_eq!(contact.receive().await.unwrap().payload, voice(4));
    assert_eq!(contact.receive().await, None);
    assert!(digits.try_recv().is_err());
}
