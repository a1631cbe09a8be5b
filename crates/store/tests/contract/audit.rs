//! The audit log: every stored action reads back as an [`AuditAction`], and a row whose
//! action is not one is refused by name instead of being shown as something else.

use crate::events::raw;
use barnstorm_store::{AuditAction, DatabaseUrl, GroupKind, Store, StoreError};
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

async fn every_stored_action_is_a_variant(store: Store, url: DatabaseUrl) {
    let group = store
        .create_group(None, "Leeds", GroupKind::Branch, "")
        .await
        .unwrap();
    let ada = store
        .create_user("ada@example.org", "Ada", None, false)
        .await
        .unwrap();
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
