//! `barnstorm backup` taken while simulated callers record outcomes on a running node,
//! then `barnstorm restore` into an empty database and `barnstorm check` on the result,
//! on SQLite and on PostgreSQL; and the refusals an operator relies on (an existing file,
//! a non-empty database, a damaged backup, the wrong engine).

use crate::bench_callers::{open_all_day_and_faster, start_node};
use crate::{BIN, barnstorm, run};
use barnstorm_store::testing::ScratchDatabase;
use std::process::{Command, Stdio};
use std::time::Duration;

const CAMPAIGN: &str = "1";

/// `barnstorm check` on campaign 1 of `db`: PASS, and how many call attempts it holds.
fn checked_attempts(db: &str) -> u64 {
    let check = barnstorm(&["check", "--campaign", CAMPAIGN, "--database-url", db]);
    let text = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(text.contains("overall verdict              PASS"), "{text}");
    text.lines()
        .find_map(|l| l.strip_prefix("call attempts stored"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no attempt count in:\n{text}"))
}

fn printed(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn backup_during_calls(source: ScratchDatabase, target: ScratchDatabase, file_name: &str) {
    barnstorm_web::install_tls_provider();
    let dir = tempfile::tempdir().unwrap();
    let (src, dst) = (source.url_text(), target.url_text());
    barnstorm(&["demo", "--database-url", &src]);
    let before = checked_attempts(&src);
    let (node, base) = start_node(&src, dir.path()).await;
    open_all_day_and_faster(&base).await;

    let mut callers = Command::new(BIN)
        .args([
            "bench",
            "callers",
            "--target",
            &base,
            "--campaign",
            CAMPAIGN,
        ])
        .args(["--organiser-email", "northwest@example.org"])
        .args(["--organiser-password", "barnstorm-demo"])
        .args(["--callers", "8", "--ramp", "1", "--duration", "120"])
        .args(["--call-secs", "0.05-0.2", "--wrap-up-secs", "0.05"])
        .args(["--outcomes", "no_answer=60,busy=25,wrong_number=15"])
        .args(["--break-chance", "0", "--abandon-chance", "0"])
        .env("BARNSTORM_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let counter = AttemptCounter::open(&src).await;
    counter.wait_for_more_than(before).await;
    let file = dir.path().join(file_name);
    let file_text = file.to_str().unwrap();
    let taken = barnstorm(&["backup", file_text, "--database-url", &src]);
    assert!(
        printed(&taken).contains("passed its integrity check"),
        "{}",
        printed(&taken)
    );
    let restored = barnstorm(&["restore", file_text, "--database-url", &dst]);
    assert!(
        printed(&restored).contains("Restored"),
        "{}",
        printed(&restored)
    );
    let in_backup = checked_attempts(&dst);
    // The callers go on after the backup: what it holds is one moment mid-run.
    counter.wait_for_more_than(in_backup).await;
    counter.close().await;
    let _ = callers.kill();
    let _ = callers.wait();
    drop(node);
    let after = checked_attempts(&src);
    assert!(
        before < in_backup && in_backup < after,
        "the backup was taken mid-run: {before} attempts before the load, {in_backup} in the backup, {after} at the end"
    );

    let again = run(&["backup", file_text, "--database-url", &src]);
    assert!(!again.status.success());
    assert!(
        printed(&again).contains("already exists; pass --force"),
        "{}",
        printed(&again)
    );
    let over = run(&["restore", file_text, "--database-url", &dst]);
    assert!(!over.status.success(), "restored over a live database");
    let refusal = printed(&over);
    assert!(
        refusal.contains("pass --force") && refusal.contains("error:"),
        "{refusal}"
    );
    barnstorm(&["restore", file_text, "--database-url", &dst, "--force"]);
    assert_eq!(checked_attempts(&dst), in_backup);

    source.drop_database().await;
    target.drop_database().await;
}

/// Counts the campaign's stored calls while the node runs.
struct AttemptCounter(sqlx::AnyPool);

impl AttemptCounter {
    async fn open(db: &str) -> Self {
        sqlx::any::install_default_drivers();
        let url = match db.strip_prefix("sqlite:") {
            Some(path) => format!("sqlite://{path}"),
            None => db.to_owned(),
        };
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        Self(pool)
    }

    /// Waits (two minutes at most) until more than `count` calls are stored.
    async fn wait_for_more_than(&self, count: u64) {
        let until = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            let stored: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM call_attempts WHERE campaign_id = 1")
                    .fetch_one(&self.0)
                    .await
                    .unwrap();
            if u64::try_from(stored).unwrap() > count {
                return;
            }
            assert!(
                std::time::Instant::now() < until,
                "the callers stored no more than {count} calls in two minutes"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn close(self) {
        self.0.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_and_passes_the_checker() {
    backup_during_calls(
        ScratchDatabase::sqlite(),
        ScratchDatabase::sqlite(),
        "backup.db",
    )
    .await;
    if let (Some(source), Some(target)) = (
        ScratchDatabase::postgres().await,
        ScratchDatabase::postgres().await,
    ) {
        backup_during_calls(source, target, "backup.dump").await;
    }
}

#[tokio::test]
async fn a_damaged_or_foreign_file_is_refused_before_anything_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let target = ScratchDatabase::sqlite();
    let dst = target.url_text();
    barnstorm(&["migrate", "--database-url", &dst]);

    let garbage = dir.path().join("notes.txt");
    std::fs::write(&garbage, "not a backup at all").unwrap();
    let refused = run(&[
        "restore",
        garbage.to_str().unwrap(),
        "--database-url",
        &dst,
        "--force",
    ]);
    assert!(!refused.status.success());
    assert!(
        printed(&refused).contains("neither a SQLite database nor a pg_dump"),
        "{}",
        printed(&refused)
    );

    // A real backup with a page overwritten in the middle.
    let good = dir.path().join("good.db");
    barnstorm(&["backup", good.to_str().unwrap(), "--database-url", &dst]);
    let mut bytes = std::fs::read(&good).unwrap();
    let page = 4096 * 3;
    bytes[page..page + 4096].fill(0xA5);
    let torn = dir.path().join("torn.db");
    std::fs::write(&torn, &bytes).unwrap();
    let refused = run(&[
        "restore",
        torn.to_str().unwrap(),
        "--database-url",
        &dst,
        "--force",
    ]);
    assert!(!refused.status.success());
    assert!(
        printed(&refused).contains("is not a usable Barnstorm backup"),
        "{}",
        printed(&refused)
    );

    if let Some(pg) = ScratchDatabase::postgres().await {
        let wrong = run(&[
            "restore",
            good.to_str().unwrap(),
            "--database-url",
            &pg.url_text(),
        ]);
        assert!(!wrong.status.success());
        assert!(
            printed(&wrong).contains("it is a sqlite backup"),
            "{}",
            printed(&wrong)
        );
        pg.drop_database().await;
    }
    // The database refused backups were aimed at is untouched and still opens.
    barnstorm(&["migrate", "--database-url", &dst]);
    target.drop_database().await;
}
