//! `barnstorm check`: runs the checker on one or more campaigns after a load or fault
//! run — per campaign, the lease, cooldown and calling-hours guarantees; across them all,
//! that every outcome the load generator saw acknowledged is stored exactly once — and
//! exits non-zero when any promise was broken.

use crate::DatabaseArgs;
use anyhow::{Context, bail};
use barnstorm_store::StoreOptions;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Options of `barnstorm check`.
#[derive(clap::Args, Debug)]
pub(crate) struct CheckArgs {
    /// A campaign to check; repeat for several.
    #[arg(long = "campaign", required = true)]
    campaigns: Vec<i64>,
    /// Load generator JSON reports whose acknowledged attempt ids must all be stored;
    /// repeat to merge runs (e.g. before and after a restart).
    #[arg(long = "acks")]
    acks: Vec<PathBuf>,
    #[command(flatten)]
    database: DatabaseArgs,
}

fn read_acks(paths: &[PathBuf]) -> anyhow::Result<BTreeSet<i64>> {
    let mut acks = BTreeSet::new();
    for path in paths {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let report: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a JSON report", path.display()))?;
        let ids = report["acknowledged_attempts"]
            .as_array()
            .with_context(|| format!("{} has no acknowledged_attempts", path.display()))?;
        acks.extend(ids.iter().filter_map(serde_json::Value::as_i64));
    }
    Ok(acks)
}

pub(crate) async fn run(args: CheckArgs) -> anyhow::Result<()> {
    let acknowledged = read_acks(&args.acks)?;
    let store = args.database.open(&StoreOptions::default()).await?;
    let mut stored = BTreeSet::new();
    let mut passed = true;
    for id in &args.campaigns {
        let campaign = store
            .campaign(*id)
            .await?
            .with_context(|| format!("there is no campaign {id}"))?;
        let report = barnstorm_dispatch::check_campaign(&store, &campaign, None).await?;
        println!("campaign {id}: {}", campaign.settings.name);
        print!("{report}");
        passed &= report.passed;
        stored.extend(store.attempt_ids(*id).await?);
    }
    if !args.acks.is_empty() {
        let missing: Vec<_> = acknowledged.difference(&stored).collect();
        let unacknowledged = stored.difference(&acknowledged).count();
        println!("acknowledged outcomes        {}", acknowledged.len());
        println!("acknowledged but missing     {}", missing.len());
        println!(
            "stored but unacknowledged    {unacknowledged} (calls cut off by the end of a run or a crash)"
        );
        if !missing.is_empty() {
            println!(
                "missing attempt ids: {:?}",
                missing.iter().take(20).collect::<Vec<_>>()
            );
            passed = false;
        }
    }
    println!(
        "overall verdict              {}",
        if passed { "PASS" } else { "FAIL" }
    );
    if !passed {
        bail!("the checker found broken guarantees");
    }
    Ok(())
}
