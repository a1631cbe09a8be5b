//! Tests of the PostgreSQL batcher on a fresh schema: a job that fails in the database
//! does not fail the jobs batched with it, and one batch of claims leases each contact
//! once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::batcher::run_batch;
use super::*;
use crate::testing::TestDatabase;
use barnstorm_domain::outcome::{Outcome, OutcomeEffect};
use barnstorm_domain::queue_policy::RetryPolicy;

async fn seeded() -> Option<TestDatabase> {
    let db = TestDatabase::postgres().await?;
    for sql in [
        "INSERT INTO users (id, email, name, created_at) VALUES (7, 'ann@example.org', 'Ann', 0)",
        "INSERT INTO groups (id, slug, name, kind, created_at) VALUES (1, 'leeds', 'Leeds', 'branch', 0)",
        "INSERT INTO call_campaigns (id, group_id, name, outcomes, calling_hours, created_at, updated_at)
             VALUES (1, 1, 'Spring', '[]', '{}', 0, 0)",
        "INSERT INTO contacts (id, campaign_id, phone, created_at)
             VALUES (1, 1, '+442079460001', 0), (2, 1, '+442079460002', 0), (3, 1, '+442079460003', 0)",
    ] {
        sqlx::query(sql).execute(db.store.writer()).await.unwrap();
    }
    Some(db)
}

/// Runs `ops` as one batch and returns each answer.
async fn batch(db: &TestDatabase, ops: Vec<Op>) -> Vec<Result<Done, LeaseProblem>> {
    let (jobs, answers): (Vec<Job>, Vec<_>) = ops
        .into_iter()
        .map(|op| {
            let (reply, answer) = oneshot::channel();
            let job = Job {
                op,
                reply,
                handed_over: Instant::now(),
            };
            (job, answer)
        })
        .unzip();
    run_batch(db.store.writer(), jobs, &QueueMetrics::default()).await;
    let mut results = Vec::new();
    for answer in answers {
        results.push(answer.await.unwrap());
    }
    results
}

fn claim() -> Op {
    Op::Claim {
        campaign_id: 1,
        wanted: WantedLease {
            caller_id: 7,
            now: 1_000,
            lease_ms: 60_000,
        },
    }
}

fn spoke(lease_id: i64) -> Op {
    Op::Outcome(Box::new(OwnedOutcome {
        lease_id,
        caller_id: 7,
        idempotency_key: format!("call-{lease_id}"),
        outcome: Outcome {
            key: "spoke".into(),
            label: "Spoke".into(),
            effect: OutcomeEffect::Completed,
            counts_as_conversation: true,
            requires: Vec::new(),
        },
        answers_json: "{}".into(),
        notes: String::new(),
        callback_at: None,
        retry: RetryPolicy::default(),
        campaign_id: 1,
        group_id: 1,
        do_not_call_per_hour: 10,
        now: 2_000,
    }))
}

/// Four claims for three contacts in one batch: three leases on three different
/// contacts, and the fourth caller is told nothing is left.
#[tokio::test]
async fn one_batch_of_claims_leases_each_contact_once() {
    let Some(db) = seeded().await else { return };
    let results = batch(&db, vec![claim(), claim(), claim(), claim()]).await;
    let mut contacts: Vec<i64> = Vec::new();
    let mut empty = 0;
    for result in results {
        match result {
            Ok(Done::Claimed(Some(claimed))) => contacts.push(claimed.contact.id),
            Ok(Done::Claimed(None)) => empty += 1,
            _ => panic!("a claim failed"),
        }
    }
    contacts.sort_unstable();
    assert_eq!(contacts, [1, 2, 3]);
    assert_eq!(empty, 1);
    db.drop_database().await;
}

/// An outcome that fails in the database after its first writes (the update of contact
/// two is refused by a trigger) leaves nothing behind, and the outcomes batched with it
/// are recorded.
#[tokio::test]
async fn a_job_that_fails_in_the_database_does_not_fail_its_batch() {
    let Some(db) = seeded().await else { return };
    let mut leases = Vec::new();
    for result in batch(&db, vec![claim(), claim(), claim()]).await {
        let Ok(Done::Claimed(Some(claimed))) = result else {
            panic!("a claim found nobody");
        };
        leases.push((claimed.lease_id, claimed.contact.id));
    }
    for sql in [
        "CREATE FUNCTION refuse_contact_two() RETURNS trigger AS $$
         BEGIN IF NEW.id = 2 THEN RAISE EXCEPTION 'contact two is refused'; END IF; RETURN NEW; END
         $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_contact_two BEFORE UPDATE OF last_outcome ON contacts
         FOR EACH ROW EXECUTE FUNCTION refuse_contact_two()",
    ] {
        sqlx::query(sql).execute(db.store.writer()).await.unwrap();
    }
    let outcomes = leases
        .iter()
        .map(|&(lease_id, _)| spoke(lease_id))
        .collect();
    let results = batch(&db, outcomes).await;
    let refused: Vec<i64> = leases
        .iter()
        .zip(&results)
        .filter(|(_, result)| result.is_err())
        .map(|((_, contact_id), _)| *contact_id)
        .collect();
    assert_eq!(refused, [2], "only contact two's outcome fails");
    let stored: Vec<i64> =
        sqlx::query_scalar("SELECT contact_id FROM call_attempts ORDER BY contact_id")
            .fetch_all(db.store.writer())
            .await
            .unwrap();
    assert_eq!(stored, [1, 3], "the refused outcome left no attempt");
    let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM leases WHERE outcome_at IS NULL")
        .fetch_one(db.store.writer())
        .await
        .unwrap();
    assert_eq!(open, 1, "the refused outcome's lease is still open");
    db.drop_database().await;
}
