//! `barnstorm import …`: loading contact lists into call campaigns, numbers onto the
//! TPS list and postcode locations (ONSPD / Code-Point Open) from files on disk, with a
//! one-line summary and rejected rows (fixable and importable again) and warnings written
//! next to the input. Contact lists go through `barnstorm_dispatch::import::ListUpload`,
//! the same entrance as the page and the API; this module must not check rows or write SQL.

use crate::DatabaseArgs;
use anyhow::{Context, bail};
use barnstorm_dispatch::CampaignEvents;
use barnstorm_dispatch::import::report::{Report, ReportPages};
use barnstorm_dispatch::import::{ImportFailure, ImportSummary, ListUpload};
use barnstorm_dispatch::national_lists::{NationalList, NationalListReport, import_national_list};
use barnstorm_domain::contact_import::{
    ColumnMapping, ColumnRole, ImportReader, parse_override, read_headers, write_rejected_rows,
};
use barnstorm_domain::geo::LatLon;
use barnstorm_store::geocode::{
    PostcodeFileError, PostcodeFileFormat, PostcodeFileReader, RowOutcome,
};
use barnstorm_store::phonebank::{Campaign, ImportJob};
use barnstorm_store::{Store, StoreOptions};
use std::fs::File;
use std::io::{BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Import commands.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum ImportCommand {
    /// Import a contact list (CSV, UTF-8 or Windows-1252) into a call campaign.
    #[command(
        after_help = "Roles: first_name, last_name, phone, other_phone, email, postcode, van_id, nationbuilder_id,\n\
                      action_network_id, external_id (another system's id, named by the header), extra, ignore.\n\
                      Columns not mapped are guessed from their headers; unrecognised ones are kept as extra fields.\n\n\
                      Examples:\n  barnstorm import contacts --campaign 3 list.csv\n  \
                      barnstorm import contacts --campaign 3 list.csv --map 'Mobile=phone' --map 'Date of birth=ignore'\n  \
                      barnstorm import contacts --campaign 3 list.csv --dry-run"
    )]
    Contacts(ContactsArgs),
    /// Add numbers to the TPS (Telephone Preference Service) list: one number per line, or a CSV
    /// whose first column is the number. Listed numbers are never handed to callers.
    #[command(after_help = "Example:\n  barnstorm import tps tps-2025-06.txt")]
    Tps(TpsArgs),
    /// Add numbers to the CTPS (Corporate Telephone Preference Service) list of business
    /// numbers, in the same formats as `import tps`. Listed numbers are never handed to callers.
    #[command(after_help = "Example:\n  barnstorm import ctps ctps-2025-06.csv")]
    Ctps(TpsArgs),
    /// Load full postcodes with their locations, for geocoding to postcode precision:
    /// the ONS Postcode Directory (ONSPD) CSV or OS Code-Point Open CSV files.
    #[command(
        after_help = "Formats are recognised from the first line: ONSPD has a header naming pcds, lat and long;\n\
                      Code-Point Open rows are postcode, quality, eastings, northings (a header is optional).\n\
                      Terminated postcodes and postcodes without coordinates are skipped; importing again updates.\n\n\
                      Examples:\n  barnstorm import postcodes ONSPD_FEB_2025_UK.csv\n  \
                      for f in codepo_gb/Data/CSV/*.csv; do barnstorm import postcodes \"$f\"; done"
    )]
    Postcodes(PostcodesArgs),
}

