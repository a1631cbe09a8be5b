use super::*;
use barnstorm_store::GroupKind;
use barnstorm_store::phonebank::{CampaignSettings, ImportJobStatus, NoteKind};
use barnstorm_store::testing::TestDatabase;
use std::sync::{Arc, Mutex};

async fn campaign(store: &Store) -> Campaign {
    let group = store
        .create_group(None, "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap();
    store
        .create_campaign(group.id, &CampaignSettings::new("Leeds phonebank"), None)
        .await
        .unwrap()
}

/// Runs an import of `bytes` with the guessed mapping; returns the result and the
/// progress reports.
async fn run(
    store: &Store,
    campaign: &Campaign,
    bytes: &[u8],
) -> (
    i64,
    Result<ImportSummary, ImportFailure>,
    Vec<ImportProgress>,
) {
    let headers = barnstorm_domain::contact_import::read_headers(bytes).unwrap();
    let mapping = ColumnMapping::guess(&headers);
    run_with(store, campaign, bytes, mapping).await
}

async fn run_with(
    store: &Store,
    campaign: &Campaign,
    bytes: &[u8],
    mapping: ColumnMapping,
) -> (
    i64,
    Result<ImportSummary, ImportFailure>,
    Vec<ImportProgress>,
) {
    let headers = barnstorm_domain::contact_import::read_headers(bytes).unwrap_or_default();
    let job = store
        .create_import_job(campaign.id, None, "list.csv", &headers)
        .await
        .unwrap();
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    let result = import_contacts(
        store,
        campaign,
        job.id,
        std::io::Cursor::new(bytes.to_vec()),
        mapping,
        move |p| sink.lock().unwrap().push(p),
    )
    .await;
    let reports = reports.lock().unwrap().clone();
    (job.id, result, reports)
}

const MIXED: &[u8] = b"\xEF\xBB\xBFFirst name,Last name,Phone,Email,Postcode,Ward\n\
Ada,Lovelace,020 7946 0001,ada@example.org,LS1 4AP,Headingley \xC2\xA35\n\
Bob,Smith,not a number,bob@example.org,,\n\
Cat,Jones,07700 900123,cat@example.org,,\n\
Dan,Brown,0113 496 0002,dan@@example.org,,\n\
Eve,White,020 7946 0001,eve@example.org,,\n\
Fay,Green,0161 496 0003,fay@example.org,,\n\
Gus,Black,029 2018 0004,,,\n\
Hal,Grey,+44 113 496 0005,hal@example.org,M1 1AE,\n";

#[tokio::test]
async fn a_mixed_file_is_counted_exactly_and_notes_name_line_and_column() {
    let db = TestDatabase::sqlite().await;
    let store = &db.store;
    let campaign = campaign(store).await;
    store
        .add_do_not_call(
            campaign.group_id,
            "+441614960003",
            "asked not to be called",
            None,
        )
        .await
        .unwrap();

    let (job_id, result, reports) = run(store, &campaign, MIXED).await;
    let summary = result.unwrap();
    assert_eq!(
        (
            summary.rows,
            summary.imported,
            summary.duplicates,
            summary.suppressed,
            summary.rejected_total,
            summary.warnings_total
        ),
        (8, 4, 1, 1, 2, 2)
    );
    let where_: Vec<(u64, &str)> = summary
        .rejected
        .iter()
        .map(|r| (r.line, r.column.as_str()))
        .collect();
    assert_eq!(where_, [(3, "Phone"), (4, "Phone")]);
    assert!(
        summary.rejected[1].reason.contains("07700 900123"),
        "{:?}",
        summary.rejected[1]
    );
    let warned: Vec<(u64, &str)> = summary
        .warnings
        .iter()
        .map(|w| (w.line, w.column.as_str()))
        .collect();
    assert_eq!(warned, [(5, "Email")], "Dan's bad email");
    assert_eq!(summary.merges.len(), 1);
    assert_eq!(
        (summary.merges[0].line, summary.merges[0].reason.as_str()),
        (
            6,
            "merged into line 2, whose values were kept: First name \"Ada\" rather than \"Eve\", \
             Last name \"Lovelace\" rather than \"White\", Email \"ada@example.org\" rather than \"eve@example.org\""
        ),
        "Eve, merged into Ada, disagreeing with her: one note, counted as one warning"
    );
    assert_eq!(store.contact_count(campaign.id).await.unwrap(), 4);

    let job = store.import_job(job_id).await.unwrap().unwrap();
    assert_eq!(job.status, ImportJobStatus::Done);
    assert_eq!(
        (
            job.rows_read,
            job.imported,
            job.duplicates,
            job.suppressed,
            job.rejected,
            job.warnings
        ),
        (8, 4, 1, 1, 2, 2)
    );
    assert_eq!(
        store.import_rejections(job_id, 0..u64::MAX).await.unwrap(),
        summary.rejected
    );
    assert_eq!(
        reports.last().map(|p| (p.rows, p.rejected, p.warnings)),
        Some((8, 2, 2))
    );
    assert_eq!(
        store
            .import_notes(job_id, &[NoteKind::Merged], 0..u64::MAX)
            .await
            .unwrap(),
        summary.merges
    );

    let ada = store
        .contact_by_phone(campaign.id, "+442079460001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        ada.first_name, "Ada",
        "the BOM is not part of the first header"
    );
    assert_eq!(
        ada.extra.get("Ward").map(String::as_str),
        Some("Headingley £5")
    );
    db.drop_database().await;
}

#[tokio::test]
async fn windows_1252_text_is_stored_as_unicode() {
    let db = TestDatabase::sqlite().await;
    let campaign = campaign(&db.store).await;
    let cp1252: &[u8] = b"First name,Phone,Pledge\r\nRen\xE9e,020 7946 0005,\xA35 a month\r\n";
    let (_, result, _) = run(&db.store, &campaign, cp1252).await;
    assert_eq!(result.unwrap().imported, 1);
    let renee = db
        .store
        .contact_by_phone(campaign.id, "+442079460005")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renee.first_name, "Renée");
    assert_eq!(
        renee.extra.get("Pledge").map(String::as_str),
        Some("£5 a month")
    );
    db.drop_database().await;
}

