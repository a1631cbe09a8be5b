//! SDP for bridged calls (RFC 4566, offer/answer per RFC 3264): Barnstorm offers and
//! accepts one audio stream of G.711 µ-law or A-law with RFC 4733 telephone events, and
//! reads from the other side's description where to send RTP and which codec it chose.
//! The parser takes any bytes from the network and never panics.

use std::net::{IpAddr, SocketAddr};

/// G.711 µ-law's static RTP payload type.
pub const PCMU: u8 = 0;
/// G.711 A-law's static RTP payload type.
pub const PCMA: u8 = 8;
/// The payload type Barnstorm offers for telephone events.
pub const TELEPHONE_EVENT: u8 = 101;

/// What the other side said about its audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteAudio {
    /// Where to send RTP (port 0: the stream is refused).
    pub address: SocketAddr,
    /// The G.711 payload type to use: [`PCMU`] or [`PCMA`].
    pub payload_type: u8,
    /// Its payload type for telephone events, if it offered or accepted them.
    pub telephone_event: Option<u8>,
}

/// Why a description cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// Not text.
    #[error("the session description is not UTF-8 text")]
    NotText,
    /// No `m=audio` line.
    #[error("the session description has no audio stream")]
    NoAudio,
    /// No connection address for the audio.
    #[error("the session description has no usable connection address (c=)")]
    NoAddress,
    /// Neither PCMU nor PCMA.
    #[error("the other side offers neither G.711 µ-law nor A-law")]
    NoCommonCodec,
}

/// Barnstorm's side of one leg's offers and answers: the `o=` line keeps its session id
/// for the life of the leg, and its version goes up only when the description changes
/// (RFC 3264 §8), so a refresh that changes nothing reads as nothing changed.
#[derive(Debug, Clone)]
pub struct Origin {
    session: u64,
    version: u64,
    last: Option<String>,
}

impl Origin {
    /// A new leg's origin, with a random session id.
    pub fn new(session: u64) -> Self {
        Self {
            session,
            version: session % 1_000_000_000,
            last: None,
        }
    }

    /// Barnstorm's offer (or answer) for one audio stream on `ip`:`port`. In an answer,
    /// `chosen` narrows the codecs to the one picked from the offer.
    pub fn describe(&mut self, ip: IpAddr, port: u16, chosen: Option<RemoteAudio>) -> String {
        let media = media_lines(ip, port, chosen);
        if self.last.as_ref().is_some_and(|last| *last != media) {
            self.version += 1;
        }
        let family = family(ip);
        let sdp = format!(
            "v=0\r\no=barnstorm {} {} IN {family} {ip}\r\ns=barnstorm\r\n{media}",
            self.session, self.version
        );
        self.last = Some(media);
        sdp
    }
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() { "IP4" } else { "IP6" }
}

/// Everything of a description after its origin and session name.
fn media_lines(ip: IpAddr, port: u16, chosen: Option<RemoteAudio>) -> String {
    let family = family(ip);
    let (formats, event) = match chosen {
        Some(remote) => (vec![remote.payload_type], remote.telephone_event),
        None => (vec![PCMU, PCMA], Some(TELEPHONE_EVENT)),
    };
    let mut list: Vec<String> = formats.iter().map(u8::to_string).collect();
    if let Some(event) = event {
        list.push(event.to_string());
    }
    let mut sdp = format!(
        "c=IN {family} {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP {}\r\n",
        list.join(" ")
    );
    for format in formats {
        let name = if format == PCMA { "PCMA" } else { "PCMU" };
        sdp.push_str(&format!("a=rtpmap:{format} {name}/8000\r\n"));
    }
    if let Some(event) = event {
        sdp.push_str(&format!(
            "a=rtpmap:{event} telephone-event/8000\r\na=fmtp:{event} 0-16\r\n"
        ));
    }
    sdp.push_str("a=ptime:20\r\na=sendrecv\r\n");
    sdp
}

