//! The `turnstile` command line. Each subcommand's flags are documented
//! where they are defined; `turnstile help <command>` prints them.

use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use turnstile::{Error, Evaluator, Policy, Result, roster, scenario, whatif};
use turnstile_policy::calendar::parse_rfc3339;
use turnstile_policy::model::{LicenseType, Settings};

const EXIT_CODES: &str = "\
Exit status:
  0  done (denials are decisions, not failures)
  1  `check`: the licence file can't be imported (every error printed)
  2  the input can't be used: a scenario, a file, a flag or a policy component,
     with a message naming the place (FILE:LINE:COLUMN and a JSON path)
  3  the policy component failed while deciding (a defect: please report it)";

#[derive(Parser)]
#[command(name = "turnstile", version, about = "Licensing, seat and feature-policy decisions from one WebAssembly component.")]
#[command(after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Feed a scenario's events to the policy and print one JSON decision per event.
    #[command(after_help = concat!(
        "Examples:\n",
        "  turnstile run examples/licensing.json\n",
        "  cat scenario.json | turnstile run -\n",
        "  turnstile run --policy turnstile.wasm examples/licensing.json\n\n",
        "Effects of each decision are applied before the next event. The scenario\n",
        "format is described in the README (\"Scenario files\").\n\n",
        "Exit status:\n",
        "  0  every event decided (denials included)\n",
        "  2  the scenario or the policy file can't be used; nothing is printed\n",
        "  3  the policy component failed while deciding; nothing is printed",
    ))]
    Run {
        /// The scenario file, or `-` for standard input.
        file: String,
        /// Load this policy component instead of the embedded one.
        #[arg(long, value_name = "FILE", conflicts_with = "native")]
        policy: Option<PathBuf>,
        /// Decide with the rules linked natively into this binary instead of
        /// the component (same rules; for comparison and debugging).
        #[arg(long)]
        native: bool,
    },
    /// Check a licence CSV file (rules C1-C4) before importing it.
    #[command(after_help = concat!(
        "Examples:\n",
        "  turnstile check examples/licenses.csv\n",
        "  turnstile check examples/licenses.csv --org examples/org.json --users examples/users.csv\n\n",
        "The file starts with \"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\"; a licence\n",
        "cell is `Assigned` or empty (a users listing may also say `Disabled` or `Unassigned`\n",
        "and carry \"Last Sync\",\"Assigned At\",\"Temporary Since\",\"External\").\n",
        "Warnings (trailing blank lines, a byte order mark, CRLF line ends, a row with both\n",
        "licences assigned) and errors are printed on standard error as FILE:LINE:COLUMN.\n",
        "Without --org the purchased licence counts are not checked.\n\n",
        "Exit status:\n",
        "  0  the file can be imported (warnings may have been printed)\n",
        "  1  it can't: every error is printed as FILE:LINE:COLUMN: message\n",
        "  2  usage error: a bad flag, or FILE, --org or --users can't be read or used\n",
        "  3  the policy component failed (a defect: please report it)",
    ))]
    Check {
        /// The licence import file (or a users listing) to check.
        file: PathBuf,
        /// The organisation (the `org` object of a scenario, JSON): enables the
        /// "more assigned than purchased" check against its `licenses`.
        #[arg(long, value_name = "ORG.json")]
        org: Option<PathBuf>,
        /// The users listing the file would be imported onto: every Id must be
        /// in it, and the purchased counts are checked on the imported result.
        #[arg(long, value_name = "USERS.csv")]
        users: Option<PathBuf>,
        /// Load this policy component instead of the embedded one.
        #[arg(long, value_name = "FILE", conflicts_with = "native")]
        policy: Option<PathBuf>,
        /// Check with the natively linked rules instead of the component.
        #[arg(long)]
        native: bool,
    },
    /// Ask what a settings change would do to every user of a users listing.
    #[command(name = "what-if", after_help = concat!(
        "Examples:\n",
        "  turnstile what-if --users examples/users.csv --org examples/org.json \\\n",
        "      --set auto_assign=true --at 2026-11-22T10:00:00Z\n",
        "  turnstile what-if --users users.csv --org org.json --set licenses.standard=50 --format json\n",
        "  turnstile what-if --users users.csv --org org.json --set inactive_days=60 --out-users after.csv\n\n",
        "Every user syncs once at --at, in the file's row order, twice: under the\n",
        "organisation as given (before) and with the --set changes (after), each side with\n",
        "its own state, so auto-assignment and auto-free play out as they would. Every\n",
        "decision comes from the policy component. Output: `table` (a summary and the users\n",
        "whose outcome changes), `json` (one line per changed user, then a summary line) or\n",
        "`csv` (the changed users). A progress bar is drawn on standard error for long runs\n",
        "when it is a terminal.\n\n",
        "Exit status:\n",
        "  0  answered\n",
        "  2  an input can't be used (errors name FILE:LINE:COLUMN, or the --set), or a bad flag\n",
        "  3  the policy component failed (a defect: please report it)",
    ))]
    WhatIf {
        /// The users listing: the five licence columns, optionally "Last Sync",
        /// "Assigned At", "Temporary Since" and "External".
        #[arg(long, value_name = "USERS.csv")]
        users: PathBuf,
        /// The organisation (the `org` object of a scenario, JSON); absent
        /// fields take the defaults of rules.md, and so does everything without --org.
        #[arg(long, value_name = "ORG.json")]
        org: Option<PathBuf>,
        /// Change one organisation field by its dotted path for the "after"
        /// side, e.g. auto_assign=true, licenses.standard=50, inactive_days=60.
        /// Repeatable; applied in order.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// The instant every user syncs at (RFC 3339); default: now.
        #[arg(long, value_name = "INSTANT")]
        at: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Write the after-state as a users listing (accepted by `check`, and
        /// importing it gives the same licences back).
        #[arg(long, value_name = "FILE")]
        out_users: Option<PathBuf>,
        /// Load this policy component instead of the embedded one.
        #[arg(long, value_name = "FILE", conflicts_with = "native")]
        policy: Option<PathBuf>,
        /// Decide with the natively linked rules instead of the component
        /// (same rules; for comparison).
        #[arg(long)]
        native: bool,
        /// Print the wall time of each phase on standard error (benchmarks).
        #[arg(long, hide = true)]
        timings: bool,
    },
    /// Write the embedded policy component, for other hosts (Python, JavaScript, ...).
    #[command(after_help = "Example:\n  turnstile component --out turnstile.wasm\n  python3 -c \"import wasmtime\"  # then load turnstile.wasm")]
    Component {
        /// Where to write the component (`-` for standard output).
        #[arg(long, value_name = "FILE")]
        out: String,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Table,
    Json,
    Csv,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { file, policy, native } => run(&file, policy, native),
        Command::Component { out } => component(&out),
        Command::Check { file, org, users, policy, native } => match check(&file, org, users, policy, native) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
        Command::WhatIf { users, org, set, at, format, out_users, policy, native, timings } => {
            what_if(WhatIfArgs { users, org, set, at, format, out_users, policy, native, timings })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("turnstile: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn run(file: &str, policy: Option<PathBuf>, native: bool) -> Result<()> {
    let (text, source) = read_input(file)?;
    let scenario = scenario::parse(&text, &source)?;
    let evaluator = evaluator(policy, native)?;
    // Decide everything before printing: an error prints no decisions.
    let lines = turnstile::run(&evaluator, &scenario)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    for line in lines {
        if writeln!(out, "{line}").is_err() {
            return Ok(()); // the reader went away (e.g. `| head`)
        }
    }
    let _ = out.flush();
    Ok(())
}

fn evaluator(policy: Option<PathBuf>, native: bool) -> Result<Evaluator> {
    Ok(if native {
        Evaluator::Native
    } else {
        Evaluator::Component(match policy {
            Some(path) => Policy::from_file(&path)?,
            None => Policy::embedded()?,
        })
    })
}

/// The organisation of `--org` (text and settings), or the defaults.
fn read_org(org: Option<&PathBuf>) -> Result<(String, String, Settings)> {
    match org {
        Some(path) => {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| Error::input(&name, e))?;
            let settings = scenario::parse_org(&text, &name)?;
            Ok((text, name, settings))
        }
        None => Ok(("{}".into(), turnstile::DEFAULT_ORG.into(), Settings::default())),
    }
}

/// Reads a licence file; its warnings are printed at once.
fn read_roster(path: &PathBuf) -> Result<roster::Read> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::input(&name, e))?;
    let read = roster::read(&bytes, &name);
    for w in &read.warnings {
        eprintln!("{w}");
    }
    Ok(read)
}

