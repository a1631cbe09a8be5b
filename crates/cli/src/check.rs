//! `barnstorm check`: runs the checker on a campaign after a load or fault run and exits
//! non-zero when any promise was broken.

use crate::DatabaseArgs;
use anyhow::{Context, bail};
use barnstorm_store::StoreOptions;
use std::path::PathBuf;

/// Options of `barnstorm check`.
#[derive(clap::Args, Debug)]
pub(crate) struct CheckArgs {
    /// The campaign to check.
    #[arg(long)]
    campaign: i64,
    /// A load generator JSON report whose acknowledged attempt ids must all be stored.
    #[arg(long)]
    acks: Option<PathBuf>,
    #[command(flatten)]
    database: DatabaseArgs,
}

pub(crate) async fn run(args: CheckArgs) -> anyhow::Result<()> {
    let acknowledged: Option<Vec<i64>> = match &args.acks {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let report: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", path.display()))?;
            let ids = report["acknowledged_attempts"]
                .as_array()
                .map(|ids| ids.iter().filter_map(serde_json::Value::as_i64).collect());
            Some(ids.unwrap_or_default())
        }
        None => None,
    };
    let store = args.database.open(&StoreOptions::default()).await?;
    let campaign = store
        .campaign(args.campaign)
        .await?
        .with_context(|| format!("there is no campaign {}", args.campaign))?;
    let report =
        barnstorm_dispatch::check_campaign(&store, &campaign, acknowledged.as_deref()).await?;
    print!("{report}");
    if !report.passed {
        bail!(
            "the checker found broken guarantees on campaign {}",
            args.campaign
        );
    }
    Ok(())
}
