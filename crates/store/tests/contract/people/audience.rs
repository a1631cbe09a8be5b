use super::{MANCHESTER, grant, group, supporter};
use barnstorm_domain::event::Channel;
use barnstorm_store::AuditAction;
use barnstorm_store::{Store, both_backends};

/// Leeds, about 57 km from Manchester.
const LEEDS: (f64, f64) = (53.7997, -1.5492);

async fn only_live_email_consent_with_a_place_counts(store: Store) {
    let g = group(&store, "Manchester").await;
    let other = group(&store, "Salford").await;
    let count = |store: Store| async move {
        store
            .audience_count(g, MANCHESTER, 10.0, None)
            .await
            .unwrap()
    };

    let ann = store
        .upsert_supporter(&supporter("ann@example.org", Some(MANCHESTER)))
        .await
        .unwrap();
    assert_eq!(count(store.clone()).await, 0, "no consent yet");
    grant(&store, ann.id, g, Channel::Sms).await;
    assert_eq!(
        count(store.clone()).await,
        0,
        "text consent is not email consent"
    );
    grant(&store, ann.id, other, Channel::Email).await;
    assert_eq!(
        count(store.clone()).await,
        0,
        "consent to another group does not count"
    );
    grant(&store, ann.id, g, Channel::Email).await;
    assert_eq!(count(store.clone()).await, 1);
    assert_eq!(
        store
            .audience_count(other, MANCHESTER, 10.0, None)
            .await
            .unwrap(),
        1
    );

    // No place known: not in any radius, until a postcode is given.
    let bo = store
        .upsert_supporter(&supporter("bo@example.org", None))
        .await
        .unwrap();
    grant(&store, bo.id, g, Channel::Email).await;
    assert_eq!(count(store.clone()).await, 1);
    store
        .upsert_supporter(&supporter("bo@example.org", Some(MANCHESTER)))
        .await
        .unwrap();
    assert_eq!(count(store.clone()).await, 2);

    // Moving away takes them out of this radius and into another.
    store
        .upsert_supporter(&supporter("bo@example.org", Some(LEEDS)))
        .await
        .unwrap();
    assert_eq!(count(store.clone()).await, 1);
    assert_eq!(store.audience_count(g, LEEDS, 5.0, None).await.unwrap(), 1);
    assert_eq!(
        store
            .audience_count(g, MANCHESTER, 60.0, None)
            .await
            .unwrap(),
        2
    );

    // Withdrawing removes; granting again restores; the original proof is kept meanwhile.
    store
        .withdraw_consent(ann.id, g, Channel::Email, "asked in a test")
        .await
        .unwrap();
    store
        .withdraw_consent(ann.id, g, Channel::Email, "asked in a test")
        .await
        .unwrap();
    assert_eq!(count(store.clone()).await, 0);
    let consents = store.consents(ann.id).await.unwrap();
    let email_g = consents
        .iter()
        .find(|c| c.group_id == g && c.channel == Channel::Email)
        .unwrap();
    assert!(email_g.withdrawn_at.is_some());
    store
        .grant_consent(
            ann.id,
            g,
            Channel::Email,
            &barnstorm_store::events::ConsentProof::given(
                "rsvp:9",
                "https://example.org/form",
                "Email me about events",
            ),
        )
        .await
        .unwrap();
    assert_eq!(count(store.clone()).await, 1);
    let consents = store.consents(ann.id).await.unwrap();
    assert_eq!(consents.len(), 3);
    let renewed = consents
        .iter()
        .find(|c| c.group_id == g && c.channel == Channel::Email)
        .unwrap();
    assert_eq!(
        (renewed.withdrawn_at, renewed.source.as_str()),
        (None, "rsvp:9")
    );

    // Details given later update; missing ones are kept; the unsubscribe token never changes.
    let again = store
        .upsert_supporter(&barnstorm_store::events::NewSupporter {
            name: String::new(),
            phone: Some("0161 496 0000".into()),
            ..supporter("ann@example.org", None)
        })
        .await
        .unwrap();
    assert_eq!(again.id, ann.id);
    assert_eq!(again.name, "ann");
    assert_eq!(again.location, Some(MANCHESTER));
    assert_eq!(again.phone.as_deref(), Some("0161 496 0000"));
    assert_eq!(again.unsubscribe_token, ann.unsubscribe_token);
    assert!(ann.unsubscribe_token.len() >= 43);

    // Erasure takes them out of every audience.
    assert!(store.delete_supporter(ann.id).await.unwrap());
    assert_eq!(count(store.clone()).await, 0);
    assert_eq!(
        store
            .audience_count(other, MANCHESTER, 10.0, None)
            .await
            .unwrap(),
        0
    );
    assert!(store.consents(ann.id).await.unwrap().is_empty());
}

