//! Contacts' ids in other systems (VAN ID, NationBuilder id, …) kept at import, read back
//! for the CRM exports and removed on erasure; a campaign's own CRM result codes.

use barnstorm_domain::contact_import::{ImportedContact, NATIONBUILDER, VAN};
use barnstorm_domain::crm::{Crm, ResultCodes};
use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_store::phonebank::{Campaign, CampaignSettings};
use barnstorm_store::{GroupKind, Store, both_backends};
use std::collections::BTreeMap;

async fn campaign(store: &Store, name: &str) -> Campaign {
    let group = store
        .create_group(None, name, GroupKind::Branch, "", None)
        .await
        .unwrap();
    store
        .create_campaign(group.id, &CampaignSettings::new(name), None)
        .await
        .unwrap()
}

/// A contact on `line` with the Leeds drama number 0113 496 0`nnn` and `ids`.
fn contact(line: u64, nnn: u32, ids: &[(&str, &str)]) -> ImportedContact {
    ImportedContact {
        line,
        first_name: Some(format!("First{line}")),
        last_name: None,
        phone_e164: normalise_phone(&format!("0113 496 0{nnn:03}"), Region::GB).unwrap(),
        other_phone_e164: None,
        email: None,
        postcode: None,
        extra: BTreeMap::new(),
        external_ids: ids
            .iter()
            .map(|(s, v)| ((*s).to_owned(), (*v).to_owned()))
            .collect(),
        warnings: Vec::new(),
    }
}

async fn ids_of(store: &Store, campaign_id: i64, nnn: u32) -> BTreeMap<String, String> {
    let phone = format!("+44113496{nnn:04}");
    let stored = store
        .contact_by_phone(campaign_id, &phone)
        .await
        .unwrap()
        .unwrap();
    store
        .crm_details(&[stored.id])
        .await
        .unwrap()
        .remove(&stored.id)
        .unwrap_or_default()
        .external_ids
}

async fn imported_ids_are_kept_per_contact_first_come_first_kept(store: Store) {
    let c = campaign(&store, "Leeds").await;
    let other = campaign(&store, "Bradford").await;
    let rows = vec![
        contact(2, 1, &[(VAN, "1001"), (NATIONBUILDER, "nb-1")]),
        contact(3, 2, &[(VAN, "1002")]),
        // The same VAN ID on another number: the first contact keeps it.
        contact(4, 3, &[(VAN, "1001"), ("Branch no", "B4")]),
        // A later row of the first number adds an id it lacked but keeps its VAN ID.
        contact(5, 2, &[(VAN, "9999"), (NATIONBUILDER, "nb-2")]),
    ];
    store
        .insert_contacts(c.id, c.group_id, &rows)
        .await
        .unwrap();
    // Another campaign may hold the same VAN ID.
    store
        .insert_contacts(other.id, other.group_id, &[contact(2, 1, &[(VAN, "1001")])])
        .await
        .unwrap();

    let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(s, v)| ((*s).to_owned(), (*v).to_owned()))
            .collect()
    };
    assert_eq!(
        ids_of(&store, c.id, 1).await,
        map(&[(VAN, "1001"), (NATIONBUILDER, "nb-1")])
    );
    assert_eq!(
        ids_of(&store, c.id, 2).await,
        map(&[(VAN, "1002"), (NATIONBUILDER, "nb-2")])
    );
    assert_eq!(ids_of(&store, c.id, 3).await, map(&[("Branch no", "B4")]));
    assert_eq!(ids_of(&store, other.id, 1).await, map(&[(VAN, "1001")]));
    assert_eq!(
        store.campaign_external_systems(c.id).await.unwrap(),
        ["Branch no", NATIONBUILDER, VAN]
    );

    let first = store
        .contact_by_phone(c.id, "+441134960001")
        .await
        .unwrap()
        .unwrap();
    store
        .erase_campaign_contact(c.id, first.id, None)
        .await
        .unwrap()
        .unwrap();
    assert!(
        store.crm_details(&[first.id]).await.unwrap().is_empty(),
        "an erased contact keeps no ids in other systems"
    );
}

async fn a_campaign_keeps_its_own_result_codes_per_crm(store: Store) {
    let c = campaign(&store, "Leeds").await;
    let outcomes = &c.settings.outcomes;
    assert_eq!(
        store
            .campaign_result_codes(c.id, Crm::Van, outcomes)
            .await
            .unwrap(),
        ResultCodes::default()
    );
    let codes = ResultCodes::new(
        BTreeMap::from([("no_answer".to_owned(), "NH".to_owned())]),
        outcomes,
    )
    .unwrap();
    store
        .set_campaign_result_codes(c.id, c.group_id, Crm::Van, &codes, None)
        .await
        .unwrap();
    let replaced = ResultCodes::new(
        BTreeMap::from([("busy".to_owned(), "BZ".to_owned())]),
        outcomes,
    )
    .unwrap();
    store
        .set_campaign_result_codes(c.id, c.group_id, Crm::Van, &replaced, None)
        .await
        .unwrap();
    let van = store
        .campaign_result_codes(c.id, Crm::Van, outcomes)
        .await
        .unwrap();
    assert_eq!(van, replaced, "saving replaces the whole mapping");
    assert_eq!(
        store
            .campaign_result_codes(c.id, Crm::Nationbuilder, outcomes)
            .await
            .unwrap(),
        ResultCodes::default(),
        "each CRM has its own codes"
    );
}

both_backends! {
    imported_ids_kept => imported_ids_are_kept_per_contact_first_come_first_kept,
    result_codes_per_crm => a_campaign_keeps_its_own_result_codes_per_crm,
}
