//! The administrator's licence files (rules C1–C5): read, imported and
//! loaded into the policy a page at a time, as `turnstile check`,
//! `turnstile import`, `turnstile export` and `turnstile what-if` use them.
//!
//! The files are read natively by the rules crate's own reader
//! (`turnstile_policy::listing`, the same code on every host); the
//! decisions about them, down to whether more licences are assigned than
//! purchased, are the policy's: the users go into it in columns (the WIT's
//! `population`), a page at a time, and the problems it finds come back
//! placed at the rows they are about.

use std::path::Path;

use turnstile_policy::listing::Listing;

use crate::error::{Error, Line, Result};
use crate::files;
use crate::instance::{Instance, OrgId, bridge};
use crate::model::{Diagnostic, LicenseType, Problem, Settings, Severity};

/// Users moved into the policy per call.
pub const PAGE: u32 = 1 << 16;


/// A licence file read: the rows, and the warnings and errors found (C1–C3).
pub struct Read {
    pub listing: Listing,
    pub warnings: Vec<Diagnostic>,
    pub errors: Vec<Diagnostic>,
}

/// Reads the licence file or users listing at `path`, streamed.
pub fn read(path: &Path) -> Result<Read> {
    read_into(Listing::new(&path.display().to_string()), path)
}

/// Reads the file at `path` into `listing` (made for it, in the mode wanted).
fn read_into(mut listing: Listing, path: &Path) -> Result<Read> {
    if let Ok(meta) = std::fs::metadata(path) {
        listing.expect_bytes(meta.len());
    }
    files::stream(path, |chunk| Ok(listing.feed(chunk)))?;
    let found: Vec<Diagnostic> = bridge(&listing.finish())?;
    let (errors, warnings) = found.into_iter().partition(|d| d.severity == Severity::Error);
    Ok(Read { listing, warnings, errors })
}

/// [`read`], handing over each page of `page` rows, in columns, as soon as
/// it is read (the last one at the end): loading can start before reading
/// ends, and the listing keeps only what it checks (ids, licences, lines).
pub fn read_in_pages(path: &Path, page: u32, mut each: impl FnMut(turnstile_policy::model::Population)) -> Result<Read> {
    let mut listing = Listing::paged(&path.display().to_string());
    if let Ok(meta) = std::fs::metadata(path) {
        listing.expect_bytes(meta.len());
    }
    files::stream(path, |chunk| {
        let reading = listing.feed(chunk);
        while let Some(p) = listing.take_page(page as usize) {
            each(p);
        }
        Ok(reading)
    })?;
    let found: Vec<Diagnostic> = bridge(&listing.finish())?;
    while let Some(p) = listing.take_page(page as usize) {
        each(p);
    }
    let (errors, warnings) = found.into_iter().partition(|d| d.severity == Severity::Error);
    Ok(Read { listing, warnings, errors })
}

/// Reads a users listing that must have no error to be used at all (`what`
/// names it in the message).
pub fn read_clean(path: &Path, what: &str) -> Result<Read> {
    let read = read(path)?;
    if !read.errors.is_empty() {
        let lines: Vec<String> = read.errors.iter().map(|d| Line(d).to_string()).collect();
        return Err(Error::input(path.display(), format!("{what} can't be used:\n{}", lines.join("\n"))));
    }
    Ok(read)
}

/// Loads `listing`'s rows into a new organisation of `instance` under
/// `settings`, a page at a time. An inconsistent result is an input error
/// whose diagnostics are the policy's problems placed at the rows
/// (`org_source` names the organisation for the others).
pub fn load(instance: &mut Instance, listing: &Listing, settings: &Settings, org_source: &str) -> Result<OrgId> {
    let loader = instance.loader(settings)?;
    let rows = listing.rows() as u32;
    instance.expect(loader, rows, listing.users().text_bytes() as u64)?;
    let mut first = 0;
    while first < rows {
        instance.add_native_population(loader, listing.population(first, PAGE))?;
        first = first.saturating_add(PAGE);
    }
    match instance.finish_loader(loader)? {
        Ok(org) => Ok(org),
        Err(problems) => Err(placed(listing, &problems, settings, org_source)?),
    }
}

/// The policy's problems with a state loaded from `listing`'s rows, as an
/// input error placed at the rows (`org_source` names the organisation).
pub fn placed(listing: &Listing, problems: &[Problem], settings: &Settings, org_source: &str) -> Result<Error> {
    let native: Vec<turnstile_policy::model::Problem> = bridge(problems)?;
    let purchased = bridge(&settings.licenses)?;
    Ok(Error::diagnostics(bridge(&listing.place(&native, &purchased, org_source))?))
}

/// What a check found.
#[derive(Debug, Default)]
pub struct Check {
    /// Warnings of the files read (C1, C2), each file's in file order.
    pub warnings: Vec<Diagnostic>,
    /// Why the file can't be imported; empty when it can. Past the reader's
    /// limit, the last one says how many more there were ([`Check::not_shown`]).
    pub errors: Vec<Diagnostic>,
    /// Errors found past the reader's limit and not listed.
    pub not_shown: usize,
    /// Rows of the file read without error.
    pub rows: u32,
    /// Standard and Inspections licences assigned after the import.
    pub assigned: (u32, u32),
}