async fn suppressed_addresses_are_never_in_an_audience(store: Store) {
    let g = group(&store, "Manchester").await;
    let cy = store
        .upsert_supporter(&supporter("cy@example.org", Some(MANCHESTER)))
        .await
        .unwrap();
    grant(&store, cy.id, g, Channel::Email).await;
    assert_eq!(
        store
            .audience_count(g, MANCHESTER, 1.0, None)
            .await
            .unwrap(),
        1
    );
    assert!(
        store
            .add_suppression("cy@example.org", "bounced")
            .await
            .unwrap()
    );
    assert!(
        !store
            .add_suppression("cy@example.org", "bounced")
            .await
            .unwrap()
    );
    assert!(store.is_suppressed("cy@example.org").await.unwrap());
    assert_eq!(
        store
            .audience_count(g, MANCHESTER, 1.0, None)
            .await
            .unwrap(),
        0
    );
    // Consent given again does not override the suppression; nor does a new location.
    store
        .withdraw_consent(cy.id, g, Channel::Email, "asked in a test")
        .await
        .unwrap();
    grant(&store, cy.id, g, Channel::Email).await;
    store
        .upsert_supporter(&supporter("cy@example.org", Some(LEEDS)))
        .await
        .unwrap();
    assert_eq!(store.audience_count(g, LEEDS, 1.0, None).await.unwrap(), 0);

    // Suppressed before they ever signed up.
    store
        .add_suppression("di@example.org", "objected")
        .await
        .unwrap();
    let di = store
        .upsert_supporter(&supporter("di@example.org", Some(MANCHESTER)))
        .await
        .unwrap();
    grant(&store, di.id, g, Channel::Email).await;
    assert_eq!(
        store
            .audience_count(g, MANCHESTER, 1.0, None)
            .await
            .unwrap(),
        0
    );
    let audit = store.recent_audit(50).await.unwrap();
    let added = audit
        .iter()
        .filter(|e| e.action == AuditAction::SuppressionAdd)
        .count();
    assert_eq!(added, 2);
    assert!(
        audit
            .iter()
            .all(|e| !e.detail.contains("@") && !e.subject.contains("@"))
    );
}

async fn unsubscribe_links_leave_a_group_or_everything(store: Store) {
    let g = group(&store, "Manchester").await;
    let other = group(&store, "Salford").await;
    let ed = store
        .upsert_supporter(&supporter("ed@example.org", Some(MANCHESTER)))
        .await
        .unwrap();
    for group in [g, other] {
        grant(&store, ed.id, group, Channel::Email).await;
        grant(&store, ed.id, group, Channel::Sms).await;
    }
    assert_eq!(
        store.unsubscribe("no-such-token", None).await.unwrap(),
        None
    );

    let left = store
        .unsubscribe(&ed.unsubscribe_token, Some(g))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(left.masked_email, "e***@example.org");
    assert_eq!(left.group_name.as_deref(), Some("Manchester"));
    let again = store
        .unsubscribe(&ed.unsubscribe_token, Some(g))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        again, left,
        "following the link twice gives the same answer"
    );
    assert_eq!(
        store
            .audience_count(g, MANCHESTER, 1.0, None)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .audience_count(other, MANCHESTER, 1.0, None)
            .await
            .unwrap(),
        1
    );
    assert!(!store.is_suppressed("ed@example.org").await.unwrap());

    let all = store
        .unsubscribe(&ed.unsubscribe_token, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(all.group_name, None);
    store
        .unsubscribe(&ed.unsubscribe_token, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .audience_count(other, MANCHESTER, 1.0, None)
            .await
            .unwrap(),
        0
    );
    assert!(store.is_suppressed("ed@example.org").await.unwrap());
    let consents = store.consents(ed.id).await.unwrap();
    let live: Vec<_> = consents
        .iter()
        .filter(|c| c.withdrawn_at.is_none())
        .collect();
    assert_eq!(
        live.len(),
        2,
        "text consent is untouched by an email unsubscribe"
    );
    assert!(live.iter().all(|c| c.channel == Channel::Sms));

    let audit = store.recent_audit(50).await.unwrap();
    let withdrawals = audit
        .iter()
        .filter(|e| e.action == AuditAction::ConsentWithdraw)
        .count();
    assert_eq!(
        withdrawals, 2,
        "only changes are audited, not repeated clicks"
    );
}

/// A small deterministic generator, so a failure can be reproduced.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Haversine written out again here, so the check does not share code with the store.
fn independent_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let dp = p2 - p1;
    let dl = (b.1 - a.1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0088 * h.sqrt().asin()
}

async fn audience_count_equals_an_independent_count(store: Store) {
    let g = group(&store, "North West").await;
    let mut rng = Lcg(42);
    // Supporters sit at postcode centres: a few hundred points, several people at each.
    let centres: Vec<(f64, f64)> = (0..120)
        .map(|_| (53.0 + rng.next() * 1.2, -3.0 + rng.next() * 2.0))
        .collect();
    let mut people = Vec::new();
    for n in 0..400 {
        let at = centres[(rng.next() * centres.len() as f64) as usize];
        let s = store
            .upsert_supporter(&supporter(&format!("p{n}@example.org"), Some(at)))
            .await
            .unwrap();
        grant(&store, s.id, g, Channel::Email).await;
        people.push(at);
    }
    for (center, radius) in [
        (MANCHESTER, 5.0),
        (MANCHESTER, 20.0),
        ((53.6, -2.5), 35.0),
        ((53.2, -2.9), 12.5),
        ((54.1, -1.2), 50.0),
        ((53.5, -2.0), 200.0),
    ] {
        let expected = people
            .iter()
            .filter(|p| independent_km(center, **p) <= radius)
            .count() as i64;
        let counted = store.audience_count(g, center, radius, None).await.unwrap();
        assert_eq!(counted, expected, "{radius} km around {center:?}");
    }
}

both_backends!(
    only_live_email_consent_with_a_place_counts => only_live_email_consent_with_a_place_counts,
    suppressed_addresses_are_never_in_an_audience => suppressed_addresses_are_never_in_an_audience,
    unsubscribe_links_leave_a_group_or_everything => unsubscribe_links_leave_a_group_or_everything,
    audience_count_equals_an_independent_count => audience_count_equals_an_independent_count,
);
