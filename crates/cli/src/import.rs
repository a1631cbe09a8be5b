//! `barnstorm import …`: loading contact lists into call campaigns, numbers onto the
//! TPS list and postcode locations (ONSPD / Code-Point Open) from files on disk, with a one-line summary and rejected rows written next to
//! the input. The pipeline itself is `barnstorm_dispatch::import`; this module must not
//! check rows or write SQL.

use crate::DatabaseArgs;
use anyhow::{Context, bail};
use barnstorm_dispatch::import::{ImportFailure, ImportSummary, import_contacts};
use barnstorm_domain::contact_import::{
    ColumnMapping, ColumnRole, ImportReader, RowRejection, read_headers, write_rejections,
};
use barnstorm_domain::geo::LatLon;
use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_store::geocode::{
    PostcodeFileError, PostcodeFileFormat, PostcodeFileReader, RowOutcome,
};
use barnstorm_store::{Store, StoreOptions};
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Import commands.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum ImportCommand {
    /// Import a contact list (CSV, UTF-8 or Windows-1252) into a call campaign.
    #[command(
        after_help = "Roles: first_name, last_name, phone, other_phone, email, postcode, extra, ignore.\n\
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
        ImportCommand::Tps(args) => tps(args, "TPS").await,
        ImportCommand::Ctps(args) => tps(args, "CTPS").await,
        ImportCommand::Postcodes(args) => postcodes(args).await,
    }
}

fn open(path: &Path) -> anyhow::Result<File> {
    File::open(path).with_context(|| format!("cannot read {}", path.display()))
}

fn parse_role(raw: &str) -> Option<ColumnRole> {
    Some(
        match raw
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "first_name" => ColumnRole::FirstName,
            "last_name" => ColumnRole::LastName,
            "phone" => ColumnRole::Phone,
            "other_phone" => ColumnRole::OtherPhone,
            "email" => ColumnRole::Email,
            "postcode" => ColumnRole::Postcode,
            "extra" => ColumnRole::Extra,
            "ignore" => ColumnRole::Ignore,
            _ => return None,
        },
    )
}

/// The guessed mapping with each `--map HEADER=ROLE` laid over it. A role given
/// explicitly is taken away from the column it was guessed for.
fn mapping(headers: &[String], overrides: &[String]) -> anyhow::Result<ColumnMapping> {
    let mut mapping = ColumnMapping::guess(headers);
    for raw in overrides {
        let Some((header, role)) = raw.rsplit_once('=') else {
            bail!("--map {raw:?}: write HEADER=ROLE, for example --map 'Mobile=phone'");
        };
        let Some(role) = parse_role(role) else {
            bail!(
                "--map {raw:?}: unknown role {role:?}; use first_name, last_name, phone, other_phone, email, postcode, extra or ignore"
            );
        };
        if !matches!(role, ColumnRole::Extra | ColumnRole::Ignore)
            && let Some(guessed) = mapping.header_for(role).map(str::to_owned)
        {
            mapping = mapping.with(&guessed, ColumnRole::Extra);
        }
        mapping = mapping.with(header, role);
    }
    Ok(mapping)
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

fn rejections_path(args: &ContactsArgs) -> PathBuf {
    args.rejections.clone().unwrap_or_else(|| {
        let mut path = args.file.clone().into_os_string();
        path.push(".rejected.csv");
        PathBuf::from(path)
    })
}

fn save_rejections(path: &Path, rejections: &[RowRejection]) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    write_rejections(&mut out, rejections)
        .and_then(|()| out.flush())
        .with_context(|| format!("writing {}", path.display()))
}

/// Checks the file's header row against the mapping before anything is written.
fn check_file(args: &ContactsArgs) -> anyhow::Result<ColumnMapping> {
    let headers =
        read_headers(open(&args.file)?).with_context(|| args.file.display().to_string())?;
    let mapping = mapping(&headers, &args.map)?;
    if let Err(error) = ImportReader::new(open(&args.file)?, mapping.clone()) {
        bail!(
            "{}: {error}\nThe columns are: {}.\nMap one with --map 'HEADER=ROLE', for example --map '{}=phone'.",
            args.file.display(),
            headers.join(", "),
            headers.first().map_or("Phone", String::as_str)
        );
    }
    Ok(mapping)
}

