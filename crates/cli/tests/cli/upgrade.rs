//! Upgrading an old database: a database at the first migration set that had the
//! phonebank (0001 foundation, 0002 phonebank), filled with an account, a group, a live
//! campaign with contacts, leases and calls, is brought to the current schema by
//! `barnstorm migrate` with every row kept and `barnstorm check` passing, on both engines.

use crate::barnstorm;
use barnstorm_store::testing::ScratchDatabase;
use barnstorm_store::{DatabaseUrl, Store, StoreOptions, newest_schema_version};

/// The newest migration of the first set.
const FIRST_SET: i64 = 2;

/// Rows of every kind the first release stored, in SQL both engines take.
fn first_release_rows(now: i64) -> Vec<String> {
    let hours = crate::open_all_day().to_string();
    let outcomes = serde_json::json!([
        {"key": "spoke", "label": "Spoke to them", "effect": {"type": "completed"}, "counts_as_conversation": true},
        {"key": "no_answer", "label": "No answer", "effect": {"type": "retry_after", "cooldown_minutes": 240}, "counts_as_conversation": false},
        {"key": "wrong_number", "label": "Wrong number", "effect": {"type": "wrong_number"}, "counts_as_conversation": false},
        {"key": "do_not_call", "label": "Do not call again", "effect": {"type": "do_not_call"}, "counts_as_conversation": true},
    ])
    .to_string();
    let (claimed, answered) = (now - 3_600_000, now - 3_540_000);
    vec![
        format!(
            "INSERT INTO users (id, email, name, password_hash, is_admin, created_at) VALUES (1, 'ada@example.org', 'Ada Organiser', NULL, 1, {now})"
        ),
        format!(
            "INSERT INTO users (id, email, name, password_hash, is_admin, created_at) VALUES (2, 'caller@example.org', 'Cai Caller', NULL, 0, {now})"
        ),
        format!(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ('{}', 1, 'csrf', {now}, {})",
            "ab".repeat(32),
            now + 86_400_000
        ),
        format!(
            "INSERT INTO groups (id, parent_id, slug, name, kind, description, created_at) VALUES (1, NULL, 'north-west', 'North West', 'region', 'Old description', {now})"
        ),
        format!(
            "INSERT INTO memberships (group_id, user_id, role, created_at) VALUES (1, 1, 'organiser', {now})"
        ),
        format!(
            "INSERT INTO memberships (group_id, user_id, role, created_at) VALUES (1, 2, 'caller', {now})"
        ),
        format!(
            "INSERT INTO outbox (id, to_addr, subject, body_text, status, attempts, next_attempt_at, created_at, sent_at) VALUES (1, 'caller@example.org', 'Welcome', 'Hello', 'sent', 1, {now}, {now}, {now})"
        ),
        format!(
            "INSERT INTO audit_log (id, at, actor_user_id, action, subject, detail) VALUES (1, {now}, 1, 'group.create', 'group:1', '')"
        ),
        format!(
            "INSERT INTO call_campaigns (id, group_id, name, briefing, script, outcomes, calling_hours, status, created_by, created_at, updated_at) VALUES (1, 1, 'Old campaign', 'Be kind', 'Hello {{first_name}}', '{outcomes}', '{hours}', 'live', 1, {now}, {now})"
        ),
        format!(
            "INSERT INTO contacts (id, campaign_id, phone, first_name, last_name, attempts, last_outcome, last_called_at, created_at) VALUES (1, 1, '+442079460001', 'Bea', 'Contact', 1, 'spoke', {answered}, {now})"
        ),
        format!(
            "INSERT INTO contacts (id, campaign_id, phone, first_name, last_name, attempts, last_outcome, last_called_at, available_at, created_at) VALUES (2, 1, '+441134960002', 'Col', 'Contact', 1, 'no_answer', {answered}, {}, {now})",
            answered + 14_400_000
        ),
        format!(
            "INSERT INTO contacts (id, campaign_id, phone, first_name, last_name, created_at) VALUES (3, 1, '+441614960003', 'Dee', 'Contact', {now})"
        ),
        format!(
            "INSERT INTO campaign_callers (campaign_id, user_id, joined_at) VALUES (1, 2, {claimed})"
        ),
        format!(
            "INSERT INTO leases (id, contact_id, campaign_id, caller_id, claimed_at, expires_at, released_at, outcome_at) VALUES (1, 1, 1, 2, {claimed}, {}, {answered}, {answered})",
            claimed + 600_000
        ),
        format!(
            "INSERT INTO leases (id, contact_id, campaign_id, caller_id, claimed_at, expires_at, released_at, outcome_at) VALUES (2, 2, 1, 2, {claimed}, {}, {answered}, {answered})",
            claimed + 600_000
        ),
        format!(
            "INSERT INTO call_attempts (id, campaign_id, contact_id, lease_id, caller_id, outcome, conversation, idempotency_key, created_at) VALUES (1, 1, 1, 1, 2, 'spoke', 1, 'k1', {answered})"
        ),
        format!(
            "INSERT INTO call_attempts (id, campaign_id, contact_id, lease_id, caller_id, outcome, conversation, idempotency_key, created_at) VALUES (2, 1, 2, 2, 2, 'no_answer', 0, 'k2', {answered})"
        ),
        format!(
            "INSERT INTO do_not_call (group_id, phone, reason, created_at) VALUES (1, '+442079460099', 'asked', {now})"
        ),
        format!(
            "INSERT INTO tps_numbers (phone, list, imported_at) VALUES ('+442079460098', 'TPS', {now})"
        ),
    ]
}

async fn upgrade_keeps_the_data(db: ScratchDatabase) {
    let pool = db.migrate_to(FIRST_SET).await;
    for row in first_release_rows(barnstorm_store::now_millis()) {
        if let Err(e) = sqlx::query(&row).execute(&pool).await {
            panic!("{row}: {e}");
        }
    }
    pool.close().await;
    let url = db.url_text();

    let migrated = barnstorm(&["migrate", "--database-url", &url]);
    assert!(String::from_utf8_lossy(&migrated.stdout).contains("Migrations applied"));
    let check = barnstorm(&["check", "--campaign", "1", "--database-url", &url]);
    let verdict = String::from_utf8_lossy(&check.stdout);
    assert!(
        verdict.contains("call attempts stored         2"),
        "{verdict}"
    );
    assert!(
        verdict.contains("leases examined              2"),
        "{verdict}"
    );
    assert!(
        verdict.contains("overall verdict              PASS"),
        "{verdict}"
    );

    let parsed: DatabaseUrl = url.parse().unwrap();
    let store = Store::connect(&parsed, &StoreOptions::default())
        .await
        .unwrap();
    assert_eq!(
        store.schema_version().await.unwrap(),
        newest_schema_version(parsed.backend())
    );
    let ada = store
        .user_by_email("ada@example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ada.name, "Ada Organiser");
    let campaign = store.campaign(1).await.unwrap().unwrap();
    assert_eq!(campaign.settings.name, "Old campaign");
    assert_eq!(store.attempt_ids(1).await.unwrap(), vec![1, 2]);
    store.close().await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_first_release_database_migrates_to_the_current_schema_with_its_data() {
    upgrade_keeps_the_data(ScratchDatabase::sqlite()).await;
    if let Some(db) = ScratchDatabase::postgres().await {
        upgrade_keeps_the_data(db).await;
    }
}
