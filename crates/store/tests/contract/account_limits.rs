//! Counters that hold under races, revocation of every other credential, sign-in links
//! that void their predecessors, and campaign invite codes kept only as hashes.

use barnstorm_store::phonebank::{CampaignSettings, InviteAcceptance};
use barnstorm_store::{GroupKind, Store, both_backends, hash_secret, now_millis};

async fn parallel_hits_are_each_counted_once(store: Store) {
    let now = 1_000_000;
    let mut racing = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        racing.spawn(async move {
            store
                .hit_rate_limit("email:x@example.org", 60_000, now)
                .await
        });
    }
    let mut counts: Vec<i64> = racing
        .join_all()
        .await
        .into_iter()
        .map(|c| c.unwrap().hits)
        .collect();
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=20).collect::<Vec<_>>(),
        "no two hits saw the same count"
    );
    let peek = store
        .rate_limit_count("email:x@example.org", 60_000, now + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(peek.hits, 20);
    assert_eq!(peek.window_ends_at, now + 60_000);
    assert!(peek.exceeds(5));
    let next_window = store
        .hit_rate_limit("email:x@example.org", 60_000, now + 60_000)
        .await
        .unwrap();
    assert_eq!(next_window.hits, 1, "a new window starts from one");
    store
        .forgive_rate_limit_hit("email:x@example.org")
        .await
        .unwrap();
    store.clear_rate_limit("email:x@example.org").await.unwrap();
    assert!(
        store
            .rate_limit_count("email:x@example.org", 60_000, now + 60_001)
            .await
            .unwrap()
            .is_none()
    );
}

async fn revoking_others_keeps_only_the_current_session(store: Store) {
    let user = store
        .create_user("r@example.org", "R", None, false)
        .await
        .unwrap();
    let later = now_millis() + 60_000;
    for hash in ["here", "there", "elsewhere"] {
        store
            .create_session(hash, user.id, "csrf", later, "password")
            .await
            .unwrap();
    }
    store
        .create_api_token(user.id, "tok", "laptop")
        .await
        .unwrap();
    let ended = store
        .revoke_other_credentials(user.id, Some("here"), now_millis(), "signed out everywhere")
        .await
        .unwrap();
    assert_eq!(ended, 3, "two sessions and one token");
    assert!(store.session("here").await.unwrap().is_some());
    assert!(store.session("there").await.unwrap().is_none());
    assert!(store.api_token_user("tok").await.unwrap().is_none());

    store
        .confirm_address_owner(user.id, now_millis())
        .await
        .unwrap();
    assert!(
        store.session("here").await.unwrap().is_none(),
        "a proof ends every session"
    );
}

async fn a_new_sign_in_link_voids_the_old_one(store: Store) {
    let user = store
        .create_user("l@example.org", "L", None, false)
        .await
        .unwrap();
    let later = now_millis() + 60_000;
    store
        .create_sign_in_link("first", user.id, later)
        .await
        .unwrap();
    store
        .create_sign_in_link("second", user.id, later)
        .await
        .unwrap();
    assert!(store.redeem_sign_in_link("first").await.unwrap().is_none());
    assert!(store.redeem_sign_in_link("second").await.unwrap().is_some());
}

async fn invite_codes_are_stored_hashed_and_legacy_codes_keep_working(store: Store) {
    let group = store
        .create_group(None, "Hull", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let campaign = store
        .create_campaign(group.id, &CampaignSettings::new("Hull"), None)
        .await
        .unwrap();
    let org = store
        .create_user("org@example.org", "Org", None, false)
        .await
        .unwrap();
    let expires = now_millis() + 10 * 3_600_000;
    let invite = store
        .create_campaign_invite(campaign.id, "new-code", org.id, expires, Some(10), Some(2))
        .await
        .unwrap();
    assert_eq!(invite.code_hash, hash_secret("new-code"));
    assert!(store.campaign_invite("new-code").await.unwrap().is_some());
    assert!(
        store
            .campaign_invite(&hash_secret("new-code"))
            .await
            .unwrap()
            .is_none(),
        "the stored hash is not itself a code"
    );

    store
        .insert_plain_campaign_invite(campaign.id, "old-code", expires)
        .await
        .unwrap();
    assert!(
        store.campaign_invite("old-code").await.unwrap().is_none(),
        "an unhashed row is never matched"
    );
    store.migrate().await.unwrap();
    let legacy = store.campaign_invite("old-code").await.unwrap().unwrap();
    assert_eq!(legacy.code_hash, hash_secret("old-code"));

    // The hourly cap on new accounts, in the store.
    let now = now_millis();
    for n in 0..2 {
        let made = store
            .accept_campaign_invite("new-code", &format!("v{n}@example.org"), "V", None, now)
            .await
            .unwrap();
        let InviteAcceptance::Accepted { user, .. } = made else {
            panic!("{made:?}")
        };
        assert!(
            !user.is_verified(),
            "accounts made by invite are unverified"
        );
    }
    let third = store
        .accept_campaign_invite("new-code", "v2@example.org", "V", None, now)
        .await
        .unwrap();
    assert_eq!(third, InviteAcceptance::HourlyAccountCapReached);
    assert!(
        store
            .user_by_email("v2@example.org")
            .await
            .unwrap()
            .is_none()
    );
    let next_hour = store
        .accept_campaign_invite("new-code", "v2@example.org", "V", None, now + 3_600_001)
        .await
        .unwrap();
    assert!(matches!(next_hour, InviteAcceptance::Accepted { .. }));
}

both_backends! {
    rate_limit_counters => parallel_hits_are_each_counted_once,
    revoke_other_credentials => revoking_others_keeps_only_the_current_session,
    sign_in_link_voids_older => a_new_sign_in_link_voids_the_old_one,
    hashed_invite_codes => invite_codes_are_stored_hashed_and_legacy_codes_keep_working,
}
