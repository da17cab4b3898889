//! `turnstile check`: can this licence file be imported?

use std::path::PathBuf;
use std::process::ExitCode;

use turnstile::error::Line;
use turnstile::{Evaluator, Result, files, licenses};

use super::PolicyArgs;
use super::output::{Stdout, note};

/// Check a licence CSV file (rules C1-C4) before importing it (turnstile import does it, then writes).
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  turnstile check examples/licenses.csv
  turnstile check examples/licenses.csv --org examples/org.json --users examples/users.csv

The file starts with \"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\"; a licence
cell is `Assigned` or empty (a users listing may also say `Disabled` or `Unassigned`
and carry \"Last Sync\",\"Assigned At\",\"Temporary Since\",\"External\"): docs/csv.md.
Warnings (trailing blank lines, a byte order mark, CRLF line ends, a row with both
licences assigned) and errors are printed on standard error as FILE:LINE:COLUMN.
Without --org the purchased licence counts are not checked.

Exit status:
  0  the file can be imported (warnings may have been printed)
  1  it can't: every error is printed as FILE:LINE:COLUMN: message
  2  usage error: a bad flag, or FILE, --org or --users can't be read or used
  3  the policy component failed (a defect: please report it)
  4  a call reached a sandbox limit (--deadline, --max-memory)")]
pub struct Args {
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
    #[command(flatten)]
    policy: PolicyArgs,
}

pub fn check(args: Args) -> Result<ExitCode> {
    let evaluator = args.policy.evaluator()?;
    let org = match &args.org {
        Some(path) => Some(read_org(&evaluator, path, &[])?),
        None => None,
    };
    let org_ref = org.as_ref().map(|(settings, name)| (settings, name.as_str()));
    let check = licenses::check(&mut evaluator.instance()?, &args.file, org_ref, args.users.as_deref())?;
    for w in &check.warnings {
        note!("{}", Line(w));
    }
    let file = args.file.display();
    if check.importable() {
        let (standard, inspections) = check.assigned;
        let mut out = Stdout::new();
        out.line(&format!(
            "{file}: {} rows can be imported; afterwards {standard} standard and {inspections} inspections licences are assigned",
            check.rows
        ))?;
        out.flush()?;
        if org.is_none() {
            note!("{file}: note: without --org the purchased licence counts were not checked");
        }
        return Ok(ExitCode::SUCCESS);
    }
    for e in &check.errors {
        note!("{}", Line(e));
    }
    let errors = check.error_count();
    let noun = if errors == 1 { "error" } else { "errors" };
    note!("{file}: {errors} {noun}; nothing can be imported");
    Ok(ExitCode::from(1))
}

/// The organisation of an `--org` file, with `sets` applied, and its name.
pub fn read_org(evaluator: &Evaluator, path: &std::path::Path, sets: &[String]) -> Result<(turnstile::model::Settings, String)> {
    let name = path.display().to_string();
    let (text, _) = files::read_text(&name, files::MAX_TEXT)?;
    let settings = evaluator.instance()?.parse_org(&text, &name, sets)?;
    Ok((settings, name))
}
