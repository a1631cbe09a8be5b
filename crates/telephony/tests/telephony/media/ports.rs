//! Ports: legs take even ports of the range, a full range is a clear error, and closing a
//! leg gives its port back.

use std::time::Duration;

use barnstorm_telephony::media::{Media, MediaError};

use super::phone::LOCALHOST;

#[tokio::test]
async fn ports_are_even_limited_and_freed_on_close() {
    let media = Media::new(LOCALHOST.into(), 42_701..=42_704).await.unwrap();
    let first = media.open_leg().await.unwrap();
    let second = media.open_leg().await.unwrap();
    assert_eq!((first.port(), second.port()), (42_702, 42_704));
    assert_eq!(media.stats().legs_open, 2);

    let error = media.open_leg().await.err().expect("the range is full");
    assert!(matches!(
        error,
        MediaError::PortsExhausted {
            first: 42_701,
            last: 42_704
        }
    ));
    assert!(
        error
            .to_string()
            .contains("no free RTP port between 42701 and 42704"),
        "{error}"
    );

    first.close();
    let mut reopened = media.open_leg().await;
    for _ in 0..100 {
        if reopened.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        reopened = media.open_leg().await;
    }
    let third = reopened.unwrap();
    assert_eq!(third.port(), 42_702);
    assert_eq!(media.stats().legs_open, 2);
    drop(second);
    third.close();
    assert_eq!(media.stats().legs_open, 0);
}

#[tokio::test]
async fn a_range_without_an_even_port_is_refused() {
    let error = Media::new(LOCALHOST.into(), 42_801..=42_801)
        .await
        .err()
        .expect("no even port");
    assert!(matches!(error, MediaError::PortRange { .. }));
    let (first, last) = (42_802, 42_801);
    assert!(Media::new(LOCALHOST.into(), first..=last).await.is_err());
}
