//! `turnstile export`: the active licences of a users listing, as the
//! licence import/export file (rule C5).

use std::path::PathBuf;
use std::process::ExitCode;

use turnstile::error::Line;
use turnstile::{Result, files, licenses};

use super::output::{Stdout, note};

/// Export the active licences of a users listing as a licence file (rules C4, C5).
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  turnstile export examples/users.csv
  turnstile export examples/users.csv --out licenses.csv

The output is the seed's import/export file: \"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\",
every field quoted, a licence cell `Assigned` or empty. Every user is listed, so
importing the file back (turnstile import) restores exactly these licences; a red
(`Disabled`) selector is written empty, and importing an empty cell never unblocks
anyone. Warnings about USERS.csv are printed on standard error as FILE:LINE:COLUMN.

Exit status:
  0  exported (warnings may have been printed)
  1  USERS.csv has errors: every error is printed as FILE:LINE:COLUMN: message, and
     nothing is written
  2  usage error: a bad flag, USERS.csv can't be read, or the output can't be written")]
pub struct Args {
    /// The users listing to export (the five licence columns, optionally
    /// "Last Sync", "Assigned At", "Temporary Since" and "External").
    users: PathBuf,
    /// Write the licence file here (whole, or not at all) instead of
    /// standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn export(args: Args) -> Result<ExitCode> {
    let read = licenses::read(&args.users)?;
    for w in &read.warnings {
        note!("{}", Line(w));
    }
    if !read.errors.is_empty() {
        for e in &read.errors {
            note!("{}", Line(e));
        }
        let noun = if read.errors.len() == 1 { "error" } else { "errors" };
        note!("{}: {} {noun}; nothing exported", args.users.display(), read.errors.len());
        return Ok(ExitCode::from(1));
    }
    match &args.out {
        Some(path) => {
            let name = path.display().to_string();
            files::write_atomically(path, |w| licenses::write(&read.listing, false, w, &name))?;
            let (standard, inspections) = read.listing.held();
            let mut out = Stdout::new();
            out.line(&format!(
                "{name}: {} users exported; {standard} standard and {inspections} inspections licences assigned",
                read.listing.rows()
            ))?;
            out.flush()?;
        }
        None => {
            let mut out = Stdout::new();
            licenses::write(&read.listing, false, out.writer(), "standard output")?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