/// Reads a users listing that must be free of errors to be used at all.
fn read_listing(path: &PathBuf, what: &str) -> Result<roster::Read> {
    let read = read_roster(path)?;
    if !read.ok() {
        let lines: Vec<String> = read.errors.iter().map(ToString::to_string).collect();
        return Err(Error::input(path.display(), format!("{what} can't be used:\n{}", lines.join("\n"))));
    }
    Ok(read)
}

/// `turnstile check`: `Ok(true)` when the file can be imported.
fn check(file: &PathBuf, org: Option<PathBuf>, users: Option<PathBuf>, policy: Option<PathBuf>, native: bool) -> Result<bool> {
    let evaluator = evaluator(policy, native)?;
    let settings = match &org {
        Some(_) => Some(read_org(org.as_ref())?),
        None => None,
    };
    let listing = match &users {
        Some(path) => Some(read_listing(path, "the --users listing")?.roster),
        None => None,
    };
    let read = read_roster(file)?;
    let mut errors = read.errors;
    if let Some(listing) = &listing {
        errors.extend(roster::unknown_ids(&read.roster, listing));
        errors.sort_by_key(|d| (d.line, d.column));
    }
    if errors.is_empty() {
        let org = settings.as_ref().map(|(_, name, s)| (s, name.as_str()));
        match roster::import(&evaluator, org, listing.as_ref(), &read.roster)? {
            Ok(population) => {
                let held = |l| population.users.iter().filter(|u| u.held_license() == Some(l)).count();
                println!(
                    "{}: {} rows can be imported; afterwards {} standard and {} inspections licences are assigned",
                    file.display(),
                    read.roster.rows.len(),
                    held(LicenseType::Standard),
                    held(LicenseType::Inspections),
                );
                if settings.is_none() {
                    eprintln!("{}: note: without --org the purchased licence counts were not checked", file.display());
                }
                return Ok(true);
            }
            Err(located) => errors = located,
        }
    }
    for e in &errors {
        eprintln!("{e}");
    }
    let noun = if errors.len() == 1 { "error" } else { "errors" };
    eprintln!("{}: {} {noun}; nothing can be imported", file.display(), errors.len());
    Ok(false)
}