/// Reads the audio stream of a description from the network: the first G.711 format the
/// other side lists (its preference), its telephone-event type and where to send RTP.
pub fn parse(body: &[u8]) -> Result<RemoteAudio, SdpError> {
    let text = std::str::from_utf8(body).map_err(|_| SdpError::NotText)?;
    let mut session_ip = None;
    let mut media_ip = None;
    let mut audio: Option<(u16, Vec<u8>)> = None;
    let mut in_audio = false;
    let mut event_types = Vec::new();
    for line in text.lines().map(str::trim) {
        let Some((kind, value)) = line.split_once('=') else {
            continue;
        };
        match kind {
            "m" => {
                in_audio = false;
                let mut fields = value.split_whitespace();
                if fields.next() == Some("audio") && audio.is_none() {
                    let port = fields
                        .next()
                        .and_then(|p| p.split('/').next()?.parse().ok());
                    let _profile = fields.next();
                    let formats = fields.filter_map(|f| f.parse().ok()).collect();
                    if let Some(port) = port {
                        audio = Some((port, formats));
                        in_audio = true;
                    }
                }
            }
            "c" => {
                let ip = value
                    .split_whitespace()
                    .nth(2)
                    .and_then(|a| a.split('/').next()?.parse().ok());
                if in_audio {
                    media_ip = ip.or(media_ip);
                } else if audio.is_none() {
                    session_ip = ip.or(session_ip);
                }
            }
            "a" if in_audio => {
                if let Some(map) = value.strip_prefix("rtpmap:") {
                    let mut parts = map.split_whitespace();
                    let format: Option<u8> = parts.next().and_then(|f| f.parse().ok());
                    let name = parts.next().unwrap_or("");
                    if let Some(format) = format
                        && name
                            .to_ascii_lowercase()
                            .starts_with("telephone-event/8000")
                    {
                        event_types.push(format);
                    }
                }
            }
            _ => {}
        }
    }
    let (port, formats) = audio.ok_or(SdpError::NoAudio)?;
    let ip: IpAddr = media_ip.or(session_ip).ok_or(SdpError::NoAddress)?;
    let payload_type = formats
        .iter()
        .copied()
        .find(|f| *f == PCMU || *f == PCMA)
        .ok_or(SdpError::NoCommonCodec)?;
    let telephone_event = formats.iter().copied().find(|f| event_types.contains(f));
    Ok(RemoteAudio {
        address: SocketAddr::new(ip, port),
        payload_type,
        telephone_event,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SIPP_OFFER: &str = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-11,16\r\n";

    #[test]
    fn a_sipp_offer_gives_address_codec_and_events() {
        let remote = parse(SIPP_OFFER.as_bytes()).unwrap();
        assert_eq!(remote.address, "127.0.0.1:6000".parse().unwrap());
        assert_eq!(remote.payload_type, PCMA);
        assert_eq!(remote.telephone_event, Some(101));
    }

    #[test]
    fn our_offer_reads_back_as_pcmu_first() {
        let ip: IpAddr = "192.0.2.10".parse().unwrap();
        let remote = parse(Origin::new(7).describe(ip, 20000, None).as_bytes()).unwrap();
        assert_eq!(
            remote,
            RemoteAudio {
                address: SocketAddr::new(ip, 20000),
                payload_type: PCMU,
                telephone_event: Some(101)
            }
        );
    }

    #[test]
    fn an_answer_keeps_only_the_chosen_codec() {
        let chosen = parse(SIPP_OFFER.as_bytes()).unwrap();
        let answer = Origin::new(1).describe("127.0.0.1".parse().unwrap(), 20002, Some(chosen));
        assert!(
            answer.contains("m=audio 20002 RTP/AVP 8 101\r\n"),
            "{answer}"
        );
        assert!(!answer.contains("PCMU"));
    }

    #[test]
    fn the_origin_version_goes_up_only_when_the_description_changes() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let chosen = parse(SIPP_OFFER.as_bytes()).unwrap();
        let mut origin = Origin::new(42);
        assert!(
            origin
                .describe(ip, 20002, None)
                .contains("o=barnstorm 42 42 IN IP4")
        );
        assert!(
            origin
                .describe(ip, 20002, Some(chosen))
                .contains("o=barnstorm 42 43 IN IP4")
        );
        assert!(
            origin
                .describe(ip, 20002, Some(chosen))
                .contains("o=barnstorm 42 43 IN IP4")
        );
    }

    #[test]
    fn media_level_address_wins_and_other_codecs_are_refused() {
        let sdp = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 10.0.0.2\r\n";
        assert_eq!(
            parse(sdp.as_bytes()).unwrap().address,
            "10.0.0.2:4000".parse().unwrap()
        );
        let g729 = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 18\r\n";
        assert_eq!(parse(g729.as_bytes()), Err(SdpError::NoCommonCodec));
        assert_eq!(parse(b"v=0\r\n"), Err(SdpError::NoAudio));
        assert_eq!(
            parse(b"m=audio 4000 RTP/AVP 0\r\n"),
            Err(SdpError::NoAddress)
        );
        assert_eq!(parse(&[0xff, 0xfe]), Err(SdpError::NotText));
    }
}
