//! Keypad digits: RFC 4733 telephone-event packets off the RTP stream (one digit per event,
//! however often its packets are repeated) and the bodies of SIP INFO requests
//! (`application/dtmf-relay`, `application/dtmf`). Pure functions and state; no I/O.

/// The digit an RFC 4733 event code stands for (0–9, 10 `*`, 11 `#`, 12–15 `A`–`D`).
pub fn digit_from_event(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// One RFC 4733 telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// The event code.
    pub event: u8,
    /// The E bit: this packet reports the end of the event.
    pub end: bool,
    /// The power level, 0 to 63 (−dBm0).
    pub volume: u8,
    /// The duration so far, in timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Reads the first event of a payload; `None` when it is shorter than 4 bytes.
    pub fn parse(payload: &[u8]) -> Option<TelephoneEvent> {
        let bytes: &[u8; 4] = payload.first_chunk()?;
        Some(TelephoneEvent {
            event: bytes[0],
            end: bytes[1] & 0x80 != 0,
            volume: bytes[1] & 0x3f,
            duration: u16::from_be_bytes([bytes[2], bytes[3]]),
        })
    }
}

/// Turns a leg's telephone-event packets into digits. Every packet of one key press
/// carries the same RTP timestamp (the start packets, the updates and the three end
/// packets), so a digit is reported on the first packet of a new event: a timestamp or
/// event code not seen before, or a marked start packet after the last event ended (a
/// recording replayed as it is).
#[derive(Debug, Default)]
pub struct DigitDetector {
    current: Option<CurrentEvent>,
}

#[derive(Debug, Clone, Copy)]
struct CurrentEvent {
    timestamp: u32,
    event: u8,
    ended: bool,
}

impl DigitDetector {
    /// Feeds one telephone-event packet; returns the digit when it starts a new key press.
    pub fn on_packet(&mut self, rtp_timestamp: u32, marker: bool, payload: &[u8]) -> Option<char> {
        let event = TelephoneEvent::parse(payload)?;
        let is_new = self.current.is_none_or(|current| {
            current.timestamp != rtp_timestamp
                || current.event != event.event
                || (marker && current.ended)
        });
        let ended = event.end || (!is_new && self.current.is_some_and(|current| current.ended));
        self.current = Some(CurrentEvent {
            timestamp: rtp_timestamp,
            event: event.event,
            ended,
        });
        if is_new {
            digit_from_event(event.event)
        } else {
            None
        }
    }
}

/// The digit in a SIP INFO body: `application/dtmf-relay` (`Signal=5\r\nDuration=160`) or
/// `application/dtmf` (`5`). Signals may be the character or the event code (`10` is `*`).
pub fn digit_from_sip_info(content_type: &str, body: &str) -> Option<char> {
    let media_type = content_type.split(';').next()?.trim().to_ascii_lowercase();
    match media_type.as_str() {
        "application/dtmf-relay" => body.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case("signal")
                .then(|| signal_digit(value))?
        }),
        "application/dtmf" => signal_digit(body),
        _ => None,
    }
}

fn signal_digit(value: &str) -> Option<char> {
    let value = value.trim();
    if let Ok(code) = value.parse::<u8>() {
        return digit_from_event(code);
    }
    let mut chars = value.chars();
    let digit = chars.next()?.to_ascii_uppercase();
    let known = digit.is_ascii_digit() || matches!(digit, '*' | '#' | 'A'..='D');
    (chars.next().is_none() && known).then_some(digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(code: u8, end: bool, duration: u16) -> [u8; 4] {
        let [high, low] = duration.to_be_bytes();
        [code, if end { 0x80 | 10 } else { 10 }, high, low]
    }

    #[test]
    fn one_digit_per_key_press_with_repeated_end_packets() {
        let mut detector = DigitDetector::default();
        let mut digits = String::new();
        // The last press is a replay of the one before it, timestamp and all.
        for (timestamp, code) in [(1000, 5), (3000, 5), (5000, 11), (5000, 11)] {
            for duration in [160, 320, 480] {
                let marker = duration == 160;
                digits.extend(detector.on_packet(timestamp, marker, &event(code, false, duration)));
            }
            for _ in 0..3 {
                digits.extend(detector.on_packet(timestamp, false, &event(code, true, 640)));
            }
        }
        assert_eq!(digits, "55##");
        assert_eq!(detector.on_packet(7000, true, &[1, 2]), None);
    }

    #[test]
    fn event_codes_map_to_keys() {
        let keys: String = (0..=16).filter_map(digit_from_event).collect();
        assert_eq!(keys, "0123456789*#ABCD");
    }

    #[test]
    fn sip_info_bodies() {
        let relay = "application/dtmf-relay";
        assert_eq!(
            digit_from_sip_info(relay, "Signal=5\r\nDuration=160\r\n"),
            Some('5')
        );
        assert_eq!(
            digit_from_sip_info("Application/DTMF-Relay; x=y", "signal= #\n"),
            Some('#')
        );
        assert_eq!(
            digit_from_sip_info(relay, "Signal=10\r\nDuration=100"),
            Some('*')
        );
        assert_eq!(digit_from_sip_info(relay, "Duration=160"), None);
        assert_eq!(digit_from_sip_info(relay, "Signal=55"), None);
        assert_eq!(digit_from_sip_info("application/dtmf", "7\r\n"), Some('7'));
        assert_eq!(digit_from_sip_info("application/dtmf", "d"), Some('D'));
        assert_eq!(digit_from_sip_info("application/dtmf", "x"), None);
        assert_eq!(digit_from_sip_info("text/plain", "5"), None);
    }
}
