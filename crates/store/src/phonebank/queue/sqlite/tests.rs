//! Tests of the SQLite queue writer on an in-memory database: a job failing half-way
//! leaves nothing and its batch stands, the caller's standing reads small index ranges,
//! and the shared statements number their parameters in order.

use super::super::sql::*;
use super::writer::run_in_transaction;
use super::*;
use crate::phonebank::pace::RECENT_DO_NOT_CALLS;
use crate::phonebank::queue_status::{CALLER_STANDING, HELD_CONTACT};
use barnstorm_domain::outcome::{Outcome, OutcomeEffect};
use barnstorm_domain::queue_policy::RetryPolicy;
use rusqlite::{Connection, params};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// An empty database in memory with every migration applied and foreign keys on.
fn migrated() -> Result<Connection, Box<dyn std::error::Error>> {
    let conn = Connection::open_in_memory()?;
    conn.execute_batch("PRAGMA foreign_keys = ON")?;
    let mut migrations: Vec<_> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))?
            .collect::<Result<Vec<_>, _>>()?;
    migrations.sort_by_key(std::fs::DirEntry::path);
    for migration in migrations {
        conn.execute_batch(&std::fs::read_to_string(migration.path())?)?;
    }
    Ok(conn)
}

fn job(op: Op) -> Job {
    Job {
        op,
        reply: oneshot::channel().0,
        handed_over: Instant::now(),
    }
}

/// Runs `ops` as one batch and commits it.
fn commit(
    conn: &Connection,
    ops: Vec<Op>,
) -> Result<Vec<Result<Done, LeaseProblem>>, Box<dyn std::error::Error>> {
    let batch: Vec<Job> = ops.into_iter().map(job).collect();
    let results = run_in_transaction(conn, &batch)?;
    conn.execute_batch("COMMIT")?;
    Ok(results)
}

/// A job that fails after writing part of its work (here the contact update at the
/// end of an outcome is refused) leaves nothing behind, and the jobs committed in the
/// same batch still stand.
#[test]
fn a_job_that_fails_halfway_leaves_nothing_and_its_batch_stands() -> TestResult {
    let conn = migrated()?;
    conn.execute_batch(
        "INSERT INTO users (id, email, name, created_at) VALUES (7, 'ann@example.org', 'Ann', 0);
         INSERT INTO groups (id, slug, name, kind, created_at) VALUES (1, 'leeds', 'Leeds', 'branch', 0);
         INSERT INTO call_campaigns (id, group_id, name, outcomes, calling_hours, created_at, updated_at)
             VALUES (1, 1, 'Spring', '[]', '{}', 0, 0);
         INSERT INTO contacts (id, campaign_id, phone, created_at)
             VALUES (1, 1, '+442079460001', 0), (2, 1, '+442079460002', 0), (3, 1, '+442079460003', 0);",
    )?;
    let claim = || Op::Claim {
        campaign_id: 1,
        caller_id: 7,
        now: 1_000,
        lease_ms: 60_000,
    };
    let mut leases = Vec::new();
    for claimed in commit(&conn, vec![claim(), claim(), claim()])? {
        let Ok(Done::Claimed(Some(claimed))) = claimed else {
            return Err("a claim found nobody".into());
        };
        leases.push((claimed.lease_id, claimed.contact.id));
    }
    conn.execute_batch(
        "CREATE TRIGGER refuse_contact_two BEFORE UPDATE OF last_outcome ON contacts
         WHEN NEW.id = 2 BEGIN SELECT RAISE(ABORT, 'contact two is refused'); END;",
    )?;
    let spoke = Outcome {
        key: "spoke".into(),
        label: "Spoke".into(),
        effect: OutcomeEffect::Completed,
        counts_as_conversation: true,
        requires: Vec::new(),
    };
    let outcomes = leases
        .iter()
        .map(|&(lease_id, _)| {
            Op::Outcome(Box::new(OwnedOutcome {
                lease_id,
                caller_id: 7,
                idempotency_key: format!("call-{lease_id}"),
                outcome: spoke.clone(),
                answers_json: "{}".into(),
                notes: String::new(),
                callback_at: None,
                retry: RetryPolicy::default(),
                campaign_id: 1,
                group_id: 1,
                do_not_call_per_hour: 10,
                now: 2_000,
            }))
        })
        .collect();
    let results = commit(&conn, outcomes)?;
    let recorded: Vec<bool> = results.iter().map(Result::is_ok).collect();
    let refused = leases
        .iter()
        .zip(&recorded)
        .find(|(_, ok)| !**ok)
        .map(|((_, contact_id), _)| *contact_id);
    assert_eq!(
        refused,
        Some(2),
        "only contact two's outcome fails: {recorded:?}"
    );
    let stored: Vec<i64> = conn
        .prepare("SELECT contact_id FROM call_attempts ORDER BY contact_id")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    assert_eq!(stored, [1, 3], "the refused outcome left no attempt");
    let open: i64 = conn.query_row(
        "SELECT COUNT(*) FROM leases WHERE outcome_at IS NULL",
        [],
        |row| row.get(0),
    )?;
    assert_eq!(open, 1, "the refused outcome's lease is still open");
    Ok(())
}

