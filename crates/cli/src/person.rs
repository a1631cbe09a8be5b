//! `barnstorm person …`: answering a person's subject-access and erasure requests from the
//! command line. The lookup, erasure and export format live in the store and web crates;
//! this file parses flags, prints candidates and writes the file.

use crate::DatabaseArgs;
use anyhow::{Context, bail};
use barnstorm_store::subject::{Erasure, PersonCandidate, PersonLookup, PersonQuery};
use barnstorm_store::{StoreOptions, now_millis};
use std::path::PathBuf;

/// Subject-access and erasure commands.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum PersonCommand {
    /// Write everything held about one person to a ZIP (JSON, CSVs and a README).
    #[command(
        after_help = "Example:\n  barnstorm person export --email sam@example.org --phone '020 7946 0123' --out sam.zip"
    )]
    Export(ExportArgs),
    /// Erase one person everywhere, in one transaction. Nothing changes without --yes.
    #[command(
        after_help = "Example:\n  barnstorm person erase --email sam@example.org --phone '020 7946 0123' --yes"
    )]
    Erase(EraseArgs),
}

/// Who the request is about.
#[derive(clap::Args, Debug)]
pub(crate) struct WhoArgs {
    /// Their email address.
    #[arg(long)]
    email: Option<String>,
    /// Their phone number, in any spelling (`020 7946 0123`, `+44 20 7946 0123`).
    #[arg(long)]
    phone: Option<String>,
    /// Their full name; with --postcode, or to pick one of several people.
    #[arg(long)]
    name: Option<String>,
    /// Their postcode, with --name.
    #[arg(long)]
    postcode: Option<String>,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// The export to write.
#[derive(clap::Args, Debug)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    who: WhoArgs,
    /// The ZIP file to write.
    #[arg(long)]
    out: PathBuf,
}

/// The erasure to make.
#[derive(clap::Args, Debug)]
pub(crate) struct EraseArgs {
    #[command(flatten)]
    who: WhoArgs,
    /// Confirm the erasure; without it, only say what would be erased.
    #[arg(long)]
    yes: bool,
}

impl WhoArgs {
    fn query(&self) -> anyhow::Result<PersonQuery> {
        PersonQuery::parse(
            self.email.as_deref(),
            self.phone.as_deref(),
            self.name.as_deref(),
            self.postcode.as_deref(),
        )
        .map_err(|e| anyhow::anyhow!("--{}: {}", e.field, e.message))
    }
}

fn several(people: &[PersonCandidate]) -> anyhow::Error {
    let mut text =
        String::from("several people match; add --name and --postcode of the one meant:");
    for p in people {
        text.push_str(&format!(
            "\n  {} | {} | {} | found in: {}",
            p.name,
            p.email.as_deref().unwrap_or("-"),
            p.phone.as_deref().unwrap_or("-"),
            p.found_in.join(", ")
        ));
    }
    anyhow::anyhow!(text)
}

pub(crate) async fn run(command: PersonCommand) -> anyhow::Result<()> {
    match command {
        PersonCommand::Export(args) => export(args).await,
        PersonCommand::Erase(args) => erase(args).await,
    }
}

async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let query = args.who.query()?;
    let store = args.who.database.open(&StoreOptions::default()).await?;
    let records = match store.find_person(&query).await? {
        PersonLookup::Nobody => bail!("nobody matches: nothing is stored under what was given"),
        PersonLookup::Several(people) => return Err(several(&people)),
        PersonLookup::Found(records) => records,
    };
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("--out: cannot create {}", args.out.display()))?;
    barnstorm_web::subject_access::write_person_export(
        &records,
        now_millis(),
        std::io::BufWriter::new(file),
    )
    .with_context(|| format!("writing {}", args.out.display()))?;
    store.audit_person_export(None, &records).await?;
    println!(
        "Wrote {} records from {} tables to {}.",
        records.row_count(),
        records.tables.len(),
        args.out.display()
    );
    Ok(())
}

async fn erase(args: EraseArgs) -> anyhow::Result<()> {
    let query = args.who.query()?;
    let store = args.who.database.open(&StoreOptions::default()).await?;
    if !args.yes {
        return match store.find_person(&query).await? {
            PersonLookup::Nobody => bail!("nobody matches: nothing is stored under what was given"),
            PersonLookup::Several(people) => Err(several(&people)),
            PersonLookup::Found(records) => bail!(
                "this would erase {} records from {} tables; nothing was changed: run again with --yes to erase",
                records.row_count(),
                records.tables.len()
            ),
        };
    }
    match store.erase_person(&query, None).await? {
        Erasure::Nobody => bail!("nobody matches: nothing is stored under what was given"),
        Erasure::Several(people) => Err(several(&people)),
        Erasure::Erased(report) => {
            println!(
                "Erased: {} rows deleted, {} anonymised; their number and address stay suppressed.",
                report.deleted, report.anonymised
            );
            Ok(())
        }
    }
}
