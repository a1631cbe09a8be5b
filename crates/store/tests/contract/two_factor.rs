use barnstorm_store::{GroupKind, Role, Store, StoreError, both_backends, now_millis};

async fn actions(store: &Store) -> Vec<String> {
    store
        .recent_audit(50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action.as_str().to_owned())
        .collect()
}

async fn an_authenticator_counts_only_once_confirmed(store: Store) {
    let ada = store
        .create_user("ada@example.org", "Ada", None, false)
        .await
        .unwrap();
    let now = now_millis();
    store
        .begin_totp_setup(ada.id, "SECRETONE", now)
        .await
        .unwrap();
    // Starting again before confirming replaces the secret.
    store
        .begin_totp_setup(ada.id, "SECRETTWO", now)
        .await
        .unwrap();
    let app = store.totp_authenticator(ada.id).await.unwrap().unwrap();
    assert_eq!(app.secret, "SECRETTWO");
    assert!(!app.confirmed);
    assert!(!store.two_factor_status(ada.id).await.unwrap().enabled());
    // A code cannot be used against an unconfirmed app.
    assert!(!store.use_totp_step(ada.id, 10).await.unwrap());

    let codes: Vec<String> = (0..10).map(|i| format!("hash-{i}")).collect();
    assert!(store.confirm_totp(ada.id, 50, &codes, now).await.unwrap());
    let status = store.two_factor_status(ada.id).await.unwrap();
    assert!(status.totp && status.enabled());
    assert_eq!(status.recovery_codes_left, 10);
    assert!(!store.confirm_totp(ada.id, 51, &codes, now).await.unwrap());
    let again = store.begin_totp_setup(ada.id, "SECRETTHREE", now).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(
        store
            .totp_authenticator(ada.id)
            .await
            .unwrap()
            .unwrap()
            .secret,
        "SECRETTWO"
    );
    assert!(
        actions(&store)
            .await
            .contains(&"two_factor.totp_enrol".to_owned())
    );
}

async fn each_code_step_is_accepted_once_and_never_an_older_one(store: Store) {
    let ada = store
        .create_user("ada@example.org", "Ada", None, false)
        .await
        .unwrap();
    let now = now_millis();
    store.begin_totp_setup(ada.id, "SECRET", now).await.unwrap();
    store.confirm_totp(ada.id, 50, &[], now).await.unwrap();
    // The code used to confirm cannot sign in.
    assert!(!store.use_totp_step(ada.id, 50).await.unwrap());
    assert!(store.use_totp_step(ada.id, 100).await.unwrap());
    assert!(!store.use_totp_step(ada.id, 100).await.unwrap(), "replay");
    assert!(
        !store.use_totp_step(ada.id, 99).await.unwrap(),
        "older code"
    );
    assert!(store.use_totp_step(ada.id, 101).await.unwrap());
}

async fn a_recovery_code_works_once_and_only_for_its_account(store: Store) {
    let ada = store
        .create_user("ada@example.org", "Ada", None, false)
        .await
        .unwrap();
    let bob = store
        .create_user("bob@example.org", "Bob", None, false)
        .await
        .unwrap();
    let now = now_millis();
    store.begin_totp_setup(ada.id, "SECRET", now).await.unwrap();
    let codes = vec!["code-a".to_owned(), "code-b".to_owned()];
    store.confirm_totp(ada.id, 1, &codes, now).await.unwrap();
    assert!(
        !store
            .use_recovery_code(bob.id, "code-a", now)
            .await
            .unwrap()
    );
    assert!(
        store
            .use_recovery_code(ada.id, "code-a", now)
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_recovery_code(ada.id, "code-a", now)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .two_factor_status(ada.id)
            .await
            .unwrap()
            .recovery_codes_left,
        1
    );
    assert!(
        actions(&store)
            .await
            .contains(&"two_factor.recovery_code_use".to_owned())
    );

    store
        .replace_recovery_codes(ada.id, &["code-c".to_owned()], now)
        .await
        .unwrap();
    assert!(
        !store
            .use_recovery_code(ada.id, "code-b", now)
            .await
            .unwrap(),
        "old codes stop"
    );
    assert!(
        store
            .use_recovery_code(ada.id, "code-c", now)
            .await
            .unwrap()
    );
    assert!(
        actions(&store)
            .await
            .contains(&"two_factor.recovery_codes_regenerate".to_owned())
    );
}