/// A claim reads the caller's standing from the two small indexes of leases without
/// an outcome, the caller's newest leases on the campaign (the pace index, at most
/// the limit of them) and the caller's row, never from every lease the caller or the
/// campaign ever had.
#[test]
fn the_callers_standing_reads_only_small_index_ranges() -> TestResult {
    let conn = migrated()?;
    let plan: Vec<String> = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {CALLER_STANDING}"))?
        .query_map(params![1, 1, 0, 0, 0, 6, 0, 120], |row| {
            row.get::<_, String>(3)
        })?
        .collect::<Result<_, _>>()?;
    let searches: Vec<&String> = plan
        .iter()
        .filter(|step| step.starts_with("SEARCH") || step.starts_with("SCAN leases"))
        .collect();
    assert_eq!(searches.len(), 5, "{plan:?}");
    let uses = |index: &str| searches.iter().filter(|s| s.contains(index)).count();
    assert_eq!(uses("USING INDEX leases_open"), 1, "{plan:?}");
    assert_eq!(uses("USING INDEX leases_unrecorded"), 1, "{plan:?}");
    // The pace: the caller's newest leases on the campaign, from the pace index.
    assert_eq!(uses("USING COVERING INDEX leases_pace"), 2, "{plan:?}");
    assert_eq!(
        uses("SEARCH cc USING INDEX sqlite_autoindex_campaign_callers_1"),
        1,
        "{plan:?}"
    );
    Ok(())
}

/// SQLite numbers `$N` parameters in the order they first appear, and the writer binds
/// by position: every shared statement must name `$1`, `$2`, … in that order.
#[test]
fn shared_statements_number_their_parameters_in_order() -> TestResult {
    let conn = migrated()?;
    for sql in [
        CALLER_STANDING,
        HELD_CONTACT.as_str(),
        PICK_CONTACT,
        INSERT_LEASE,
        LEASE_CONTACT.as_str(),
        SELECT_LEASE.as_str(),
        RECENT_DO_NOT_CALLS,
        EXTEND_LEASE,
        EXTEND_CONTACT,
        RELEASE_LEASE,
        RELEASE_CONTACT,
        EARLIER_ATTEMPT,
        OUTCOME_CONTACT,
        INSERT_ATTEMPT,
        CLOSE_LEASE,
        SETTLE_CONTACT,
        ADD_DO_NOT_CALL,
        SUPPRESS_PHONE,
    ] {
        let stmt = conn.prepare(sql)?;
        for i in 1..=stmt.parameter_count() {
            assert_eq!(
                stmt.parameter_name(i),
                Some(format!("${i}").as_str()),
                "in {sql}"
            );
        }
    }
    Ok(())
}