/// The whole `report` of `job`, as written out for download.
async fn report_text(store: &Store, job: &ImportJob, report: report::Report) -> String {
    let mut out = Vec::new();
    report::ReportPages::new(store.clone(), job, report)
        .await
        .unwrap()
        .write_to(&mut out)
        .await
        .unwrap();
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn a_long_file_is_stored_in_batches_and_its_reports_read_back_whole() {
    let db = TestDatabase::sqlite().await;
    let campaign = campaign(&db.store).await;
    let mut csv = String::from("Name,Mobile\n");
    // 12,000 rows over 3,000 distinct numbers, every 2,500th number unusable: the
    // reports span several windows of lines.
    let mut bad_lines = Vec::new();
    for i in 0..12_000u32 {
        let prefix = ["020 7946 0", "0113 496 0", "0161 496 0"][(i % 3) as usize];
        if i % 2_500 == 1_249 {
            csv.push_str(&format!("Person {i},n/a\n"));
            bad_lines.push(u64::from(i) + 2);
        } else {
            csv.push_str(&format!("Person {i},{prefix}{:03}\n", (i / 3) % 1000));
        }
    }
    let (job_id, result, reports) = run(&db.store, &campaign, csv.as_bytes()).await;
    let summary = result.unwrap();
    let rejected = bad_lines.len() as u64;
    assert_eq!(
        (
            summary.rows,
            summary.imported,
            summary.duplicates,
            summary.rejected_total
        ),
        (12_000, 3_000, 9_000 - rejected, rejected)
    );
    assert_eq!(reports.len(), 6, "one report per batch of {BATCH_ROWS}");
    let job = db.store.import_job(job_id).await.unwrap().unwrap();
    assert_eq!((job.rows_read, job.imported), (12_000, 3_000));

    let lines: Vec<String> = report_text(&db.store, &job, report::Report::Rejections)
        .await
        .lines()
        .skip(1)
        .map(|row| row.split(',').nth(2).unwrap().to_owned())
        .collect();
    let expected: Vec<String> = bad_lines.iter().map(u64::to_string).collect();
    assert_eq!(lines, expected, "every rejected row once, in order");

    let text = report_text(&db.store, &job, report::Report::Warnings).await;
    let merged: Vec<u64> = text
        .lines()
        .skip(1)
        .map(|row| row.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(text.lines().next(), Some("line,column,warning"));
    assert_eq!(
        merged.len() as u64,
        summary.duplicates,
        "one note per merged row"
    );
    assert!(
        merged.windows(2).all(|w| w[0] < w[1]),
        "by line, none twice"
    );
    assert_eq!(
        merged.first(),
        Some(&3_002),
        "row 3,001 is the first repeat"
    );
    db.drop_database().await;
}

#[tokio::test]
async fn a_file_without_a_phone_column_fails_the_job_and_imports_nothing() {
    let db = TestDatabase::sqlite().await;
    let campaign = campaign(&db.store).await;
    let (job_id, result, _) = run(&db.store, &campaign, b"Name,Email\nAda,ada@example.org\n").await;
    assert!(
        matches!(result, Err(ImportFailure::File(ImportError::NoPhoneColumn))),
        "{result:?}"
    );
    let job = db.store.import_job(job_id).await.unwrap().unwrap();
    assert_eq!(job.status, ImportJobStatus::Failed);
    assert_eq!(
        job.error.as_deref(),
        Some("no column is mapped to the phone number")
    );

    let (_, empty, _) = run_with(&db.store, &campaign, b"", ColumnMapping::default()).await;
    assert!(
        matches!(empty, Err(ImportFailure::File(ImportError::NoHeader))),
        "{empty:?}"
    );
    db.drop_database().await;
}

#[tokio::test]
async fn a_batch_that_cannot_be_stored_fails_the_job_with_the_reason() {
    let db = TestDatabase::sqlite().await;
    let real = campaign(&db.store).await;
    let job = db
        .store
        .create_import_job(real.id, None, "list.csv", &[])
        .await
        .unwrap();
    let gone = Campaign {
        id: real.id + 1000,
        ..real.clone()
    };
    let result = import_contacts(
        &db.store,
        &gone,
        job.id,
        std::io::Cursor::new(MIXED.to_vec()),
        ColumnMapping::default().with("Phone", barnstorm_domain::contact_import::ColumnRole::Phone),
        |_| {},
    )
    .await;
    let Err(ImportFailure::Interrupted { reason, summary }) = result else {
        panic!("expected an interrupted import, got {result:?}");
    };
    assert!(reason.starts_with("could not store rows 2–9"), "{reason}");
    assert_eq!(summary.imported, 0);
    let job = db.store.import_job(job.id).await.unwrap().unwrap();
    assert_eq!(job.status, ImportJobStatus::Failed);
    assert!(job.error.unwrap().contains("could not store rows"));
    db.drop_database().await;
}

#[tokio::test]
async fn the_entrance_reads_roles_once_and_tells_every_view_the_campaign_changed() {
    let db = TestDatabase::sqlite().await;
    let store = &db.store;
    let campaign = campaign(store).await;
    let file = b"Name,Home,Mobile\nAnn,020 7946 0001,0113 496 0001\n".to_vec();
    let overrides = [(
        "Home".to_owned(),
        barnstorm_domain::contact_import::ColumnRole::Phone,
    )];
    let list = ListUpload::new(
        campaign.clone(),
        None,
        "list.csv",
        std::io::Cursor::new(file),
        &overrides,
    )
    .unwrap();
    assert_eq!(list.headers(), ["Name", "Home", "Mobile"]);
    let started = list.start(store).await.unwrap();
    let job_id = started.job().id;
    let events = CampaignEvents::default();
    let mut heard = events.subscribe();
    let summary = started.run(store, &events, |_| {}).await.unwrap();
    assert_eq!(summary.imported, 1);
    assert_eq!(
        heard.try_recv().unwrap(),
        CampaignEvent::CampaignChanged {
            campaign_id: campaign.id
        }
    );
    let ann = store
        .contact_by_phone(campaign.id, "+442079460001")
        .await
        .unwrap()
        .expect("the overridden column is the number rung");
    assert_eq!(
        ann.extra.get("Mobile").map(String::as_str),
        Some("0113 496 0001"),
        "the column guessed as the phone gave up its role"
    );
    let job = store.import_job(job_id).await.unwrap().unwrap();
    assert_eq!(job.headers, ["Name", "Home", "Mobile"]);

    let refused = ListUpload::new(
        campaign,
        None,
        "list.csv",
        std::io::Cursor::new(b"Name,Notes\nAnn,hi\n".to_vec()),
        &[],
    );
    assert_eq!(refused.err(), Some(ImportError::NoPhoneColumn));
    db.drop_database().await;
}
