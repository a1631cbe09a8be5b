//! Builds the front-end bundles (`web/dist/app.{js,css}`, `web/dist/map.{js,css}`) so that a plain
//! `cargo build` is self-contained: the server embeds `web/dist` with rust-embed.
//!
//! npm runs only when the bundle is missing or older than its sources; `npm ci` runs only
//! when `web/node_modules` is missing or older than `web/package-lock.json`. Set
//! `BARNSTORM_SKIP_WEB_BUILD=1` to use an existing `web/dist` as it is (packagers, offline
//! builds). After deleting `web/dist` by hand, touch `web/package.json` so cargo reruns this.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

/// The bundle files the server serves under `/assets/`.
const OUTPUTS: [&str; 4] = ["dist/app.js", "dist/app.css", "dist/map.js", "dist/map.css"];

fn main() {
    if let Err(message) = build_web_assets() {
        eprintln!("\nerror: could not build the Barnstorm front end (web/):\n  {message}\n");
        std::process::exit(1);
    }
}

fn build_web_assets() -> Result<(), String> {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .ok_or("CARGO_MANIFEST_DIR is not set; run this through cargo")?;
    let web = PathBuf::from(manifest_dir).join("../../web");

    for watched in ["src", "package.json", "package-lock.json"] {
        println!("cargo:rerun-if-changed={}", web.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=BARNSTORM_SKIP_WEB_BUILD");

    let outputs: Vec<PathBuf> = OUTPUTS.iter().map(|output| web.join(output)).collect();
    let oldest_output = outputs.iter().map(|path| modified(path)).min().flatten();

    if std::env::var("BARNSTORM_SKIP_WEB_BUILD").is_ok_and(|value| value == "1")
        && oldest_output.is_some()
    {
        return Ok(());
    }

    let mut newest_source = newest_modified(&web.join("src"))?;
    for file in ["package.json", "package-lock.json"] {
        newest_source = newest_source.max(modified(&web.join(file)));
    }
    let up_to_date = match (oldest_output, newest_source) {
        (Some(output), Some(source)) => output >= source,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if up_to_date {
        return Ok(());
    }

    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    // npm writes node_modules/.package-lock.json on every install; it is older than the
    // lockfile when someone changed dependencies since the last install.
    let installed = modified(&web.join("node_modules/.package-lock.json"));
    if installed.is_none() || installed < modified(&web.join("package-lock.json")) {
        run(npm, &["ci", "--no-audit", "--no-fund"], &web)?;
    }
    run(npm, &["run", "build"], &web)?;

    for output in &outputs {
        if modified(output).is_none() {
            return Err(format!(
                "`npm run build` finished but {} is missing",
                output.display()
            ));
        }
    }
    Ok(())
}

/// Runs one npm command in `web/`, turning "npm is not installed" into an actionable message.
fn run(program: &str, args: &[&str], dir: &Path) -> Result<(), String> {
    let shown = format!("{program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        // npm's chatter goes to stderr: cargo reads build-script stdout as instructions.
        .stdout(Stdio::from(std::io::stderr()))
        .status()
        .map_err(|error| {
            if error.kind() == std::io::ErrorKind::NotFound {
                "npm was not found. Install Node.js 20+ and npm (https://nodejs.org/ or your \
                 package manager, e.g. `apt-get install nodejs npm`), then build again. \
                 To use an already built web/dist instead, set BARNSTORM_SKIP_WEB_BUILD=1."
                    .to_owned()
            } else {
                format!("could not start `{shown}`: {error}")
            }
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{shown}` in {} failed ({status}); its output is above",
            dir.display()
        ))
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok()
}

/// The newest modification time of any file below `dir` (None when it holds no files).
fn newest_modified(dir: &Path) -> Result<Option<SystemTime>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|error| format!("cannot read {}: {error}", dir.display()))?;
    let mut newest = None;
    for entry in entries {
        let path = entry
            .map_err(|error| format!("cannot read {}: {error}", dir.display()))?
            .path();
        let time = if path.is_dir() {
            newest_modified(&path)?
        } else {
            modified(&path)
        };
        newest = newest.max(time);
    }
    Ok(newest)
}
