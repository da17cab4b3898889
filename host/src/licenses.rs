//! The administrator's licence files (rules C1–C5): checking a licence file
//! before it is imported, as `turnstile check` does. Every reading, import
//! and consistency check is the policy's (its `listing` interface); this
//! module only streams the files to it and gathers what it says.

use std::path::Path;

use crate::error::{Error, Line, Result};
use crate::files;
use crate::instance::{Evaluator, Instance, ListingId};
use crate::model::{Diagnostic, LicenseType, Settings, Severity};

/// What a check found.
#[derive(Debug, Default)]
pub struct Check {
    /// Warnings of the files read (C1, C2), each file's in file order.
    pub warnings: Vec<Diagnostic>,
    /// Why the file can't be imported; empty when it can.
    pub errors: Vec<Diagnostic>,
    /// Rows of the file read without error.
    pub rows: u32,
    /// Standard and Inspections licences assigned after the import.
    pub assigned: (u32, u32),
}

impl Check {
    pub fn importable(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Streams the file at `path` into a new listing of `instance`; the
/// listing and what reading it found.
pub fn read(instance: &mut Instance, path: &Path) -> Result<(ListingId, Vec<Diagnostic>)> {
    let listing = instance.listing(&path.display().to_string())?;
    files::stream(path, |chunk| instance.feed(listing, chunk))?;
    let found = instance.finish(listing)?;
    Ok((listing, found))
}

fn is_error(d: &Diagnostic) -> bool {
    d.severity == Severity::Error
}

/// Whether `file` can be imported (C1–C4): onto the users listing `users`
/// when given (every Id must be there), under the organisation `org` (its
/// settings and its name) when given (more licences assigned than purchased
/// is refused). A `users` listing with errors can't be used: an input error.
pub fn check(evaluator: &Evaluator, file: &Path, org: Option<(&Settings, &str)>, users: Option<&Path>) -> Result<Check> {
    let mut instance = evaluator.instance()?;
    let mut check = Check::default();
    let onto = match users {
        Some(path) => {
            let (listing, found) = read(&mut instance, path)?;
            let (errors, warnings): (Vec<_>, Vec<_>) = found.into_iter().partition(is_error);
            check.warnings.extend(warnings);
            if !errors.is_empty() {
                let lines: Vec<String> = errors.iter().map(|d| Line(d).to_string()).collect();
                return Err(Error::input(path.display(), format!("the --users listing can't be used:\n{}", lines.join("\n"))));
            }
            Some(listing)
        }
        None => None,
    };
    let (listing, found) = read(&mut instance, file)?;
    let (mut errors, warnings): (Vec<_>, Vec<_>) = found.into_iter().partition(is_error);
    check.warnings.extend(warnings);
    check.rows = instance.rows(listing)?;
    // Unknown Ids are reported with the file's own errors; an import with
    // any error changes nothing.
    let population = match onto {
        Some(onto) => {
            errors.extend(instance.import(onto, listing)?);
            errors.sort_by_key(|d| (d.line, d.column));
            onto
        }
        None => listing,
    };
    if !errors.is_empty() {
        check.errors = errors;
        return Ok(check);
    }
    let (settings, org_source) = match org {
        Some((settings, name)) => (Some(settings), name),
        None => (None, crate::DEFAULT_ORG),
    };
    match instance.load_listing(population, settings, org_source) {
        Ok(org) => {
            let usage = instance.usage(org, 0)?;
            let assigned = |l: LicenseType| usage.licenses.iter().find(|u| u.license == l).map_or(0, |u| u.assigned);
            check.assigned = (assigned(LicenseType::Standard), assigned(LicenseType::Inspections));
        }
        Err(e) if e.kind() == crate::ErrorKind::Input => check.errors = e.input_diagnostics().to_vec(),
        Err(e) => return Err(e),
    }
    Ok(check)
}