/// A contact list to import.
#[derive(clap::Args, Debug)]
pub(crate) struct ContactsArgs {
    /// The campaign's id (shown on its page and by the API).
    #[arg(long)]
    campaign: i64,
    /// The CSV file; its first row must name the columns.
    file: PathBuf,
    /// Map a column to a role, as HEADER=ROLE; repeat for more columns.
    #[arg(long = "map", value_name = "HEADER=ROLE")]
    map: Vec<String>,
    /// Where to write rejected rows [default: FILE.rejected.csv].
    #[arg(long, value_name = "PATH")]
    rejections: Option<PathBuf>,
    /// Read and check every row without writing to the database.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// A TPS file to load.
#[derive(clap::Args, Debug)]
pub(crate) struct TpsArgs {
    /// One number per line, or a CSV whose first column is the number. Its name is kept
    /// with each number, so organisers can see where a suppression came from.
    file: PathBuf,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// A postcode file to load.
#[derive(clap::Args, Debug)]
pub(crate) struct PostcodesArgs {
    /// An ONSPD or Code-Point Open CSV file.
    file: PathBuf,
    #[command(flatten)]
    database: DatabaseArgs,
}

pub(crate) async fn run(command: ImportCommand) -> anyhow::Result<()> {
    match command {
        ImportCommand::Contacts(args) => contacts(args).await,
        ImportCommand::Tps(args) => tps(args, NationalList::Tps).await,
        ImportCommand::Ctps(args) => tps(args, NationalList::Ctps).await,
        ImportCommand::Postcodes(args) => postcodes(args).await,
    }
}

fn open(path: &Path) -> anyhow::Result<File> {
    File::open(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Each `--map HEADER=ROLE`, read the way the page and the API read theirs.
fn overrides(raw: &[String]) -> anyhow::Result<Vec<(String, ColumnRole)>> {
    raw.iter()
        .map(|one| {
            parse_override(one).map_err(|e| {
                anyhow::anyhow!("--map {one:?}: {e}; for example --map 'Mobile=phone'")
            })
        })
        .collect()
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// `FILE` with `suffix` added: where the rejected rows and warnings are written.
fn beside(file: &Path, suffix: &str) -> PathBuf {
    let mut path = file.to_path_buf().into_os_string();
    path.push(suffix);
    PathBuf::from(path)
}

fn rejections_path(args: &ContactsArgs) -> PathBuf {
    args.rejections
        .clone()
        .unwrap_or_else(|| beside(&args.file, ".rejected.csv"))
}

/// Writes a report file with `write`, naming it in any error.
fn save(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    write(&mut out)
        .and_then(|()| out.flush())
        .with_context(|| format!("writing {}", path.display()))
}

/// The file as a list to import, checked against the mapping before anything is written.
fn check_file(args: &ContactsArgs, campaign: Campaign) -> anyhow::Result<ListUpload<File>> {
    let roles = overrides(&args.map)?;
    ListUpload::new(campaign, None, &file_name(&args.file), open(&args.file)?, &roles).map_err(
        |error| {
            let headers = open(&args.file)
                .ok()
                .and_then(|file| read_headers(file).ok())
                .unwrap_or_default();
            anyhow::anyhow!(
                "{}: {error}\nThe columns are: {}.\nMap one with --map 'HEADER=ROLE', for example --map '{}=phone'.",
                args.file.display(),
                headers.join(", "),
                headers.first().map_or("Phone", String::as_str)
            )
        },
    )
}

async fn contacts(args: ContactsArgs) -> anyhow::Result<()> {
    if args.dry_run {
        let headers =
            read_headers(open(&args.file)?).with_context(|| args.file.display().to_string())?;
        let mapping = ColumnMapping::guess_with(&headers, &overrides(&args.map)?);
        return dry_run(args, headers, mapping).await;
    }
    let store = args.database.open(&StoreOptions::default()).await?;
    let Some(campaign) = store.campaign(args.campaign).await? else {
        bail!(
            "--campaign {}: there is no campaign with that id",
            args.campaign
        );
    };
    let name = file_name(&args.file);
    let started = check_file(&args, campaign)?.start(&store).await?;
    let job_id = started.job().id;
    let show_progress = std::io::stderr().is_terminal();
    let result = started
        .run(&store, &CampaignEvents::default(), move |p| {
            if show_progress {
                eprint!("\rRead {} rows…", thousands(p.rows));
            }
        })
        .await;
    if show_progress {
        eprint!("\r\x1b[K");
    }
    match result {
        Ok(summary) => {
            let note = write_job_notes(&store, job_id, &args, &summary).await?;
            println!(
                "Imported {} contacts from {name}: {}{note}",
                thousands(summary.imported),
                skipped(&summary)
            );
            Ok(())
        }
        Err(ImportFailure::File(error)) => bail!("{}: {error}", args.file.display()),
        Err(ImportFailure::Interrupted { reason, summary }) => {
            let note = write_job_notes(&store, job_id, &args, &summary).await?;
            bail!(
                "the import of {name} stopped: {reason}\nKept {} contacts from earlier rows: {}{note}\nImporting the file again skips them as duplicates.",
                thousands(summary.imported),
                skipped(&summary)
            )
        }
        Err(error @ ImportFailure::Store(_)) => Err(error.into()),
    }
}

fn skipped(summary: &ImportSummary) -> String {
    format!(
        "{} merged duplicates, {} on do-not-call/TPS lists, {} warnings, {} rejected",
        thousands(summary.duplicates),
        thousands(summary.suppressed),
        thousands(summary.warnings_total),
        thousands(summary.rejected_total)
    )
}

/// Writes a job's `report` to `path`, naming the file in any error.
async fn save_report(
    store: &Store,
    job: &ImportJob,
    report: Report,
    path: &Path,
) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    ReportPages::new(store.clone(), job, report)
        .await?
        .write_to(&mut std::io::BufWriter::new(file))
        .await
        .with_context(|| format!("writing {}", path.display()))
}

/// Writes the job's rejected rows and its warnings and merges beside the file, when
/// there are any; returns the note to add to the summary.
async fn write_job_notes(
    store: &Store,
    job_id: i64,
    args: &ContactsArgs,
    summary: &ImportSummary,
) -> anyhow::Result<String> {
    let Some(job) = store.import_job(job_id).await? else {
        return Ok(String::new());
    };
    let mut written = Vec::new();
    if summary.rejected_total > 0 {
        let path = rejections_path(args);
        save_report(store, &job, Report::Rejections, &path).await?;
        written.push(path);
    }
    if summary.warnings_total + summary.duplicates > 0 {
        let path = beside(&args.file, ".warnings.csv");
        save_report(store, &job, Report::Warnings, &path).await?;
        written.push(path);
    }
    if written.is_empty() {
        return Ok(String::new());
    }
    let paths: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    Ok(format!(" — see {}", paths.join(" and ")))
}

/// Reads and checks every row, writing nothing to the database: the parse-and-normalise
/// floor of an import.
async fn dry_run(
    args: ContactsArgs,
    headers: Vec<String>,
    mapping: ColumnMapping,
) -> anyhow::Result<()> {
    let source = open(&args.file)?;
    let (valid, rejections) = tokio::task::spawn_blocking(move || {
        let mut valid = 0u64;
        let mut rejections = Vec::new();
        for row in ImportReader::new(source, mapping)? {
            match row {
                Ok(_) => valid += 1,
                Err(rejection) => rejections.push(rejection),
            }
        }
        Ok::<_, anyhow::Error>((valid, rejections))
    })
    .await
    .context("the file reader crashed")??;
    let mut note = String::new();
    if !rejections.is_empty() {
        let path = rejections_path(&args);
        save(&path, |out| write_rejected_rows(out, &headers, &rejections))?;
        note = format!(" — see {}", path.display());
    }
    println!(
        "Dry run, nothing written: {} valid rows in {}, {} rejected{note}",
        thousands(valid),
        file_name(&args.file),
        thousands(rejections.len() as u64)
    );
    Ok(())
}

/// Imports a TPS or CTPS file into the national list `list`.
async fn tps(args: TpsArgs, list: NationalList) -> anyhow::Result<()> {
    let reader = BufReader::new(open(&args.file)?);
    let source = file_name(&args.file);
    let store = args.database.open(&StoreOptions::default()).await?;
    let report = import_national_list(&store, reader, list, &source, None)
        .await
        .with_context(|| format!("reading {}", args.file.display()))?;
    println!("{}", national_list_summary(&report, list, &source));
    Ok(())
}

fn national_list_summary(report: &NationalListReport, list: NationalList, source: &str) -> String {
    let mut out = format!(
        "Added {} numbers from {source} to the {} list ({} already listed or repeated in the file; {} numbers on it in all)",
        thousands(report.added),
        list.as_str(),
        thousands(report.read - report.added),
        thousands(report.on_list)
    );
    if report.skipped > 0 {
        let lines: Vec<String> = report
            .skipped_lines
            .iter()
            .map(ToString::to_string)
            .collect();
        let more = if report.skipped > lines.len() as u64 {
            ", …"
        } else {
            ""
        };
        out.push_str(&format!(
            "; skipped {} lines that are not phone numbers (lines {}{more})",
            thousands(report.skipped),
            lines.join(", ")
        ));
    }
    out.push('.');
    out
}

/// Postcodes sent to the store at a time (one transaction each).
const POSTCODE_BATCH: usize = 5_000;
/// Rejected rows listed in the report.
const POSTCODE_REJECTIONS_SHOWN: usize = 10;

/// What a postcode file held besides the rows imported.
#[derive(Debug, Default, PartialEq)]
struct PostcodeTally {
    terminated: u64,
    no_location: u64,
    rejected: u64,
    /// The first rejected rows: "line N: reason".
    rejections: Vec<String>,
}

/// Reads the whole file on a blocking thread, sending batches of located postcodes;
/// stops early when the receiver is gone (the store failed).
fn read_postcodes<R: std::io::Read>(
    reader: PostcodeFileReader<R>,
    batches: &tokio::sync::mpsc::Sender<Vec<(String, LatLon)>>,
) -> Result<PostcodeTally, PostcodeFileError> {
    let mut tally = PostcodeTally::default();
    let mut batch = Vec::with_capacity(POSTCODE_BATCH);
    for row in reader {
        let (line, outcome) = row?;
        match outcome {
            RowOutcome::Located(row) => batch.push((row.postcode, row.location)),
            RowOutcome::Terminated => tally.terminated += 1,
            RowOutcome::NoLocation => tally.no_location += 1,
            RowOutcome::Rejected(reason) => {
                tally.rejected += 1;
                if tally.rejections.len() < POSTCODE_REJECTIONS_SHOWN {
                    tally.rejections.push(format!("line {line}: {reason}"));
                }
            }
        }
        if batch.len() >= POSTCODE_BATCH
            && batches.blocking_send(std::mem::take(&mut batch)).is_err()
        {
            return Ok(tally);
        }
    }
    if !batch.is_empty() {
        let _ = batches.blocking_send(batch);
    }
    Ok(tally)
}

async fn postcodes(args: PostcodesArgs) -> anyhow::Result<()> {
    let reader = PostcodeFileReader::new(BufReader::with_capacity(1 << 20, open(&args.file)?))
        .with_context(|| args.file.display().to_string())?;
    let format = match reader.format() {
        PostcodeFileFormat::Onspd => "ONS Postcode Directory",
        PostcodeFileFormat::CodePoint => "Code-Point Open",
    };
    let store = args.database.open(&StoreOptions::default()).await?;
    let (sender, mut batches) = tokio::sync::mpsc::channel(4);
    let reading = tokio::task::spawn_blocking(move || read_postcodes(reader, &sender));
    let show_progress = std::io::stderr().is_terminal();
    let mut imported = 0u64;
    while let Some(batch) = batches.recv().await {
        imported += store.upsert_postcodes(&batch).await?;
        if show_progress {
            eprint!("\rImported {} postcodes…", thousands(imported));
        }
    }
    if show_progress {
        eprint!("\r\x1b[K");
    }
    let tally = reading
        .await
        .context("the file reader crashed")?
        .with_context(|| {
            format!(
                "{} (the {} postcodes before the error were kept)",
                args.file.display(),
                thousands(imported)
            )
        })?;
    println!(
        "{}",
        postcode_summary(imported, &file_name(&args.file), format, &tally)
    );
    Ok(())
}

fn postcode_summary(imported: u64, file: &str, format: &str, tally: &PostcodeTally) -> String {
    let mut out = format!(
        "Imported {} postcodes from {file} ({format}); skipped {} terminated and {} without coordinates; rejected {} rows.",
        thousands(imported),
        thousands(tally.terminated),
        thousands(tally.no_location),
        thousands(tally.rejected)
    );
    for rejection in &tally.rejections {
        out.push_str("\n  ");
        out.push_str(rejection);
    }
    let unlisted = tally.rejected.saturating_sub(tally.rejections.len() as u64);
    if unlisted > 0 {
        out.push_str(&format!("\n  … and {} more", thousands(unlisted)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_written_with_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(9_812), "9,812");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn postcode_files_are_tallied_and_summarised() {
        let file = "\"pcd\",\"pcds\",\"doterm\",\"lat\",\"long\"\n\
                    \"SW1A1AA\",\"SW1A 1AA\",\"\",51.501009,-0.141588\n\
                    \"SW1A0PW\",\"SW1A 0PW\",\"200602\",51.4995,-0.1248\n\
                    \"ZE3 9JZ\",\"ZE3 9JZ\",\"\",99.999999,0.000000\n\
                    \"XX\",\"XX\",\"\",51.5,-0.1\n";
        let reader = PostcodeFileReader::new(file.as_bytes()).unwrap();
        let (sender, mut receiver) = tokio::sync::mpsc::channel(4);
        let tally = read_postcodes(reader, &sender).unwrap();
        drop(sender);
        let batch = receiver.blocking_recv().unwrap();
        assert_eq!(
            batch,
            [("SW1A 1AA".to_owned(), LatLon::new(51.501009, -0.141588))]
        );
        assert_eq!(
            tally,
            PostcodeTally {
                terminated: 1,
                no_location: 1,
                rejected: 1,
                rejections: vec!["line 5: 'XX' is not a postcode".into()],
            }
        );
        let summary = postcode_summary(1, "x.csv", "ONS Postcode Directory", &tally);
        assert_eq!(
            summary,
            "Imported 1 postcodes from x.csv (ONS Postcode Directory); skipped 1 terminated and 1 without coordinates; rejected 1 rows.\n  line 5: 'XX' is not a postcode"
        );
        let many = PostcodeTally {
            rejected: 12,
            rejections: vec!["line 2: bad".into()],
            ..PostcodeTally::default()
        };
        assert!(postcode_summary(0, "x.csv", "Code-Point Open", &many).ends_with("… and 11 more"));
    }
}
