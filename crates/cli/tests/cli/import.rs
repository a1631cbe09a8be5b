//! `barnstorm import contacts` on the messy spreadsheet export the API and browser tests
//! also upload (`tests/fixtures/messy-list.csv`): the same counts as the API, and the
//! same rejected-rows and warnings files, byte for byte (`messy-list.rejected.csv` and
//! `messy-list.warnings.csv` beside it, which the API test compares its downloads with),
//! because all three go through one import entrance.

use crate::{barnstorm, import_contacts};
use barnstorm_store::phonebank::CampaignSettings;
use barnstorm_store::{GroupKind, Store, StoreOptions};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
}

/// A fresh SQLite file with one branch and one draft campaign; returns its URL.
fn database_with_campaign(dir: &std::path::Path) -> String {
    let db = format!("sqlite:{}", dir.join("barnstorm.db").display());
    barnstorm(&["migrate", "--database-url", &db]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = Store::connect(&db.parse().unwrap(), &StoreOptions::default())
            .await
            .unwrap();
        let group = store
            .create_group(None, "Leeds", GroupKind::Branch, "", None)
            .await
            .unwrap();
        let campaign = store
            .create_campaign(group.id, &CampaignSettings::new("Leeds phonebank"), None)
            .await
            .unwrap();
        assert_eq!(campaign.id, 1);
        store.close().await;
    });
    db
}

#[test]
fn the_command_line_imports_a_messy_list_as_the_api_does() {
    let dir = tempfile::tempdir().unwrap();
    let db = database_with_campaign(dir.path());
    let list = dir.path().join("messy-list.csv");
    std::fs::write(&list, fixture("messy-list.csv")).unwrap();
    let list = list.to_str().unwrap();

    let (imported, printed) = import_contacts(&db, list);
    assert!(
        imported && printed.starts_with(
            "Imported 4 contacts from messy-list.csv: 1 merged duplicates, 0 on do-not-call/TPS lists, 2 warnings, 2 rejected — see "
        ),
        "{printed}"
    );
    let rejected = std::fs::read_to_string(format!("{list}.rejected.csv")).unwrap();
    assert_eq!(rejected, fixture("messy-list.rejected.csv"));
    let warnings = std::fs::read_to_string(format!("{list}.warnings.csv")).unwrap();
    assert_eq!(warnings, fixture("messy-list.warnings.csv"));

    let fixed = dir.path().join("fixed.csv");
    std::fs::write(
        &fixed,
        rejected
            .replace("call after six", "020 7946 0107")
            .replace("07700 900123", "0161 496 0108"),
    )
    .unwrap();
    let (imported, printed) = import_contacts(&db, fixed.to_str().unwrap());
    assert!(
        imported && printed.starts_with("Imported 2 contacts from fixed.csv: 0 merged duplicates"),
        "the fixed rejections import: {printed}"
    );
}