impl Check {
    pub fn importable(&self) -> bool {
        self.errors.is_empty()
    }

    /// How many errors there are, those not shown included (the line that
    /// says how many more there were is not one of them).
    pub fn error_count(&self) -> usize {
        self.errors.len() + self.not_shown - usize::from(self.not_shown > 0)
    }
}

/// Whether `file` can be imported (C1–C4): onto the users listing `users`
/// when given (every Id must be there), under the organisation `org` (its
/// settings and its name) when given (more licences assigned than purchased
/// is refused). A `users` listing with errors, or an organisation that is
/// itself inconsistent, can't be used: an input error.
pub fn check(instance: &mut Instance, file: &Path, org: Option<(&Settings, &str)>, users: Option<&Path>) -> Result<Check> {
    check_keeping(instance, file, org, users).map(|(check, _)| check)
}

/// What an import found, and the users listing after it.
pub struct Import {
    pub check: Check,
    /// The users listing with the file imported, when it can be (C5); `None`
    /// when the check found errors.
    pub listing: Option<Listing>,
}

/// Imports `file` onto the users listing `users` (C5): every check of
/// [`check`] first, under `org` when given; the listing after the import
/// only when nothing is wrong. Nothing is written here.
pub fn import(instance: &mut Instance, file: &Path, org: Option<(&Settings, &str)>, users: &Path) -> Result<Import> {
    let (check, listing) = check_keeping(instance, file, org, Some(users))?;
    let listing = listing.filter(|_| check.importable());
    Ok(Import { check, listing })
}

/// Writes `listing`'s users to `out` a page at a time, as a users listing
/// (`as_listing`) or as the licence import/export file (C4, C5).
pub fn write(listing: &Listing, as_listing: bool, out: &mut dyn std::io::Write, name: &str) -> Result<()> {
    let rows = listing.rows() as u32;
    let mut first = 0;
    loop {
        let page = listing.population(first, PAGE);
        let header = first == 0;
        let text = if as_listing {
            turnstile_policy::listing::write_listing(&page, header)
        } else {
            turnstile_policy::listing::write_licenses(&page, header)
        };
        out.write_all(text.as_bytes()).map_err(|e| Error::output(name, e))?;
        first = first.saturating_add(PAGE);
        if first >= rows {
            return Ok(());
        }
    }
}

/// [`check`], keeping the population it checked (the listing with the file
/// imported, or the file's own rows).
fn check_keeping(
    instance: &mut Instance,
    file: &Path,
    org: Option<(&Settings, &str)>,
    users: Option<&Path>,
) -> Result<(Check, Option<Listing>)> {
    // The two files are read at the same time.
    let (onto, read) = std::thread::scope(|s| {
        let onto = users.map(|path| s.spawn(move || read_clean(path, "the --users listing")));
        // Imported onto a listing, the file's own users are never loaded.
        let read = match users {
            Some(_) => read_into(Listing::ids_only(&file.display().to_string()), file),
            None => read(file),
        };
        (onto.map(|h| h.join().unwrap_or_else(|_| Err(Error::policy("reading stopped unexpectedly")))), read)
    });
    let mut check = Check::default();
    let onto = onto.transpose()?;
    let Read { listing: file_listing, warnings, mut errors } = read?;
    if let Some(onto) = &onto {
        check.warnings.extend(onto.warnings.iter().cloned());
    }
    check.warnings.extend(warnings);
    check.rows = file_listing.rows() as u32;
    check.not_shown = file_listing.errors_not_shown();
    // Unknown Ids are reported with the file's own errors; an import with
    // any error changes nothing.
    let population = match onto {
        Some(Read { mut listing, .. }) => {
            errors.extend(bridge::<_, Vec<Diagnostic>>(&listing.import(&file_listing))?);
            errors.sort_by_key(|d| (d.line, d.column));
            listing
        }
        None => file_listing,
    };
    if !errors.is_empty() {
        check.errors = errors;
        return Ok((check, None));
    }
    let (settings, org_source) = match org {
        Some((settings, name)) => (settings.clone(), name),
        None => {
            // Without an organisation the purchased counts aren't checked: it
            // has as many licences as the rows hold.
            let mut settings = instance.parse_org("{}", crate::DEFAULT_ORG, &[])?;
            (settings.licenses.standard, settings.licenses.inspections) = population.held();
            (settings, crate::DEFAULT_ORG)
        }
    };
    match load(instance, &population, &settings, org_source) {
        Ok(org) => {
            let usage = instance.usage(org, 0)?;
            let assigned = |l: LicenseType| usage.licenses.iter().find(|u| u.license == l).map_or(0, |u| u.assigned);
            check.assigned = (assigned(LicenseType::Standard), assigned(LicenseType::Inspections));
            Ok((check, Some(population)))
        }
        Err(e) if e.kind() != crate::ErrorKind::Input => Err(e),
        Err(e) => {
            // A problem of the organisation itself (not placed at a row of
            // the file) means the --org can't be used.
            let (own, rows): (Vec<Diagnostic>, Vec<Diagnostic>) =
                e.input_diagnostics().iter().cloned().partition(|d| d.source == org_source);
            if !own.is_empty() {
                return Err(Error::diagnostics(own).context(format!("{org_source} can't be used")));
            }
            check.errors = rows;
            Ok((check, None))
        }
    }
}
