use barnstorm_domain::contact_import::{ImportedContact, RowRejection, RowWarning};
use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_store::AuditAction;
use barnstorm_store::phonebank::{
    Campaign, CampaignSettings, ImportBatchResult, ImportJobStatus, NoteKind,
};
use barnstorm_store::{GroupKind, Store, both_backends, now_millis};
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

/// A contact on line `line` with the London drama number 020 7946 0`nnn`.
fn contact(line: u64, nnn: u32) -> ImportedContact {
    let mut extra = BTreeMap::new();
    extra.insert("Ward".to_owned(), format!("Ward £{line}"));
    ImportedContact {
        line,
        first_name: Some(format!("First{line}")),
        last_name: None,
        phone_e164: normalise_phone(&format!("020 7946 0{nnn:03}"), Region::GB).unwrap(),
        other_phone_e164: None,
        email: Some(format!("p{line}@example.org")),
        postcode: Some("LS1 4AP".into()),
        extra,
        external_ids: Default::default(),
        warnings: Vec::new(),
    }
}

/// The E.164 form of 020 7946 0`nnn`.
fn london(nnn: u32) -> String {
    format!("+44207946{nnn:04}")
}

async fn duplicates_are_counted_inside_and_across_batches(store: Store) {
    let c = campaign(&store, "Leeds").await;
    let first = vec![contact(2, 1), contact(3, 2), contact(4, 1), contact(5, 3)];
    let result = store
        .insert_contacts(c.id, c.group_id, &first)
        .await
        .unwrap();
    assert_eq!(
        result,
        ImportBatchResult {
            imported: 3,
            duplicates: 1,
            suppressed: 0
        },
        "the second 020 7946 0001 in the same batch is a duplicate"
    );
    let second = vec![contact(6, 2), contact(7, 4), contact(8, 3)];
    let result = store
        .insert_contacts(c.id, c.group_id, &second)
        .await
        .unwrap();
    assert_eq!(result.imported, 1);
    assert_eq!(
        result.duplicates, 2,
        "numbers from the first batch are duplicates"
    );
    assert_eq!(store.contact_count(c.id).await.unwrap(), 4);
    let first_seen = store
        .contact_by_phone(c.id, &london(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        first_seen.first_name, "First2",
        "the first row with a number wins"
    );
    assert_eq!(
        (first_seen.last_name.as_str(), first_seen.other_phone),
        ("", None)
    );
    assert_eq!(first_seen.email.as_deref(), Some("p2@example.org"));
    assert_eq!(first_seen.postcode.as_deref(), Some("LS1 4AP"));
    assert_eq!(
        first_seen.extra.get("Ward").map(String::as_str),
        Some("Ward £2")
    );
    assert!(
        store
            .contact_by_phone(c.id, &london(99))
            .await
            .unwrap()
            .is_none()
    );

    let other = campaign(&store, "York").await;
    let result = store
        .insert_contacts(other.id, other.group_id, &first)
        .await
        .unwrap();
    assert_eq!(
        result.imported, 3,
        "another campaign may hold the same numbers"
    );
    assert_eq!(store.contact_count(c.id).await.unwrap(), 4);
}

async fn large_batches_span_several_statements(store: Store) {
    let c = campaign(&store, "Leeds").await;
    // 1,200 rows over 1,000 distinct numbers: more than two INSERT statements' worth.
    let batch: Vec<ImportedContact> = (0..1200)
        .map(|i| contact(u64::from(i) + 2, i % 1000))
        .collect();
    let result = store
        .insert_contacts(c.id, c.group_id, &batch)
        .await
        .unwrap();
    assert_eq!(
        (result.imported, result.duplicates, result.suppressed),
        (1000, 200, 0)
    );
    assert_eq!(store.contact_count(c.id).await.unwrap(), 1000);
}

async fn do_not_call_and_tps_numbers_are_screened_out(store: Store) {
    let c = campaign(&store, "Leeds").await;
    let dnc = contact(2, 10);
    store
        .add_do_not_call(
            c.group_id,
            dnc.phone_e164.as_str(),
            "asked not to be called",
            None,
        )
        .await
        .unwrap();
    assert!(
        store
            .is_do_not_call(c.group_id, dnc.phone_e164.as_str())
            .await
            .unwrap()
    );
    let tps = contact(3, 11);
    let added = store
        .import_tps_numbers(
            &[
                tps.phone_e164.as_str().to_owned(),
                tps.phone_e164.as_str().to_owned(),
            ],
            "TPS",
            "tps-2026-11.txt",
            None,
        )
        .await
        .unwrap();
    assert_eq!(added, 1, "a number listed twice is stored once");
    let listed = store
        .tps_entry(tps.phone_e164.as_str())
        .await
        .unwrap()
        .expect("the number is on the TPS list");
    assert_eq!(
        (listed.list.as_str(), listed.source.as_str()),
        ("TPS", "tps-2026-11.txt")
    );
    let ctps = contact(6, 14);
    store
        .import_tps_numbers(
            &[ctps.phone_e164.as_str().to_owned()],
            "CTPS",
            "ctps.csv",
            None,
        )
        .await
        .unwrap();
    let lists = store.tps_lists().await.unwrap();
    let summary: Vec<_> = lists
        .iter()
        .map(|l| (l.list.as_str(), l.numbers, l.last_source.as_str()))
        .collect();
    assert_eq!(
        summary,
        [("TPS", 1, "tps-2026-11.txt"), ("CTPS", 1, "ctps.csv")]
    );
    let entries = store.do_not_call_entries(c.group_id, 10).await.unwrap();
    assert_eq!(entries.1, 1);
    assert_eq!(entries.0[0].phone, dnc.phone_e164.as_str());
    assert_eq!(entries.0[0].reason, "asked not to be called");
    assert_eq!(store.tps_count().await.unwrap(), 2, "both national lists");
    let mut via_other = contact(4, 12);
    via_other.other_phone_e164 = Some(dnc.phone_e164.clone());

    let result = store
        .insert_contacts(c.id, c.group_id, &[dnc, tps, via_other, contact(5, 13)])
        .await
        .unwrap();
    assert_eq!(
        result,
        ImportBatchResult {
            imported: 1,
            duplicates: 0,
            suppressed: 3
        }
    );
    assert_eq!(
        store.contact_count(c.id).await.unwrap(),
        1,
        "suppressed rows are not stored"
    );

    let elsewhere = campaign(&store, "York").await;
    assert!(
        !store
            .is_do_not_call(elsewhere.group_id, &london(10))
            .await
            .unwrap(),
        "do-not-call belongs to one group"
    );
    let result = store
        .insert_contacts(
            elsewhere.id,
            elsewhere.group_id,
            &[contact(2, 10), contact(3, 11)],
        )
        .await
        .unwrap();
    assert_eq!(
        (result.imported, result.suppressed),
        (1, 1),
        "TPS applies to every group"
    );
}

async fn later_suppression_marks_queued_contacts(store: Store) {
    let c = campaign(&store, "Leeds").await;
    let other_group = campaign(&store, "York").await;
    let batch = vec![contact(2, 20), contact(3, 21), contact(4, 22)];
    store
        .insert_contacts(c.id, c.group_id, &batch)
        .await
        .unwrap();
    store
        .insert_contacts(other_group.id, other_group.group_id, &batch)
        .await
        .unwrap();

    let number = batch[0].phone_e164.as_str();
    assert_eq!(
        store
            .add_do_not_call(c.group_id, number, "opted out", None)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .add_do_not_call(c.group_id, number, "opted out", None)
            .await
            .unwrap(),
        0,
        "adding again is harmless"
    );
    let again = store
        .insert_contacts(c.id, c.group_id, &batch[..1])
        .await
        .unwrap();
    assert_eq!(again.suppressed, 1);

    let tps = batch[1].phone_e164.as_str().to_owned();
    store
        .import_tps_numbers(&[tps], "TPS", "tps.txt", None)
        .await
        .unwrap();

    let counts = store.queue_counts(c.id, now_millis()).await.unwrap();
    let elsewhere = store
        .queue_counts(other_group.id, now_millis())
        .await
        .unwrap();
    assert_eq!(
        counts.suppressed, 2,
        "do-not-call and TPS both suppress: {counts:?}"
    );
    assert_eq!(
        elsewhere.suppressed, 1,
        "only TPS reaches another group's campaign: {elsewhere:?}"
    );
}

async fn job_progress_and_rejections_round_trip(store: Store) {
    let c = campaign(&store, "Leeds").await;
    let job = store
        .create_import_job(c.id, None, "list.csv", &["Phone".into(), "Notes".into()])
        .await
        .unwrap();
    assert_eq!(job.status, ImportJobStatus::Running);
    assert_eq!(job.file_name, "list.csv");
    assert_eq!(job.headers, ["Phone", "Notes"]);
    assert_eq!((job.rows_read, job.imported, job.rejected), (0, 0, 0));

    let rejections: Vec<RowRejection> = (0..1500u64)
        .rev()
        .map(|i| RowRejection {
            line: i + 2,
            column: if i % 2 == 0 {
                "Phone".into()
            } else {
                String::new()
            },
            reason: format!("not a UK number: \"07700 900{:03}\"", i % 1000),
            fields: vec![format!("07700 900{:03}", i % 1000), "£ note".into()],
        })
        .collect();
    let warning = RowWarning {
        line: 3,
        column: "Email".into(),
        reason: "not an email address: \"x@\"; left empty".into(),
    };
    let merge = RowWarning {
        line: 4,
        column: String::new(),
        reason: "merged into line 2".into(),
    };
    store
        .add_import_notes(
            job.id,
            &rejections[..700],
            &[(NoteKind::Warning, &warning), (NoteKind::Merged, &merge)],
        )
        .await
        .unwrap();
    store
        .add_import_notes(job.id, &rejections[700..], &[])
        .await
        .unwrap();
    let totals = ImportBatchResult {
        imported: 10,
        duplicates: 2,
        suppressed: 1,
    };
    store
        .update_import_job_progress(job.id, 1513, &totals, (1500, 1))
        .await
        .unwrap();
    let running = store.import_job(job.id).await.unwrap().unwrap();
    assert_eq!(running.totals(), totals);
    assert_eq!(
        (running.rows_read, running.rejected, running.warnings),
        (1513, 1500, 1)
    );
    assert_eq!(running.status, ImportJobStatus::Running);

    let stored = store.import_rejections(job.id, 0..u64::MAX).await.unwrap();
    let mut expected = rejections.clone();
    expected.sort_by_key(|r| r.line);
    assert_eq!(
        stored, expected,
        "all rejections come back, by line, with their cells"
    );
    assert_eq!(
        store.import_rejections(job.id, 100..103).await.unwrap(),
        expected[98..101],
        "a window of lines: the first line in, the last out"
    );
    assert_eq!(store.import_last_noted_line(job.id).await.unwrap(), 1501);
    assert_eq!(
        store
            .import_notes(job.id, &[NoteKind::Warning], 0..u64::MAX)
            .await
            .unwrap(),
        std::slice::from_ref(&warning)
    );
    assert_eq!(
        store
            .import_notes(job.id, &[NoteKind::Warning, NoteKind::Merged], 3..5)
            .await
            .unwrap(),
        [warning, merge],
        "both kinds, by line"
    );

    store
        .finish_import_job(job.id, Err("database unavailable".into()))
        .await
        .unwrap();
    let failed = store.import_job(job.id).await.unwrap().unwrap();
    assert_eq!(failed.status, ImportJobStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("database unavailable"));
    assert!(failed.finished_at.is_some());

    let done = store
        .create_import_job(c.id, None, "again.csv", &[])
        .await
        .unwrap();
    store.finish_import_job(done.id, Ok(())).await.unwrap();
    let done = store.import_job(done.id).await.unwrap().unwrap();
    assert_eq!((done.status, done.error), (ImportJobStatus::Done, None));
    assert!(store.import_job(done.id + 100).await.unwrap().is_none());
    assert!(
        store
            .import_rejections(done.id, 0..u64::MAX)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.import_last_noted_line(done.id).await.unwrap(), 0);
}

/// A contact on `line` with only the fields given, and the number 020 7946 0`nnn`.
fn sparse(line: u64, nnn: u32, first: Option<&str>, email: Option<&str>) -> ImportedContact {
    ImportedContact {
        first_name: first.map(str::to_owned),
        email: email.map(str::to_owned),
        postcode: None,
        extra: BTreeMap::new(),
        external_ids: Default::default(),
        ..contact(line, nnn)
    }
}

async fn duplicates_are_merged_into_the_first_row_and_earlier_uploads(store: Store) {
    let c = campaign(&store, "Leeds").await;
    let job = store
        .create_import_job(c.id, None, "first.csv", &[])
        .await
        .unwrap();
    let mut later = sparse(17, 1, None, Some("ann@example.org"));
    later.extra.insert("Ward".into(), "Hyde Park".into());
    later.postcode = Some("LS6".into());
    let first_file = [
        sparse(4, 1, Some("Ann"), None),
        sparse(5, 2, Some("Bob"), Some("bob@example.org")),
        later,
        sparse(18, 2, Some("Robert"), None),
    ];
    let batch = store
        .merge_contacts(c.id, c.group_id, Some(job.id), &first_file)
        .await
        .unwrap();
    assert_eq!(
        (batch.totals.imported, batch.totals.duplicates),
        (2, 2),
        "nobody is dropped: the repeats are merged"
    );
    let merges: Vec<(u64, &str)> = batch
        .merges
        .iter()
        .map(|m| (m.line, m.reason.as_str()))
        .collect();
    assert_eq!(
        merges,
        [
            (17, "merged into line 4"),
            (
                18,
                "merged into line 5, whose values were kept: First name \"Bob\" rather than \"Robert\""
            )
        ]
    );
    assert_eq!(
        batch.differing, 1,
        "one merged row gave a value differently"
    );
    let ann = store
        .contact_by_phone(c.id, &london(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ann.first_name, "Ann");
    assert_eq!(
        ann.email.as_deref(),
        Some("ann@example.org"),
        "filled from line 17"
    );
    assert_eq!(ann.postcode.as_deref(), Some("LS6"));
    assert_eq!(ann.extra.get("Ward").map(String::as_str), Some("Hyde Park"));
    let bob = store
        .contact_by_phone(c.id, &london(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob.first_name, "Bob", "a conflicting value keeps the first");

    let again = store
        .create_import_job(c.id, None, "second.csv", &[])
        .await
        .unwrap();
    let mut fuller = sparse(2, 2, Some("Bob"), None);
    fuller.last_name = Some("Smith".into());
    let batch = store
        .merge_contacts(c.id, c.group_id, Some(again.id), &[fuller])
        .await
        .unwrap();
    assert_eq!((batch.totals.imported, batch.totals.duplicates), (0, 1));
    assert_eq!(
        batch.merges[0].reason,
        "merged into the contact already on the list (line 5 of an earlier upload)"
    );
    let bob = store
        .contact_by_phone(c.id, &london(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob.last_name, "Smith");
    assert_eq!(bob.email.as_deref(), Some("bob@example.org"));
    assert_eq!(store.contact_count(c.id).await.unwrap(), 2);
}

async fn a_number_taken_off_do_not_call_is_called_again(store: Store) {
    let c = campaign(&store, "Leeds").await;
    let organiser = store
        .create_user("org@example.org", "Olu Organiser", None, true)
        .await
        .unwrap();
    let listed = contact(2, 40);
    let phone = listed.phone_e164.as_str().to_owned();
    store
        .insert_contacts(c.id, c.group_id, &[listed, contact(3, 41)])
        .await
        .unwrap();
    assert_eq!(
        store
            .add_do_not_call(c.group_id, &phone, "asked by email", Some(organiser.id))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .remove_do_not_call(c.group_id, &phone, organiser.id)
            .await
            .unwrap(),
        Some(1),
        "its contact is queued again"
    );
    assert!(!store.is_do_not_call(c.group_id, &phone).await.unwrap());
    assert_eq!(
        store
            .remove_do_not_call(c.group_id, &phone, organiser.id)
            .await
            .unwrap(),
        None
    );
    // A number still on the TPS list stays out of the queue.
    store
        .add_do_not_call(c.group_id, &london(41), "asked", Some(organiser.id))
        .await
        .unwrap();
    store
        .import_tps_numbers(&[london(41)], "TPS", "tps.txt", Some(organiser.id))
        .await
        .unwrap();
    assert_eq!(
        store
            .remove_do_not_call(c.group_id, &london(41), organiser.id)
            .await
            .unwrap(),
        Some(0)
    );
    let actions: Vec<AuditAction> = store
        .recent_audit(50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for action in [
        AuditAction::DoNotCallRemove,
        AuditAction::TpsImport,
        AuditAction::DoNotCallAdd,
    ] {
        assert!(actions.contains(&action), "{action:?} in {actions:?}");
    }
}

both_backends! {
    merged_duplicates => duplicates_are_merged_into_the_first_row_and_earlier_uploads,
    do_not_call_removed => a_number_taken_off_do_not_call_is_called_again,
    duplicates_inside_and_across_batches => duplicates_are_counted_inside_and_across_batches,
    large_batches => large_batches_span_several_statements,
    dnc_and_tps_screening => do_not_call_and_tps_numbers_are_screened_out,
    later_suppression => later_suppression_marks_queued_contacts,
    job_round_trip => job_progress_and_rejections_round_trip,
}
