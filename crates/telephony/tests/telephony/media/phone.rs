//! A phone for the tests: a UDP socket that sends and reads RTP.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use barnstorm_telephony::media::rtp::{self, RtpHeader};
use barnstorm_telephony::media::{Codec, Leg, LegConfig, Media};
use tokio::net::UdpSocket;

pub const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// Media on its own port range, so tests running at once do not meet.
pub async fn media(first_port: u16) -> Media {
    Media::new(LOCALHOST.into(), first_port..=first_port + 99)
        .await
        .unwrap()
}

pub struct Phone {
    pub socket: UdpSocket,
    pub ssrc: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub header: RtpHeader,
    pub payload: Vec<u8>,
}

impl Phone {
    pub async fn new(ssrc: u32) -> Phone {
        Phone {
            socket: UdpSocket::bind((LOCALHOST, 0)).await.unwrap(),
            ssrc,
        }
    }

    pub fn address(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    /// Starts `leg` towards this phone.
    pub fn dial(&self, leg: &Leg, codec: Codec) {
        leg.start(LegConfig {
            remote: self.address(),
            codec,
            dtmf_payload_type: Some(101),
        });
    }

    pub async fn send(
        &self,
        leg: &Leg,
        payload_type: u8,
        sequence: u16,
        timestamp: u32,
        payload: &[u8],
    ) {
        let header = RtpHeader {
            marker: false,
            payload_type,
            sequence,
            timestamp,
            ssrc: self.ssrc,
        };
        let mut packet = [0u8; 1500];
        let len = rtp::write(&header, payload, &mut packet).unwrap();
        self.send_raw(leg, &packet[..len]).await;
    }

    pub async fn send_raw(&self, leg: &Leg, bytes: &[u8]) {
        self.socket
            .send_to(bytes, (LOCALHOST, leg.port()))
            .await
            .unwrap();
    }

    /// The next packet, or `None` after 300 ms of nothing.
    pub async fn receive(&self) -> Option<Received> {
        self.receive_within(Duration::from_millis(300)).await
    }

    pub async fn receive_within(&self, wait: Duration) -> Option<Received> {
        let mut buffer = [0u8; 1500];
        let (len, _) = tokio::time::timeout(wait, self.socket.recv_from(&mut buffer))
            .await
            .ok()?
            .unwrap();
        let packet = rtp::parse(&buffer[..len]).unwrap();
        Some(Received {
            header: packet.header,
            payload: packet.payload.to_vec(),
        })
    }

    pub async fn receive_n(&self, count: usize) -> Vec<Received> {
        let mut packets = Vec::new();
        for _ in 0..count {
            packets.push(self.receive().await.expect("a packet"));
        }
        packets
    }
}

/// A 160-byte payload that tells packets apart.
pub fn voice(tag: u8) -> Vec<u8> {
    (0..160u8)
        .map(|i| i.wrapping_mul(7).wrapping_add(tag))
        .collect()
}
