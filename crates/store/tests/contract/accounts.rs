use barnstorm_store::{Store, StoreError, both_backends, now_millis};

async fn emails_are_unique_whatever_their_case(store: Store) {
    let ada = store
        .create_user("Ada@Example.org", "Ada", Some("hash"), false)
        .await
        .unwrap();
    assert_eq!(ada.email, "ada@example.org");
    let again = store
        .create_user("ADA@example.org ", "Another Ada", None, false)
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let found = store
        .user_by_email(" ada@EXAMPLE.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, ada.id);
    assert_eq!(found.password_hash.as_deref(), Some("hash"));
    assert!(
        store
            .user_by_email("nobody@example.org")
            .await
            .unwrap()
            .is_none()
    );
}

async fn sessions_end_on_sign_out_and_at_expiry(store: Store) {
    let user = store
        .create_user("s@example.org", "S", None, true)
        .await
        .unwrap();
    store
        .create_session("live", user.id, "csrf-1", now_millis() + 60_000, "password")
        .await
        .unwrap();
    store
        .create_session("stale", user.id, "csrf-2", now_millis() - 1, "password")
        .await
        .unwrap();
    let session = store.session("live").await.unwrap().unwrap();
    assert_eq!(session.user.id, user.id);
    assert!(session.user.is_admin);
    assert_eq!(session.csrf_token, "csrf-1");
    assert!(store.session("stale").await.unwrap().is_none());
    store.delete_session("live").await.unwrap();
    assert!(store.session("live").await.unwrap().is_none());
    assert!(store.purge_expired_credentials().await.unwrap() >= 1);
}

async fn api_tokens_work_until_revoked(store: Store) {
    let user = store
        .create_user("t@example.org", "T", None, false)
        .await
        .unwrap();
    let other = store
        .create_user("u@example.org", "U", None, false)
        .await
        .unwrap();
    let id = store
        .create_api_token(user.id, "tokhash", "laptop")
        .await
        .unwrap();
    assert_eq!(
        store.api_token_user("tokhash").await.unwrap().unwrap().id,
        user.id
    );
    let listed = store.api_tokens(user.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].label, "laptop");
    assert!(listed[0].last_used_at.is_some(), "use is recorded");
    assert!(matches!(
        store.revoke_api_token(other.id, id).await,
        Err(StoreError::NotFound)
    ));
    store.revoke_api_token(user.id, id).await.unwrap();
    assert!(store.api_token_user("tokhash").await.unwrap().is_none());
}

async fn sign_in_links_work_once(store: Store) {
    let user = store
        .create_user("l@example.org", "L", None, false)
        .await
        .unwrap();
    store
        .create_sign_in_link("old", user.id, now_millis() - 1)
        .await
        .unwrap();
    store
        .create_sign_in_link("once", user.id, now_millis() + 60_000)
        .await
        .unwrap();
    assert_eq!(
        store
            .redeem_sign_in_link("once")
            .await
            .unwrap()
            .unwrap()
            .user
            .id,
        user.id
    );
    assert!(store.redeem_sign_in_link("once").await.unwrap().is_none());
    assert!(store.redeem_sign_in_link("old").await.unwrap().is_none());
}

async fn login_failures_are_counted_per_key(store: Store) {
    for _ in 0..3 {
        store
            .record_login_failure("email:x@example.org")
            .await
            .unwrap();
    }
    store.record_login_failure("ip:127.0.0.1").await.unwrap();
    let (n, oldest) = store
        .login_failures_since("email:x@example.org", now_millis() - 60_000)
        .await
        .unwrap();
    assert_eq!(n, 3);
    assert!(oldest.is_some());
    store
        .clear_login_failures("email:x@example.org")
        .await
        .unwrap();
    assert_eq!(
        store
            .login_failures_since("email:x@example.org", 0)
            .await
            .unwrap()
            .0,
        0
    );
    assert_eq!(
        store
            .login_failures_since("ip:127.0.0.1", 0)
            .await
            .unwrap()
            .0,
        1
    );
}

async fn accounts_are_verified_once_the_address_is_proved(store: Store) {
    let vouched = store
        .create_user("admin-made@example.org", "A", None, false)
        .await
        .unwrap();
    assert!(vouched.is_verified());
    let unproven = store
        .create_unverified_user("joined@example.org", "J", None)
        .await
        .unwrap();
    assert!(!unproven.is_verified());
    let read = store.user_by_id(unproven.id).await.unwrap().unwrap();
    assert_eq!(read.email_verified_at, None);

    store.mark_email_verified(unproven.id, 1_000).await.unwrap();
    store.mark_email_verified(unproven.id, 2_000).await.unwrap();
    let proven = store
        .user_by_email("joined@example.org")
        .await
        .unwrap()
        .unwrap();
    assert!(proven.is_verified());
    assert_eq!(
        proven.email_verified_at,
        Some(1_000),
        "the first proof is kept"
    );

    let missing = store.mark_email_verified(unproven.id + 100, 1_000).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

both_backends! {
    verification => accounts_are_verified_once_the_address_is_proved,
    unique_emails => emails_are_unique_whatever_their_case,
    sessions => sessions_end_on_sign_out_and_at_expiry,
    api_tokens => api_tokens_work_until_revoked,
    sign_in_links => sign_in_links_work_once,
    login_failures => login_failures_are_counted_per_key,
}
