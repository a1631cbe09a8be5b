//! Fuzzes what a node reads from the SIP network: any datagram parsed as a SIP message (by
//! the SIP stack the adapter is built on), and any body read as the session description
//! Barnstorm answers, never panics; a description that parses names a G.711 format.
#![no_main]

use barnstorm_telephony::sip::sdp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(message) = rsipstack::sip::SipMessage::try_from(bytes) {
        let body = match &message {
            rsipstack::sip::SipMessage::Request(request) => request.body.clone(),
            rsipstack::sip::SipMessage::Response(response) => response.body.clone(),
        };
        let _ = sdp::parse(&body);
    }
    if let Ok(remote) = sdp::parse(bytes) {
        assert!(remote.payload_type == sdp::PCMU || remote.payload_type == sdp::PCMA);
    }
});
