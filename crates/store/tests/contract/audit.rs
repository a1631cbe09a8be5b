//! The audit log: every stored action reads back as an [`AuditAction`], and a row whose
//! action is not one is refused by name instead of being shown as something else.

mod listing;

use crate::events::raw;
use barnstorm_store::{AuditAction, DatabaseUrl, Group, GroupKind, Role, Store, StoreError, User};
use sqlx::AnyPool;

/// Writes a row with `action` as it might have been stored by an older version.
async fn store_raw_action(pool: &AnyPool, action: &str) {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_user_id, action, subject, detail)
         VALUES (1, NULL, $1, 'campaign 1', '')",
    )
    .bind(action)
    .execute(pool)
    .await
    .unwrap();
}

async fn leeds_and_ada(store: &Store) -> (Group, User) {
    let group = store
        .create_group(None, "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let ada = store
        .create_user("ada@example.org", "Ada", None, false)
        .await
        .unwrap();
    (group, ada)
}

async fn every_stored_action_is_a_variant(store: Store, url: DatabaseUrl) {
    let (group, ada) = leeds_and_ada(&store).await;
    store
        .set_group_requires_two_factor(group.id, true, Some(ada.id))
        .await
        .unwrap();
    let pool = raw(&url).await;
    let stored: Vec<String> = sqlx::query_scalar("SELECT DISTINCT action FROM audit_log")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(!stored.is_empty(), "the changes above were audited");
    for name in &stored {
        assert!(
            name.parse::<AuditAction>().is_ok(),
            "stored action {name} is not an AuditAction"
        );
    }

    // A row written under the name contact uploads had before it was unified still reads.
    store_raw_action(&pool, "import.start").await;
    assert_eq!(
        store.recent_audit(1).await.unwrap()[0].action,
        AuditAction::ContactsImport
    );

    // A name that is no action is an error naming it, never a guess.
    store_raw_action(&pool, "campaign.teleport").await;
    match store.recent_audit(5).await {
        Err(StoreError::Invalid(message)) => assert!(
            message.contains("campaign.teleport"),
            "the error names the action: {message}"
        ),
        other => panic!("an unknown action must not read back: {other:?}"),
    }
}

crate::with_url!(every_stored_action_is_a_variant => every_stored_action_is_a_variant);

/// Makes the database refuse any audit row for `action`, as a full disk or a broken
/// connection would refuse it halfway through a change.
async fn refuse_audit_rows(pool: &AnyPool, url: &DatabaseUrl, action: AuditAction) {
    let sql = match url {
        DatabaseUrl::Sqlite(_) => format!(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log WHEN NEW.action = '{action}'
             BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
        ),
        DatabaseUrl::Postgres(_) => format!(
            "ALTER TABLE audit_log ADD CONSTRAINT refuse_audit CHECK (action <> '{action}') NOT VALID"
        ),
    };
    sqlx::query(&sql).execute(pool).await.unwrap();
}

async fn count_rows(pool: &AnyPool, action: AuditAction) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1")
        .bind(action.as_str())
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn a_change_and_its_audit_row_commit_together(store: Store, url: DatabaseUrl) {
    let pool = raw(&url).await;
    let (leeds, ada) = leeds_and_ada(&store).await;

    // A change that fails leaves no audit row: there is no account 999999 to add.
    let roles_before = count_rows(&pool, AuditAction::MembershipRole).await;
    assert!(
        store
            .set_membership(leeds.id, 999_999, Role::Member, Some(ada.id))
            .await
            .is_err()
    );
    assert_eq!(
        count_rows(&pool, AuditAction::MembershipRole).await,
        roles_before
    );

    // A change whose audit row cannot be written does not happen.
    refuse_audit_rows(&pool, &url, AuditAction::GroupCreate).await;
    assert!(
        store
            .create_group(None, "Bradford", GroupKind::Branch, "", Some(ada.id))
            .await
            .is_err()
    );
    assert!(store.group_by_slug("bradford").await.unwrap().is_none());
    allow_audit_rows(&pool, &url).await;
    refuse_audit_rows(&pool, &url, AuditAction::MembershipRole).await;
    assert!(
        store
            .set_membership(leeds.id, ada.id, Role::Organiser, None)
            .await
            .is_err()
    );
    assert!(
        store.members(leeds.id).await.unwrap().is_empty(),
        "the role was not given without its audit row"
    );

    // With the audit writable again the same change commits with its row.
    allow_audit_rows(&pool, &url).await;
    store
        .set_membership(leeds.id, ada.id, Role::Organiser, None)
        .await
        .unwrap();
    let entry = &store.recent_audit(1).await.unwrap()[0];
    assert_eq!(entry.action, AuditAction::MembershipRole);
    assert_eq!(entry.about.group_id, Some(leeds.id));
    assert_eq!(entry.about.subject_user_id, Some(ada.id));
}

/// Lifts [`refuse_audit_rows`].
async fn allow_audit_rows(pool: &AnyPool, url: &DatabaseUrl) {
    let drop = match url {
        DatabaseUrl::Sqlite(_) => "DROP TRIGGER refuse_audit",
        DatabaseUrl::Postgres(_) => "ALTER TABLE audit_log DROP CONSTRAINT refuse_audit",
    };
    sqlx::query(drop).execute(pool).await.unwrap();
}

crate::with_url!(a_change_and_its_audit_row_commit_together => a_change_and_its_audit_row_commit_together);
