//! Listing the audit log: organisers see only their groups' entries, every lease is a
//! `contact.view`, and the person, campaign, caller, action and time filters narrow it.

use barnstorm_domain::contact_import::ImportedContact;
use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_store::phonebank::{Campaign, CampaignSettings};
use barnstorm_store::subject::{PersonLookup, PersonQuery};
use barnstorm_store::{AuditAction, AuditFilter, GroupKind, PersonIds, Store, both_backends};
use std::collections::BTreeMap;

const T0: i64 = 1_750_000_000_000;
const LEASE: i64 = 600_000;

fn contact(line: u64, phone: &str, first: &str) -> ImportedContact {
    ImportedContact {
        line,
        first_name: Some(first.into()),
        last_name: Some("Example".into()),
        phone_e164: normalise_phone(phone, Region::GB).unwrap(),
        other_phone_e164: None,
        email: None,
        postcode: None,
        extra: BTreeMap::new(),
        external_ids: Default::default(),
        warnings: Vec::new(),
    }
}

async fn campaign(store: &Store, group: i64, organiser: i64, list: &[ImportedContact]) -> Campaign {
    let c = store
        .create_campaign(group, &CampaignSettings::new("Spring"), Some(organiser))
        .await
        .unwrap();
    store.insert_contacts(c.id, group, list).await.unwrap();
    c
}

struct World {
    leeds: i64,
    york: i64,
    leeds_campaign: Campaign,
    york_campaign: Campaign,
    ann: i64,
    bob: i64,
}

/// Two groups with a campaign each; Ann is shown a contact in each, Bob one in Leeds.
async fn world(store: &Store) -> World {
    let leeds = store
        .create_group(None, "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap()
        .id;
    let york = store
        .create_group(None, "York", GroupKind::Branch, "", None)
        .await
        .unwrap()
        .id;
    let org = store
        .create_user("org@example.org", "Olu Organiser", None, false)
        .await
        .unwrap()
        .id;
    let ann = store
        .create_user("ann@example.org", "Ann Caller", None, false)
        .await
        .unwrap()
        .id;
    let bob = store
        .create_user("bob@example.org", "Bob Caller", None, false)
        .await
        .unwrap()
        .id;
    let leeds_campaign = campaign(
        store,
        leeds,
        org,
        &[
            contact(2, "020 7946 0123", "Sam"),
            contact(3, "020 7946 0999", "Olive"),
        ],
    )
    .await;
    let york_campaign = campaign(store, york, org, &[contact(2, "020 7946 0555", "Yusuf")]).await;
    for (c, caller, at) in [
        (&leeds_campaign, ann, T0),
        (&york_campaign, ann, T0 + 1000),
        (&leeds_campaign, bob, T0 + 2000),
    ] {
        store
            .claim_next_contact(c.id, caller, at, LEASE)
            .await
            .unwrap()
            .unwrap();
    }
    World {
        leeds,
        york,
        leeds_campaign,
        york_campaign,
        ann,
        bob,
    }
}

async fn list(store: &Store, filter: AuditFilter) -> Vec<barnstorm_store::AuditEntry> {
    store.list_audit(&filter, 0, 100).await.unwrap().entries
}

async fn organisers_see_only_their_groups(store: Store) {
    let w = world(&store).await;
    let leeds_only = list(
        &store,
        AuditFilter {
            groups: Some(vec![w.leeds]),
            ..AuditFilter::default()
        },
    )
    .await;
    assert!(
        leeds_only.iter().all(|e| e.about.group_id == Some(w.leeds)),
        "an organiser of Leeds sees nothing about York or about no group: {leeds_only:?}"
    );
    let views: Vec<_> = leeds_only
        .iter()
        .filter(|e| e.action == AuditAction::ContactView)
        .collect();
    assert_eq!(
        views.len(),
        2,
        "Ann and Bob were each shown a Leeds contact"
    );
    assert!(
        leeds_only
            .iter()
            .any(|e| e.action == AuditAction::CampaignCreate
                && e.about.campaign_id == Some(w.leeds_campaign.id))
    );

    let everything = list(&store, AuditFilter::default()).await;
    assert!(everything.iter().any(|e| e.about.group_id == Some(w.york)));
    assert!(
        everything
            .iter()
            .any(|e| e.action == AuditAction::UserCreate && e.about.group_id.is_none()),
        "instance admins also see entries about no group"
    );
    let nothing = list(
        &store,
        AuditFilter {
            groups: Some(Vec::new()),
            ..AuditFilter::default()
        },
    )
    .await;
    assert!(nothing.is_empty(), "organising no group shows nothing");
}

async fn filters_narrow_the_listing(store: Store) {
    let w = world(&store).await;
    // Ann, in every campaign: her two views, newest first.
    let ann = list(
        &store,
        AuditFilter {
            actor_user_id: Some(w.ann),
            actions: vec![AuditAction::ContactView],
            ..AuditFilter::default()
        },
    )
    .await;
    assert_eq!(
        ann.iter().map(|e| e.about.campaign_id).collect::<Vec<_>>(),
        vec![Some(w.york_campaign.id), Some(w.leeds_campaign.id)]
    );
    assert_eq!(ann[0].at, T0 + 1000);

    // One campaign: Bob's and Ann's views of Leeds and its creation, nothing of York.
    let leeds = list(
        &store,
        AuditFilter {
            campaign_id: Some(w.leeds_campaign.id),
            ..AuditFilter::default()
        },
    )
    .await;
    assert_eq!(leeds.len(), 3, "{leeds:?}");

    // A time range keeps only what happened inside it.
    let window = list(
        &store,
        AuditFilter {
            from: Some(T0 + 500),
            to: Some(T0 + 1500),
            ..AuditFilter::default()
        },
    )
    .await;
    assert_eq!(window.len(), 1);
    assert_eq!(window[0].about.group_id, Some(w.york));

    // A person, found by their number: only who was shown Sam.
    let PersonLookup::Found(sam) = store
        .find_person(&PersonQuery::parse(None, Some("020 7946 0123"), None, None).unwrap())
        .await
        .unwrap()
    else {
        panic!("Sam is one person");
    };
    let about_sam = list(
        &store,
        AuditFilter {
            person: Some(PersonIds::from(sam.as_ref())),
            ..AuditFilter::default()
        },
    )
    .await;
    assert_eq!(about_sam.len(), 1, "{about_sam:?}");
    assert_eq!(about_sam[0].actor_user_id, Some(w.ann));
    assert_eq!(about_sam[0].about.contact_id, Some(sam.contact_ids[0]));

    // Pages: one at a time, then no further page.
    let filter = AuditFilter {
        actions: vec![AuditAction::ContactView],
        ..AuditFilter::default()
    };
    let first = store.list_audit(&filter, 0, 2).await.unwrap();
    assert_eq!(first.entries.len(), 2);
    assert_eq!(first.next_offset, Some(2));
    let last = store.list_audit(&filter, 2, 2).await.unwrap();
    assert_eq!(last.entries.len(), 1);
    assert_eq!(last.entries[0].actor_user_id, Some(w.ann));
    assert_eq!(last.next_offset, None);
    assert!(w.bob != w.ann);
}

both_backends! {
    organisers_see_only_their_groups => organisers_see_only_their_groups,
    filters_narrow_the_listing => filters_narrow_the_listing,
}