struct WhatIfArgs {
    users: PathBuf,
    org: Option<PathBuf>,
    set: Vec<String>,
    at: Option<String>,
    format: Format,
    out_users: Option<PathBuf>,
    policy: Option<PathBuf>,
    native: bool,
    timings: bool,
}

fn what_if(a: WhatIfArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let evaluator = evaluator(a.policy, a.native)?;
    let (org_text, org_source, before) = read_org(a.org.as_ref())?;
    let mut org_value: serde_json::Value = serde_json::from_str(&org_text).map_err(|e| Error::input(&org_source, e))?;
    for spec in &a.set {
        whatif::apply_set(&mut org_value, spec)?;
    }
    let after = scenario::parse_org(&org_value.to_string(), "--set")?;
    let at = match &a.at {
        Some(text) => parse_rfc3339(text).map_err(|e| Error::input("--at", e))?,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| Error::input("the system clock", e))?
            .as_secs() as i64,
    };
    let progress = if io::stderr().is_terminal() {
        ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template("{msg:>14} [{bar:40}] {pos}/{len} ({eta} left)") {
        progress.set_style(style.progress_chars("=> "));
    }
    let source = a.users.display().to_string();
    let read = read_listing(&a.users, "the users listing")?;
    let read_time = started.elapsed();
    let rows = read.roster.rows;
    let mut users = Vec::with_capacity(rows.len());
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        lines.push(row.line);
        users.push(row.user);
    }
    let question = whatif::Question { source, users, lines, org_source, before, after, changes: a.set, at };
    let answer = whatif::evaluate(&evaluator, question, a.out_users.is_some(), &progress)?;
    if let (Some(path), Some(after_users)) = (&a.out_users, &answer.after_users) {
        // Written beside and renamed into place: never a half-written listing.
        let mut partial = path.clone().into_os_string();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let written = std::fs::File::create(&partial).and_then(|file| {
            let mut w = io::BufWriter::new(file);
            roster::write_listing(&mut w, after_users)?;
            w.flush()?;
            std::fs::rename(&partial, path)
        });
        if let Err(e) = written {
            let _ = std::fs::remove_file(&partial);
            return Err(Error::input(path.display(), e));
        }
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    let written = match a.format {
        Format::Table => whatif::write_table(&mut out, &answer),
        Format::Json => whatif::write_json(&mut out, &answer),
        Format::Csv => whatif::write_csv(&mut out, &answer),
    };
    // A reader that went away (e.g. `| head`) is not an error.
    let _ = written.and_then(|()| out.flush());
    if a.timings {
        eprintln!("timing: read {:.3} s", read_time.as_secs_f64());
        for (phase, t) in &answer.timings {
            eprintln!("timing: {phase} {:.3} s", t.as_secs_f64());
        }
        eprintln!("timing: total {:.3} s", started.elapsed().as_secs_f64());
    }
    Ok(())
}

fn component(out: &str) -> Result<()> {
    let bytes = turnstile::policy::EMBEDDED_COMPONENT;
    if out == "-" {
        io::stdout().write_all(bytes).map_err(|e| Error::input("standard output", e))
    } else {
        std::fs::write(out, bytes).map_err(|e| Error::input(out, e))
    }
}

/// The text of `file`, or of standard input for `-`, and its name for errors.
fn read_input(file: &str) -> Result<(String, String)> {
    if file == "-" {
        let mut text = String::new();
        io::stdin().read_to_string(&mut text).map_err(|e| Error::input("<stdin>", e))?;
        Ok((text, "<stdin>".into()))
    } else {
        let text = std::fs::read_to_string(file).map_err(|e| Error::input(file, e))?;
        Ok((text, file.into()))
    }
}
