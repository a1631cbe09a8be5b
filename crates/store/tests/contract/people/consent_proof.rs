//! Consent records with provenance: the exact words ticked (one stored row per wording),
//! the form's address, the privacy notice version in force, who collected a bulk load and
//! how a consent was withdrawn; a bulk load that does not name its source is refused.

use super::{MANCHESTER, group, live_event, rsvp, rsvp_mail};
use barnstorm_domain::event::Channel;
use barnstorm_store::events::{BulkSource, BulkSupporter};
use barnstorm_store::{Store, StoreError, both_backends};

async fn a_consent_keeps_its_wording_form_notice_and_withdrawal(store: Store) {
    let g = group(&store, "Hulme").await;
    let event = live_event(&store, g, None).await;
    let first = rsvp(
        event.id,
        "ann@example.org",
        &[Channel::Email, Channel::Phone],
    );
    store.create_rsvp(&first, &rsvp_mail).await.unwrap();
    let ann = store
        .supporter_by_email("ann@example.org")
        .await
        .unwrap()
        .unwrap();
    let consents = store.consents(ann.id).await.unwrap();
    let email = consents
        .iter()
        .find(|c| c.channel == Channel::Email)
        .unwrap();
    assert_eq!(
        email.wording.as_deref(),
        Some("Email me about other events from Hulme and its local groups"),
        "the words beside the box"
    );
    assert_eq!(email.source, format!("rsvp:{}", event.id));
    assert_eq!(email.source_detail, "https://example.org/events/1");
    assert_eq!(
        (email.privacy_notice_id, email.collected_by),
        (None, None),
        "no notice published yet; given by the person"
    );
    let phone = consents
        .iter()
        .find(|c| c.channel == Channel::Phone)
        .unwrap();
    assert_eq!(
        phone.wording.as_deref(),
        Some("Phone me about other events from Hulme and its local groups")
    );

    let version = store
        .publish_privacy_notice("## How we use your data\n\nWe keep it safe.", None)
        .await
        .unwrap();
    assert_eq!(
        store.privacy_notice().await.unwrap().map(|n| n.id),
        Some(version)
    );
    store
        .create_rsvp(
            &rsvp(event.id, "bo@example.org", &[Channel::Email]),
            &rsvp_mail,
        )
        .await
        .unwrap();
    let bo = store
        .supporter_by_email("bo@example.org")
        .await
        .unwrap()
        .unwrap();
    let bo_email = store.consents(bo.id).await.unwrap().remove(0);
    assert_eq!(bo_email.privacy_notice_id, Some(version));
    assert_eq!(
        bo_email.wording, email.wording,
        "the same words, stored once"
    );

    store
        .unsubscribe(&ann.unsubscribe_token, Some(g))
        .await
        .unwrap();
    let withdrawn = store
        .consents(ann.id)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.channel == Channel::Email)
        .unwrap();
    assert!(withdrawn.withdrawn_at.is_some());
    assert_eq!(
        withdrawn.withdrawn_how.as_deref(),
        Some("the unsubscribe link in a mail from the group")
    );
    assert_eq!(withdrawn.wording, email.wording, "the proof stays");
}

async fn a_bulk_load_must_name_its_source(store: Store) {
    let g = group(&store, "Hulme").await;
    let people = [BulkSupporter {
        email: "cy@example.org".into(),
        name: "Cy".into(),
        postcode: "M1".into(),
        location: MANCHESTER,
    }];
    for (name, wording) in [("", "Email me"), ("members.csv", " ")] {
        let refused = store
            .insert_supporters_bulk(
                g,
                &people,
                &BulkSource {
                    name,
                    wording,
                    collected_by: None,
                },
            )
            .await;
        assert!(
            matches!(refused, Err(StoreError::Invalid(_))),
            "{refused:?}"
        );
    }
    assert!(
        store
            .supporter_by_email("cy@example.org")
            .await
            .unwrap()
            .is_none(),
        "nothing is stored"
    );
    let organiser = store
        .create_user("org@example.org", "Olive", None, false)
        .await
        .unwrap();
    store
        .insert_supporters_bulk(
            g,
            &people,
            &BulkSource {
                name: "members-2026-11.csv",
                wording: "Keep me posted by email",
                collected_by: Some(organiser.id),
            },
        )
        .await
        .unwrap();
    let cy = store
        .supporter_by_email("cy@example.org")
        .await
        .unwrap()
        .unwrap();
    let consent = store.consents(cy.id).await.unwrap().remove(0);
    assert_eq!(consent.source, "bulk");
    assert_eq!(consent.source_detail, "members-2026-11.csv");
    assert_eq!(consent.wording.as_deref(), Some("Keep me posted by email"));
    assert_eq!(consent.collected_by, Some(organiser.id));
}

both_backends!(
    a_consent_keeps_its_wording_form_notice_and_withdrawal => a_consent_keeps_its_wording_form_notice_and_withdrawal,
    a_bulk_load_must_name_its_source => a_bulk_load_must_name_its_source,
);
