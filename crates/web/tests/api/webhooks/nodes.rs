//! Two nodes (two stores on one database, two workers each) delivering one webhook queue:
//! every message reaches the receiver exactly once between them.

use super::receiver::Receiver;
use super::worker;
use barnstorm_store::testing::TestDatabase;
use barnstorm_store::webhooks::{NewWebhookEndpoint, WebhookEventType, new_webhook_secret};
use barnstorm_store::{Store, StoreOptions};
use barnstorm_web::webhooks::WebhookWorker;
use std::collections::BTreeMap;
use std::time::Duration;

const MESSAGES: usize = 60;

/// Runs `worker` until a round finds nothing to send and `store` has nothing pending.
async fn drain(worker: WebhookWorker, store: Store, endpoint: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let report = worker.deliver_due().await.unwrap();
        if report.delivered + report.retrying + report.deferred == 0 {
            let pending = store.webhook_deliveries(endpoint, 1000).await.unwrap();
            if pending.iter().all(|d| d.status != "pending") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the queue did not drain"
        );
    }
}

async fn two_nodes_deliver_each_message_once(db: &TestDatabase) {
    let other = Store::connect(&db.url, &StoreOptions::default())
        .await
        .unwrap();
    let receiver = Receiver::start(&[]).await;
    let admin = db
        .store
        .create_user("ada.admin@example.org", "Ada Admin", None, true)
        .await
        .unwrap();
    let endpoint = db
        .store
        .create_webhook_endpoint(
            &NewWebhookEndpoint {
                url: receiver.url.clone(),
                description: String::new(),
                event_types: vec![WebhookEventType::PersonErased],
            },
            &new_webhook_secret(),
            admin.id,
        )
        .await
        .unwrap();
    for i in 0..MESSAGES {
        let queued = db
            .store
            .queue_webhook(
                WebhookEventType::PersonErased,
                serde_json::json!({"supporter_ids": [i]}),
            )
            .await
            .unwrap();
        assert_eq!(queued, 1);
    }
    let workers = [
        worker(&db.store),
        worker(&db.store),
        worker(&other),
        worker(&other),
    ];
    let stores = [
        db.store.clone(),
        db.store.clone(),
        other.clone(),
        other.clone(),
    ];
    let mut running = Vec::new();
    for (w, s) in workers.into_iter().zip(stores) {
        running.push(tokio::spawn(drain(w, s, endpoint.id)));
    }
    for task in running {
        task.await.unwrap();
    }
    let mut times_seen: BTreeMap<String, usize> = BTreeMap::new();
    for got in receiver.received() {
        *times_seen.entry(got.id).or_default() += 1;
    }
    assert_eq!(times_seen.len(), MESSAGES, "every message arrived");
    let twice: Vec<_> = times_seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    other.close().await;
}

#[tokio::test]
async fn two_nodes_deliver_each_message_once_sqlite() {
    let db = TestDatabase::sqlite().await;
    two_nodes_deliver_each_message_once(&db).await;
    db.drop_database().await;
}

#[tokio::test]
async fn two_nodes_deliver_each_message_once_postgres() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    two_nodes_deliver_each_message_once(&db).await;
    db.drop_database().await;
}
