//! `turnstile what-if`: what a settings change would do to every user.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::ValueEnum;
use turnstile::error::Line;
use turnstile::whatif::{self, Question};
use turnstile::{Error, Result, files};
use turnstile_policy::calendar::parse_rfc3339;

use super::PolicyArgs;
use super::check::read_org;
use super::output::{Stdout, note};
use super::progress::Display;

/// Ask what a settings change would do to every user of a users listing.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  turnstile what-if --users examples/users.csv --org examples/org.json \\
      --set auto_assign=true --at 2026-11-22T10:00:00Z
  turnstile what-if --users users.csv --org org.json --set licenses.standard=50 --format json
  turnstile what-if --users users.csv --org org.json --set inactive_days=60 --out-users after.csv
  turnstile what-if --users users.csv --org org.json --set licenses.standard=40 --explain

Every user syncs once at --at, in the file's row order, twice: under the
organisation as given (before) and with the --set changes (after), each side with
its own state, so auto-assignment and auto-free play out as they would. Both sides
run at the same time. Every decision comes from the policy. Output: `table` (a
summary and the users whose outcome changes), `json` (one line per changed user,
then a summary line) or `csv` (the changed users). Progress is shown on standard
error when it is a terminal.

Exit status:
  0  answered
  2  an input can't be used (errors name FILE:LINE:COLUMN, or the --set), a bad
     flag, or an output can't be written
  3  the policy component failed (a defect: please report it)
  4  a call reached a sandbox limit (--deadline, --max-memory)")]
pub struct Args {
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
    /// importing it gives the same licences back); written whole or not at all.
    #[arg(long, value_name = "FILE")]
    out_users: Option<PathBuf>,
    /// For each user whose outcome gets worse (allowed before, denied
    /// after), the cheapest remedy the policy offers and has checked, asked
    /// of the after side once every user has synced (table: a line under
    /// the user; json: `remedy`; csv: "Cheapest Remedy").
    #[arg(long)]
    explain: bool,
    /// Print the wall time of each phase on standard error (benchmarks).
    #[arg(long, hide = true)]
    timings: bool,
    #[command(flatten)]
    policy: PolicyArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Table,
    Json,
    Csv,
}

pub fn what_if(args: Args) -> Result<ExitCode> {
    let evaluator = args.policy.evaluator()?;
    let (before, org_source) = match &args.org {
        Some(path) => read_org(&evaluator, path, &[])?,
        None => (evaluator.instance()?.parse_org("{}", turnstile::DEFAULT_ORG, &[])?, turnstile::DEFAULT_ORG.to_string()),
    };
    let after = match &args.org {
        Some(path) => read_org(&evaluator, path, &args.set)?.0,
        None => evaluator.instance()?.parse_org("{}", turnstile::DEFAULT_ORG, &args.set)?,
    };
    let at = match &args.at {
        Some(text) => parse_rfc3339(text).map_err(|e| Error::input("--at", e))?,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| Error::input("the system clock", e))?
            .as_secs() as i64,
    };
    let question = Question {
        users: &args.users,
        source: args.users.display().to_string(),
        org_source,
        before,
        after,
        changes: args.set.clone(),
        at,
    };
    let display = Display::new();
    let answer = whatif::evaluate(&evaluator, question, &|p| display.show(p));
    display.clear();
    let mut answer = answer?;
    if args.explain {
        answer.explain_worse()?;
    }
    for w in &answer.warnings {
        note!("{}", Line(w));
    }
    if let Some(path) = &args.out_users {
        files::write_atomically(path, |w| answer.write_after_listing(w))?;
    }
    let writing = std::time::Instant::now();
    let mut out = Stdout::new();
    match args.format {
        Format::Table => answer.write_table(out.writer())?,
        Format::Json => answer.write_json(out.writer())?,
        Format::Csv => answer.write_csv(out.writer())?,
    }
    out.flush()?;
    if args.timings {
        for (phase, t) in &answer.timings {
            note!("timing: {phase} {:.3} s", t.as_secs_f64());
        }
        note!("timing: writing the report {:.3} s", writing.elapsed().as_secs_f64());
    }
    Ok(ExitCode::SUCCESS)
}
