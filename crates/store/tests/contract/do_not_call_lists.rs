//! A group's do-not-call list as a whole: searching it (a number, part of one, words of
//! the reason, with `%` and `_` taken literally) a page at a time, and storing an uploaded
//! list in batches that suppress queued contacts by main or other number, in this group's
//! campaigns only, audited once a batch.

use barnstorm_domain::contact_import::ImportedContact;
use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_store::phonebank::{CampaignSettings, DoNotCallSearch};
use barnstorm_store::{AuditAction, GroupKind, Store, both_backends, now_millis};

/// The Manchester drama number 0161 496 0`nnn` as E.164.
fn manchester(nnn: u32) -> String {
    format!("+44161496{nnn:04}")
}

/// A queued contact with `phone` and, if given, `other` as its other number.
fn queued(line: u64, phone: &str, other: Option<&str>) -> ImportedContact {
    ImportedContact {
        line,
        first_name: Some(format!("Person{line}")),
        last_name: None,
        phone_e164: normalise_phone(phone, Region::GB).unwrap(),
        other_phone_e164: other.map(|o| normalise_phone(o, Region::GB).unwrap()),
        email: None,
        postcode: None,
        extra: Default::default(),
        external_ids: Default::default(),
        warnings: Vec::new(),
    }
}

async fn search_finds_numbers_and_words_a_page_at_a_time(store: Store) {
    let group = store
        .create_group(None, "Manchester", GroupKind::Branch, "", None)
        .await
        .unwrap();
    for (nnn, reason) in [
        (101, "Asked by email"),
        (102, "Said 100% no"),
        (103, "Wrote to the office"),
    ] {
        store
            .add_do_not_call(group.id, &manchester(nnn), reason, None)
            .await
            .unwrap();
    }
    let find = |typed: &str| DoNotCallSearch::new(typed);
    let phones = |page: &barnstorm_store::phonebank::DoNotCallPage| {
        let mut phones: Vec<String> = page.entries.iter().map(|e| e.phone.clone()).collect();
        phones.sort();
        phones
    };
    for (typed, expected) in [
        ("0161 496 0102", vec![manchester(102)]),
        (
            "496 010",
            vec![manchester(101), manchester(102), manchester(103)],
        ),
        ("100%", vec![manchester(102)]),
        ("office", vec![manchester(103)]),
        ("_", vec![]),
        ("", vec![manchester(101), manchester(102), manchester(103)]),
    ] {
        let page = store
            .search_do_not_call(group.id, &find(typed), 10, 0)
            .await
            .unwrap();
        assert_eq!(phones(&page), expected, "{typed:?}");
        assert_eq!(page.matching, expected.len() as i64, "{typed:?}");
        assert_eq!(page.total, 3, "{typed:?}");
    }
    let first = store
        .search_do_not_call(group.id, &find(""), 2, 0)
        .await
        .unwrap();
    let second = store
        .search_do_not_call(group.id, &find(""), 2, 2)
        .await
        .unwrap();
    assert_eq!((first.entries.len(), second.entries.len()), (2, 1));
    assert!(
        !first
            .entries
            .iter()
            .any(|e| second.entries.iter().any(|s| s.phone == e.phone)),
        "pages do not overlap"
    );
}

async fn an_uploaded_batch_suppresses_its_group_only_and_is_audited(store: Store) {
    let group = store
        .create_group(None, "Manchester", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let other_group = store
        .create_group(None, "Cardiff", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let organiser = store
        .create_user("org@example.org", "Olu Organiser", None, false)
        .await
        .unwrap();
    let ours = store
        .create_campaign(group.id, &CampaignSettings::new("Spring"), None)
        .await
        .unwrap();
    let theirs = store
        .create_campaign(
            other_group.id,
            &CampaignSettings::new("Cardiff calls"),
            None,
        )
        .await
        .unwrap();
    store
        .insert_contacts(
            ours.id,
            group.id,
            &[
                queued(2, "0161 496 0001", None),
                queued(3, "0161 496 0002", Some("0161 496 0500")),
                queued(4, "0161 496 0003", None),
            ],
        )
        .await
        .unwrap();
    store
        .insert_contacts(
            theirs.id,
            other_group.id,
            &[queued(2, "0161 496 0001", None)],
        )
        .await
        .unwrap();
    store
        .add_do_not_call(group.id, &manchester(4), "Asked before", None)
        .await
        .unwrap();
    // More rows than one INSERT holds (0161 496 0400 to 0999 and 020 7946 0400 to 0999),
    // with one listed already.
    let mut numbers: Vec<(String, String)> = (400..1000)
        .flat_map(|n| [manchester(n), format!("+44207946{n:04}")])
        .map(|phone| (phone, "On the uploaded list".to_owned()))
        .collect();
    numbers.push((manchester(1), "Asked by text".to_owned()));
    numbers.push((manchester(4), "Again".to_owned()));
    let done = store
        .add_do_not_call_batch(group.id, &numbers, organiser.id, "complaints.csv")
        .await
        .unwrap();
    assert_eq!(done.added, 1201, "every number but the listed one");
    assert_eq!(
        done.contacts_suppressed, 2,
        "by main number and by other number"
    );
    let counts = store.queue_counts(ours.id, now_millis()).await.unwrap();
    assert_eq!((counts.suppressed, counts.ready), (2, 1));
    let elsewhere = store.queue_counts(theirs.id, now_millis()).await.unwrap();
    assert_eq!(elsewhere.suppressed, 0, "another group's list is its own");
    let kept = store
        .do_not_call_entry(group.id, &manchester(4))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kept.reason, "Asked before",
        "a listed number keeps its entry"
    );
    let entry = store
        .do_not_call_entry(group.id, &manchester(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.added_by_name.as_deref(), Some("Olu Organiser"));
    let audited: Vec<_> = store
        .recent_audit(10)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == AuditAction::DoNotCallAdd)
        .collect();
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert!(
        audited[0]
            .detail
            .contains("1202 numbers uploaded from complaints.csv, 1201 new"),
        "{audited:?}"
    );
}

both_backends! {
    do_not_call_search => search_finds_numbers_and_words_a_page_at_a_time,
    do_not_call_upload_batch => an_uploaded_batch_suppresses_its_group_only_and_is_audited,
}
