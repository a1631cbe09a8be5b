use barnstorm_store::{NewMail, Store, both_backends, now_millis};
use std::collections::BTreeMap;

fn mail(n: u32) -> NewMail {
    let mut headers = BTreeMap::new();
    headers.insert(
        "List-Unsubscribe".to_owned(),
        format!("<https://example.org/u/{n}>"),
    );
    NewMail {
        to: format!("p{n}@example.org"),
        subject: format!("Mail {n}"),
        body_text: "Hello".into(),
        headers,
        ..Default::default()
    }
}

async fn claimed_mail_is_locked_to_one_worker(store: Store) {
    for n in 0..3 {
        store.enqueue_mail(&mail(n)).await.unwrap();
    }
    let first = store.claim_due_mail(2, 60_000).await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(
        first[0].mail,
        mail(0),
        "headers and body survive the round trip"
    );
    let second = store.claim_due_mail(10, 60_000).await.unwrap();
    assert_eq!(second.len(), 1, "locked mail is not handed out twice");
    assert_eq!(second[0].mail.to, "p2@example.org");
    assert!(store.claim_due_mail(10, 60_000).await.unwrap().is_empty());
}

async fn failed_mail_is_retried_then_given_up(store: Store) {
    store.enqueue_mail(&mail(1)).await.unwrap();
    let claimed = store.claim_due_mail(1, 60_000).await.unwrap().remove(0);
    store
        .mark_mail_failed(claimed.id, "connection refused", Some(now_millis() - 1))
        .await
        .unwrap();
    let retry = store.claim_due_mail(1, 60_000).await.unwrap().remove(0);
    assert_eq!(retry.attempts, 1);
    store
        .mark_mail_failed(
            retry.id,
            "connection refused",
            Some(now_millis() + 3_600_000),
        )
        .await
        .unwrap();
    assert!(
        store.claim_due_mail(1, 60_000).await.unwrap().is_empty(),
        "not before its retry time"
    );
    assert_eq!(store.mail_counts().await.unwrap(), (1, 0));

    store.enqueue_mail(&mail(2)).await.unwrap();
    let other = store.claim_due_mail(1, 60_000).await.unwrap().remove(0);
    store.mark_mail_sent(other.id).await.unwrap();
    store.enqueue_mail(&mail(3)).await.unwrap();
    let doomed = store.claim_due_mail(1, 60_000).await.unwrap().remove(0);
    store
        .mark_mail_failed(doomed.id, "550 no such user", None)
        .await
        .unwrap();
    assert_eq!(store.mail_counts().await.unwrap(), (1, 1));
}

async fn sent_mail_is_purged_after_a_while(store: Store) {
    store.enqueue_mail(&mail(1)).await.unwrap();
    store.enqueue_mail(&mail(2)).await.unwrap();
    let claimed = store.claim_due_mail(1, 60_000).await.unwrap().remove(0);
    store.mark_mail_sent(claimed.id).await.unwrap();
    assert_eq!(
        store.purge_sent_mail(60_000).await.unwrap(),
        0,
        "recent mail is kept"
    );
    assert_eq!(
        store.purge_sent_mail(-1).await.unwrap(),
        1,
        "old sent mail goes"
    );
    assert_eq!(
        store.mail_counts().await.unwrap(),
        (1, 0),
        "unsent mail is never purged"
    );
}

both_backends! {
    outbox_purge => sent_mail_is_purged_after_a_while,
    outbox_claims => claimed_mail_is_locked_to_one_worker,
    outbox_retries => failed_mail_is_retried_then_given_up,
}
