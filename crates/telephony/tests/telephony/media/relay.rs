//! Bridged legs: audio both ways with each leg's own numbering, transcoding, latching and
//! loss counting.

use std::time::Duration;

use barnstorm_telephony::media::Codec;

use super::phone::{Phone, media, voice};

#[tokio::test]
async fn bridged_audio_arrives_intact_in_each_legs_own_continuous_stream() {
    let media = media(42_000).await;
    let (caller_leg, contact_leg, next_contact_leg) = (
        media.open_leg().await.unwrap(),
        media.open_leg().await.unwrap(),
        media.open_leg().await.unwrap(),
    );
    let (caller, contact, next_contact) = (
        Phone::new(11).await,
        Phone::new(22).await,
        Phone::new(33).await,
    );
    caller.dial(&caller_leg, Codec::Pcmu);
    contact.dial(&contact_leg, Codec::Pcmu);
    next_contact.dial(&next_contact_leg, Codec::Pcmu);
    caller_leg.bridge(&contact_leg);

    for sequence in 0..3u16 {
        caller
            .send(
                &caller_leg,
                0,
                500 + sequence,
                8000 + 160 * u32::from(sequence),
                &voice(1),
            )
            .await;
        contact
            .send(
                &contact_leg,
                0,
                9000 + sequence,
                160 * u32::from(sequence),
                &voice(2),
            )
            .await;
    }
    let at_contact = contact.receive_n(3).await;
    assert!(
        at_contact
            .iter()
            .all(|p| p.payload == voice(1) && p.header.ssrc == contact_leg.ssrc())
    );
    let mut at_caller = caller.receive_n(3).await;
    assert!(at_caller.iter().all(|p| p.payload == voice(2)));

    // The contact hangs up and the next one is bridged in: the caller's stream runs on.
    contact_leg.close();
    caller_leg.bridge(&next_contact_leg);
    tokio::time::sleep(Duration::from_millis(40)).await;
    for sequence in 0..3u16 {
        next_contact
            .send(
                &next_contact_leg,
                0,
                60_000 + sequence,
                777 + 160 * u32::from(sequence),
                &voice(3),
            )
            .await;
    }
    at_caller.extend(caller.receive_n(3).await);
    assert_eq!(at_caller[3].payload, voice(3));
    assert!(
        at_caller
            .iter()
            .all(|p| p.header.ssrc == caller_leg.ssrc() && p.header.payload_type == 0)
    );
    let first = at_caller[0].header;
    for (index, packet) in at_caller.iter().enumerate() {
        assert_eq!(
            packet.header.sequence,
            first.sequence.wrapping_add(index as u16),
            "packet {index}"
        );
    }
    let jump = at_caller[3]
        .header
        .timestamp
        .wrapping_sub(at_caller[2].header.timestamp);
    assert!(
        (160..8000).contains(&jump),
        "timestamp moved by {jump} across the change"
    );
    assert!(at_caller[3].header.marker && !at_caller[4].header.marker);
    assert_ne!(caller_leg.ssrc(), next_contact_leg.ssrc());
}

#[tokio::test]
async fn a_law_and_mu_law_legs_are_transcoded() {
    let media = media(42_100).await;
    let (mu_leg, a_leg) = (
        media.open_leg().await.unwrap(),
        media.open_leg().await.unwrap(),
    );
    let (mu_phone, a_phone) = (Phone::new(1).await, Phone::new(2).await);
    mu_phone.dial(&mu_leg, Codec::Pcmu);
    a_phone.dial(&a_leg, Codec::Pcma);
    mu_leg.bridge(&a_leg);

    // Silence, the loudest positive and the loudest negative sample, and a quiet one.
    mu_phone
        .send(&mu_leg, 0, 1, 0, &[0xff, 0x80, 0x00, 0xf0])
        .await;
    let at_a = a_phone.receive().await.unwrap();
    assert_eq!(at_a.header.payload_type, 8);
    assert_eq!(at_a.payload, [0xd5, 0xaa, 0x2a, 0xd2]);
    a_phone.send(&a_leg, 8, 1, 0, &[0xd5, 0xaa, 0x2a]).await;
    let at_mu = mu_phone.receive().await.unwrap();
    assert_eq!(at_mu.header.payload_type, 0);
    assert_eq!(at_mu.payload, [0xfe, 0x80, 0x00]);
    // A packet in a codec the leg did not negotiate is not relayed.
    a_phone.send(&a_leg, 0, 2, 160, &[0xff]).await;
    assert_eq!(mu_phone.receive().await, None);
}

#[tokio::test]
async fn replies_go_where_packets_come_from_and_strangers_are_ignored() {
    let media = media(42_200).await;
    let (caller_leg, contact_leg) = (
        media.open_leg().await.unwrap(),
        media.open_leg().await.unwrap(),
    );
    let (address_in_sdp, behind_nat, stranger, contact) = (
        Phone::new(1).await,
        Phone::new(2).await,
        Phone::new(3).await,
        Phone::new(4).await,
    );
    address_in_sdp.dial(&caller_leg, Codec::Pcmu);
    contact.dial(&contact_leg, Codec::Pcmu);
    caller_leg.bridge(&contact_leg);

    behind_nat.send(&caller_leg, 0, 1, 0, &voice(1)).await;
    assert_eq!(contact.receive().await.unwrap().payload, voice(1));
    contact.send(&contact_leg, 0, 1, 0, &voice(2)).await;
    assert_eq!(behind_nat.receive().await.unwrap().payload, voice(2));
    assert_eq!(
        address_in_sdp
            .receive_within(Duration::from_millis(50))
            .await,
        None
    );

    let ignored_before = media.stats().packets_ignored;
    stranger.send(&caller_leg, 0, 2, 160, &voice(3)).await;
    stranger.send_raw(&caller_leg, b"not RTP at all").await;
    assert_eq!(contact.receive().await, None);
    assert_eq!(media.stats().packets_ignored, ignored_before + 2);
    assert_eq!(caller_leg.stats().received, 1);

    // The address in the SDP starts sending after all: it takes the call back.
    address_in_sdp.send(&caller_leg, 0, 3, 320, &voice(4)).await;
    assert_eq!(contact.receive().await.unwrap().payload, voice(4));
    contact.send(&contact_leg, 0, 2, 160, &voice(5)).await;
    assert_eq!(address_in_sdp.receive().await.unwrap().payload, voice(5));
    behind_nat.send(&caller_leg, 0, 4, 480, &voice(6)).await;
    assert_eq!(contact.receive().await, None);
}

#[tokio::test]
async fn gaps_and_reordering_are_counted() {
    let media = media(42_300).await;
    let leg = media.open_leg().await.unwrap();
    let phone = Phone::new(5).await;
    phone.dial(&leg, Codec::Pcmu);
    for sequence in [1, 2, 5, 4, 6] {
        phone
            .send(&leg, 0, sequence, u32::from(sequence) * 160, &voice(0))
            .await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stats = leg.stats();
    assert_eq!((stats.received, stats.lost, stats.late), (5, 2, 1));
    assert!(stats.last_received_at.is_some());
    let node = media.stats();
    assert_eq!(
        (node.packets_received, node.packets_lost, node.packets_late),
        (5, 2, 1)
    );
    // Not bridged and not playing, a leg sends nothing.
    assert_eq!(phone.receive().await, None);
}
