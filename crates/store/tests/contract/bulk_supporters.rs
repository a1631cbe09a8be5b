//! Bulk-loaded supporters count for outreach exactly as one-by-one ones do.

use barnstorm_domain::event::Channel;
use barnstorm_domain::geo::{LatLon, distance_km};
use barnstorm_store::events::{BulkSupporter, NewSupporter};
use barnstorm_store::{GroupKind, Store, both_backends};

const LEEDS: (f64, f64) = (53.7997, -1.5492);

/// Points scattered up to about 0.6 degrees around Leeds by a fixed linear congruential
/// generator, so the test is repeatable.
fn scattered(count: usize) -> Vec<BulkSupporter> {
    let mut seed: u64 = 42;
    let mut next = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        ((seed >> 11) as f64 / (1u64 << 53) as f64) * 1.2 - 0.6
    };
    (0..count)
        .map(|i| BulkSupporter {
            email: format!("bulk{i}@example.org"),
            name: format!("Bulk {i}"),
            postcode: "LS1 4AP".into(),
            location: (LEEDS.0 + next(), LEEDS.1 + next()),
        })
        .collect()
}

async fn bulk_supporters_join_the_audience(store: Store) {
    let group = store
        .create_group(None, "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap()
        .id;
    let people = scattered(1_234);
    assert_eq!(
        store
            .insert_supporters_bulk(
                group,
                &people,
                &barnstorm_store::events::BulkSource {
                    name: "test data",
                    wording: "Email me about events",
                    collected_by: None
                }
            )
            .await
            .unwrap(),
        1_234
    );

    for radius in [3.0, 10.0, 25.0, 80.0] {
        let expected = people
            .iter()
            .filter(|p| {
                let (lat, lon) = p.location;
                distance_km(
                    LatLon {
                        lat: LEEDS.0,
                        lon: LEEDS.1,
                    },
                    LatLon { lat, lon },
                ) <= radius
            })
            .count() as i64;
        assert_eq!(
            store
                .audience_count(group, LEEDS, radius, None)
                .await
                .unwrap(),
            expected,
            "within {radius} km"
        );
    }

    // The id sequence moved past the bulk rows: one-by-one supporters still insert, and
    // withdrawing a bulk supporter's consent takes them out of the count.
    let newcomer = store
        .upsert_supporter(&NewSupporter {
            email: "newcomer@example.org".into(),
            name: "Newcomer".into(),
            postcode: None,
            location: Some(LEEDS),
            phone: None,
        })
        .await
        .unwrap();
    store
        .grant_consent(
            newcomer.id,
            group,
            Channel::Email,
            &barnstorm_store::events::ConsentProof::given(
                "form",
                "https://example.org/form",
                "Email me about events",
            ),
        )
        .await
        .unwrap();
    let before = store
        .audience_count(group, LEEDS, 80.0, None)
        .await
        .unwrap();
    let first = store
        .supporter_by_email("bulk0@example.org")
        .await
        .unwrap()
        .unwrap();
    store
        .withdraw_consent(first.id, group, Channel::Email, "asked in a test")
        .await
        .unwrap();
    assert_eq!(
        store
            .audience_count(group, LEEDS, 80.0, None)
            .await
            .unwrap(),
        before - 1
    );
}

both_backends!(bulk_supporters_join_the_audience => bulk_supporters_join_the_audience);