async fn a_group_requirement_covers_the_groups_below_it(store: Store) {
    let ada = store
        .create_user("ada@example.org", "Ada", None, false)
        .await
        .unwrap();
    let uk = store
        .create_group(None, "UK", GroupKind::National, "", None)
        .await
        .unwrap();
    let north = store
        .create_group(Some(uk.id), "North", GroupKind::Region, "", None)
        .await
        .unwrap();
    let leeds = store
        .create_group(Some(north.id), "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap();
    store
        .set_membership(leeds.id, ada.id, Role::Organiser, None)
        .await
        .unwrap();
    let gate = store.two_factor_gate(ada.id, leeds.id).await.unwrap();
    assert!(!gate.group_requires && !gate.enrolled);

    store
        .set_group_requires_two_factor(north.id, true, Some(ada.id))
        .await
        .unwrap();
    assert!(store.group_requires_two_factor(north.id).await.unwrap());
    assert!(!store.group_requires_two_factor(leeds.id).await.unwrap());
    assert!(
        store
            .two_factor_gate(ada.id, leeds.id)
            .await
            .unwrap()
            .group_requires
    );
    assert!(
        store
            .two_factor_gate(ada.id, north.id)
            .await
            .unwrap()
            .group_requires
    );
    assert!(
        !store
            .two_factor_gate(ada.id, uk.id)
            .await
            .unwrap()
            .group_requires
    );
    assert!(
        actions(&store)
            .await
            .contains(&"group.require_two_factor".to_owned())
    );

    store
        .add_passkey(ada.id, "cred-1", "laptop", "{}", now_millis())
        .await
        .unwrap();
    assert!(
        store
            .two_factor_gate(ada.id, leeds.id)
            .await
            .unwrap()
            .enrolled
    );
    let missing = store.set_group_requires_two_factor(9_999, true, None).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

async fn passkeys_belong_to_one_account(store: Store) {
    let ada = store
        .create_user("ada@example.org", "Ada", None, false)
        .await
        .unwrap();
    let bob = store
        .create_user("bob@example.org", "Bob", None, false)
        .await
        .unwrap();
    let now = now_millis();
    let id = store
        .add_passkey(ada.id, "cred-1", "laptop", "{\"v\":1}", now)
        .await
        .unwrap();
    let taken = store
        .add_passkey(bob.id, "cred-1", "stolen", "{}", now)
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert!(matches!(
        store.rename_passkey(bob.id, id, "mine").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.remove_passkey(bob.id, id).await,
        Err(StoreError::NotFound)
    ));
    store
        .rename_passkey(ada.id, id, "work laptop")
        .await
        .unwrap();
    store
        .passkey_used(ada.id, id, "{\"v\":2}", now + 5)
        .await
        .unwrap();
    let keys = store.passkeys(ada.id).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].name, "work laptop");
    assert_eq!(keys[0].credential, "{\"v\":2}");
    assert_eq!(keys[0].last_used_at, Some(now + 5));
    store.remove_passkey(ada.id, id).await.unwrap();
    assert!(store.passkeys(ada.id).await.unwrap().is_empty());
    let log = actions(&store).await;
    assert!(log.contains(&"two_factor.passkey_add".to_owned()));
    assert!(log.contains(&"two_factor.passkey_remove".to_owned()));
}

async fn a_pending_second_step_finishes_once_and_expires(store: Store) {
    let ada = store
        .create_user("ada@example.org", "Ada", None, false)
        .await
        .unwrap();
    let now = now_millis();
    store
        .create_second_step("step-hash", ada.id, "/groups", now, now + 600_000)
        .await
        .unwrap();
    let step = store.second_step("step-hash", now).await.unwrap().unwrap();
    assert_eq!(step.user.id, ada.id);
    assert_eq!(step.next_path, "/groups");
    assert!(
        store
            .second_step("step-hash", now + 600_000)
            .await
            .unwrap()
            .is_none()
    );
    store
        .set_second_step_passkey_state("step-hash", "{\"challenge\":1}")
        .await
        .unwrap();
    let step = store.second_step("step-hash", now).await.unwrap().unwrap();
    assert_eq!(step.passkey_state.as_deref(), Some("{\"challenge\":1}"));
    assert!(store.finish_second_step("step-hash").await.unwrap());
    assert!(!store.finish_second_step("step-hash").await.unwrap());
    assert!(store.second_step("step-hash", now).await.unwrap().is_none());

    store
        .save_passkey_registration(ada.id, "reg", now + 1_000)
        .await
        .unwrap();
    assert_eq!(
        store
            .take_passkey_registration(ada.id, now)
            .await
            .unwrap()
            .as_deref(),
        Some("reg")
    );
    assert!(
        store
            .take_passkey_registration(ada.id, now)
            .await
            .unwrap()
            .is_none()
    );
    store
        .save_passkey_registration(ada.id, "old", now - 1)
        .await
        .unwrap();
    assert!(
        store
            .take_passkey_registration(ada.id, now)
            .await
            .unwrap()
            .is_none()
    );
}

async fn turning_two_factor_off_removes_every_factor(store: Store) {
    let ada = store
        .create_user("ada@example.org", "Ada", None, false)
        .await
        .unwrap();
    let now = now_millis();
    store.begin_totp_setup(ada.id, "SECRET", now).await.unwrap();
    store
        .confirm_totp(ada.id, 1, &["c".to_owned()], now)
        .await
        .unwrap();
    store
        .add_passkey(ada.id, "cred", "key", "{}", now)
        .await
        .unwrap();
    store.disable_two_factor(ada.id).await.unwrap();
    assert_eq!(
        store.two_factor_status(ada.id).await.unwrap(),
        Default::default()
    );
    assert!(store.totp_authenticator(ada.id).await.unwrap().is_none());
    assert!(
        actions(&store)
            .await
            .contains(&"two_factor.disable".to_owned())
    );
}

both_backends! {
    an_authenticator_counts_only_once_confirmed => an_authenticator_counts_only_once_confirmed,
    each_code_step_is_accepted_once_and_never_an_older_one => each_code_step_is_accepted_once_and_never_an_older_one,
    a_recovery_code_works_once_and_only_for_its_account => a_recovery_code_works_once_and_only_for_its_account,
    a_group_requirement_covers_the_groups_below_it => a_group_requirement_covers_the_groups_below_it,
    passkeys_belong_to_one_account => passkeys_belong_to_one_account,
    a_pending_second_step_finishes_once_and_expires => a_pending_second_step_finishes_once_and_expires,
    turning_two_factor_off_removes_every_factor => turning_two_factor_off_removes_every_factor,
}