async fn contacts(args: ContactsArgs) -> anyhow::Result<()> {
    let mapping = check_file(&args)?;
    if args.dry_run {
        return dry_run(args, mapping).await;
    }
    let store = args.database.open(&StoreOptions::default()).await?;
    let Some(campaign) = store.campaign(args.campaign).await? else {
        bail!(
            "--campaign {}: there is no campaign with that id",
            args.campaign
        );
    };
    let name = file_name(&args.file);
    let job = store.create_import_job(campaign.id, None, &name).await?;
    let source = open(&args.file)?;
    let show_progress = std::io::stderr().is_terminal();
    let result = import_contacts(&store, &campaign, job.id, source, mapping, move |p| {
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
            let note = write_job_rejections(&store, job.id, &args, summary.rejected_total).await?;
            println!(
                "Imported {} contacts from {name}: {}{note}",
                thousands(summary.imported),
                skipped(&summary)
            );
            Ok(())
        }
        Err(ImportFailure::File(error)) => bail!("{}: {error}", args.file.display()),
        Err(ImportFailure::Interrupted { reason, summary }) => {
            let note = write_job_rejections(&store, job.id, &args, summary.rejected_total).await?;
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
        "{} duplicates, {} on do-not-call/TPS lists, {} rejected",
        thousands(summary.duplicates),
        thousands(summary.suppressed),
        thousands(summary.rejected_total)
    )
}

/// Writes the job's rejected rows to the rejections file, if any; returns the note to
/// add to the summary.
async fn write_job_rejections(
    store: &Store,
    job_id: i64,
    args: &ContactsArgs,
    total: u64,
) -> anyhow::Result<String> {
    if total == 0 {
        return Ok(String::new());
    }
    let path = rejections_path(args);
    save_rejections(&path, &store.import_rejections(job_id).await?)?;
    Ok(format!(" — see {}", path.display()))
}

/// Reads and checks every row, writing nothing to the database: the parse-and-normalise
/// floor of an import.
async fn dry_run(args: ContactsArgs, mapping: ColumnMapping) -> anyhow::Result<()> {
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
        save_rejections(&path, &rejections)?;
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

/// Numbers sent to the store at a time.
const TPS_BATCH: usize = 5_000;
/// Skipped line numbers listed in the report.
const TPS_SKIPS_SHOWN: usize = 10;

/// Imports a TPS or CTPS file into the national list `list`.
async fn tps(args: TpsArgs, list: &str) -> anyhow::Result<()> {
    let mut reader = BufReader::new(open(&args.file)?);
    let source = file_name(&args.file);
    let store = args.database.open(&StoreOptions::default()).await?;
    let (mut read, mut added) = (0u64, 0u64);
    let mut skipped = Vec::new();
    let mut skipped_total = 0u64;
    let mut batch = Vec::with_capacity(TPS_BATCH);
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .with_context(|| format!("reading {}", args.file.display()))?;
        if n == 0 {
            break;
        }
        number += 1;
        let text = String::from_utf8_lossy(&line);
        let first = text
            .split(',')
            .next()
            .unwrap_or_default()
            .trim()
            .trim_matches('"');
        let first = first.trim_start_matches('\u{feff}');
        if first.is_empty() {
            continue;
        }
        match normalise_phone(first, Region::GB) {
            Ok(phone) => {
                read += 1;
                batch.push(phone.as_str().to_owned());
            }
            Err(_) => {
                skipped_total += 1;
                if skipped.len() < TPS_SKIPS_SHOWN {
                    skipped.push(number.to_string());
                }
            }
        }
        if batch.len() >= TPS_BATCH {
            added += store.import_tps_numbers(&batch, list, &source).await?;
            batch.clear();
        }
    }
    added += store.import_tps_numbers(&batch, list, &source).await?;
    let on_list = store
        .tps_lists()
        .await?
        .into_iter()
        .find(|summary| summary.list == list)
        .map_or(0, |summary| summary.numbers);
    print!(
        "Added {} numbers from {source} to the {list} list ({} already listed or repeated in the file; {} numbers on it in all)",
        thousands(added),
        thousands(read - added),
        thousands(u64::try_from(on_list).unwrap_or(0))
    );
    if skipped_total > 0 {
        let more = if skipped_total > skipped.len() as u64 {
            ", …"
        } else {
            ""
        };
        print!(
            "; skipped {} lines that are not phone numbers (lines {}{more})",
            thousands(skipped_total),
            skipped.join(", ")
        );
    }
    println!(".");
    Ok(())
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
    fn explicit_roles_override_the_guess() {
        let headers: Vec<String> = ["Name", "Telephone", "Mobile", "DOB"]
            .into_iter()
            .map(String::from)
            .collect();
        let guessed = mapping(&headers, &[]).unwrap();
        assert_eq!(guessed.role_of("Mobile"), ColumnRole::Phone);
        let mapped = mapping(&headers, &["Telephone=phone".into(), "DOB=ignore".into()]).unwrap();
        assert_eq!(mapped.role_of("Telephone"), ColumnRole::Phone);
        assert_eq!(mapped.role_of("Mobile"), ColumnRole::Extra);
        assert_eq!(mapped.role_of("DOB"), ColumnRole::Ignore);
        assert!(mapping(&headers, &["DOB=birthday".into()]).is_err());
        assert!(mapping(&headers, &["DOB".into()]).is_err());
    }

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
