//! `turnstile import`: a licence file imported onto a users listing, which
//! is written after it (rule C5).

use std::path::PathBuf;
use std::process::ExitCode;

use turnstile::error::Line;
use turnstile::{Result, files, licenses};

use super::PolicyArgs;
use super::check::read_org;
use super::output::{Stdout, note};

/// Import a licence file onto a users listing and write the listing after it (rules C1-C5).
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  turnstile import licenses.csv --users examples/users.csv --org examples/org.json
  turnstile import licenses.csv --users users.csv --org org.json --out users-after.csv

Every check of `turnstile check` runs first (rules C1-C3, the purchased counts with
--org, every Id in the listing). On any error nothing is written: USERS.csv is left
byte for byte as it was. Otherwise the listing after the import is written whole
(to a new file beside it, then renamed into place): USERS.csv itself, or --out.
Only the users the file names change; per cell `Assigned` is green, `Unassigned`
grey, `Disabled` red, and an empty cell takes a licence away (green becomes grey)
but leaves a red selector red. Warnings and errors are printed on standard error as
FILE:LINE:COLUMN. Without --org the purchased licence counts are not checked.

Exit status:
  0  imported and written (warnings may have been printed)
  1  FILE can't be imported: every error is printed as FILE:LINE:COLUMN: message,
     nothing is written
  2  usage error: a bad flag, FILE, --org or --users can't be read or used, or the
     output can't be written (nothing is written)
  3  the policy component failed (a defect: please report it)
  4  a call reached a sandbox limit (--deadline, --max-memory)")]
pub struct Args {
    /// The licence import file (or a users listing) to import.
    file: PathBuf,
    /// The users listing to import onto; written after the import unless
    /// --out names another file.
    #[arg(long, value_name = "USERS.csv")]
    users: PathBuf,
    /// The organisation (the `org` object of a scenario, JSON): enables the
    /// "more assigned than purchased" check against its `licenses`.
    #[arg(long, value_name = "ORG.json")]
    org: Option<PathBuf>,
    /// Write the listing after the import here instead of over --users.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    policy: PolicyArgs,
}

pub fn import(args: Args) -> Result<ExitCode> {
    let evaluator = args.policy.evaluator()?;
    let org = match &args.org {
        Some(path) => Some(read_org(&evaluator, path, &[])?),
        None => None,
    };
    let org_ref = org.as_ref().map(|(settings, name)| (settings, name.as_str()));
    let import = licenses::import(&mut evaluator.instance()?, &args.file, org_ref, &args.users)?;
    for w in &import.check.warnings {
        note!("{}", Line(w));
    }
    let file = args.file.display();
    let Some(listing) = import.listing else {
        for e in &import.check.errors {
            note!("{}", Line(e));
        }
        let noun = if import.check.errors.len() == 1 { "error" } else { "errors" };
        note!("{file}: {} {noun}; nothing imported, {} unchanged", import.check.errors.len(), args.users.display());
        return Ok(ExitCode::from(1));
    };
    let target = args.out.as_ref().unwrap_or(&args.users);
    let name = target.display().to_string();
    files::write_atomically(target, |w| licenses::write(&listing, true, w, &name))?;
    let (standard, inspections) = import.check.assigned;
    let mut out = Stdout::new();
    out.line(&format!(
        "{file}: {} rows imported into {name}; {standard} standard and {inspections} inspections licences assigned",
        import.check.rows
    ))?;
    out.flush()?;
    if org.is_none() {
        note!("{file}: note: without --org the purchased licence counts were not checked");
    }
    Ok(ExitCode::SUCCESS)
}
