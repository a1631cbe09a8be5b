//! Several nodes delivering one outbox: every queued mail is sent exactly once between
//! them, even when the SMTP server is slower than a worker's claim on the mail lasts.

use super::{mail, start_smtp_taking};
use barnstorm_mail::{MailConfig, MailWorker};
use barnstorm_store::testing::TestDatabase;
use barnstorm_store::{Store, StoreOptions};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

/// Runs `worker` until the outbox is empty; bounded in rounds and time.
async fn drain(worker: MailWorker, store: Store) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    for _ in 0..2000 {
        let report = worker.deliver_due().await.unwrap();
        if report.sent + report.deferred == 0 {
            if store.mail_counts().await.unwrap().0 == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the outbox did not drain"
        );
    }
    panic!("the outbox did not drain in 2000 rounds");
}

fn folder_worker(store: &Store, dir: &Path) -> MailWorker {
    let config = MailConfig::new("Barnstorm <barnstorm@example.org>", None, dir.to_path_buf());
    MailWorker::new(store.clone(), config.unwrap())
}

fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// A second node's store on the same database.
async fn second_node(db: &TestDatabase) -> Store {
    Store::connect(&db.url, &StoreOptions::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn four_workers_on_two_nodes_deliver_every_mail_exactly_once() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let other = second_node(&db).await;
    const MAILS: usize = 300;
    for i in 0..MAILS {
        db.store
            .enqueue_mail(&mail(&format!("n{i}@example.org")))
            .await
            .unwrap();
    }
    let folders = tempfile::tempdir().unwrap();
    let mut tasks = Vec::new();
    for (n, store) in [&db.store, &db.store, &other, &other]
        .into_iter()
        .enumerate()
    {
        let dir = folders.path().join(format!("worker-{n}"));
        tasks.push(tokio::spawn(drain(
            folder_worker(store, &dir),
            store.clone(),
        )));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut all = Vec::new();
    let mut workers_that_sent = 0;
    for n in 0..4 {
        let files = files_in(&folders.path().join(format!("worker-{n}")));
        workers_that_sent += usize::from(!files.is_empty());
        all.extend(files);
    }
    let distinct: BTreeSet<&String> = all.iter().collect();
    assert_eq!(all.len(), MAILS, "each mail written once in all");
    assert_eq!(distinct.len(), MAILS, "no mail written by two workers");
    assert!(workers_that_sent >= 2, "the nodes shared the work");
    assert_eq!(db.store.mail_counts().await.unwrap(), (0, 0));
    other.close().await;
    db.drop_database().await;
}

/// Worker A claims a batch whose sending outlasts its lock; worker B polls meanwhile.
async fn slow_server_body(a: Store, b: Store) {
    const MAILS: usize = 16;
    let (port, received) = start_smtp_taking(None, Duration::from_millis(150));
    for i in 0..MAILS {
        a.enqueue_mail(&mail(&format!("slow{i}@example.org")))
            .await
            .unwrap();
    }
    let url = format!("smtp://127.0.0.1:{port}");
    let worker = |store: &Store| {
        let dir = std::env::temp_dir().join("barnstorm-mail-unused");
        let config = MailConfig::new("Barnstorm <barnstorm@example.org>", Some(&url), dir);
        MailWorker::new(store.clone(), config.unwrap()).with_claim_lock(Duration::from_millis(1200))
    };
    let first = tokio::spawn(drain(worker(&a), a.clone()));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second = tokio::spawn(drain(worker(&b), b.clone()));
    first.await.unwrap();
    second.await.unwrap();
    let got: Vec<String> = received
        .lock()
        .unwrap()
        .iter()
        .flat_map(|r| r.to.clone())
        .collect();
    let distinct: BTreeSet<&String> = got.iter().collect();
    assert_eq!(distinct.len(), MAILS, "every mail arrived");
    assert_eq!(got.len(), MAILS, "no mail arrived twice: {got:?}");
}

#[tokio::test]
async fn a_slow_smtp_server_cannot_make_two_nodes_send_one_mail_postgres() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let other = second_node(&db).await;
    slow_server_body(db.store.clone(), other.clone()).await;
    other.close().await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_slow_smtp_server_cannot_make_two_workers_send_one_mail_sqlite() {
    let db = TestDatabase::sqlite().await;
    slow_server_body(db.store.clone(), db.store.clone()).await;
    db.drop_database().await;
}
