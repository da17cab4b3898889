//! The `files` component's exports (`wit/files.wit`): the licence CSV
//! reader and writer of [`crate::listing`], for hosts without a native
//! build of it (the web page).
//!
//! Compiled only for wasm32 with the `files` feature, which also leaves the
//! policy's exports (`component`) out: the two components are built from
//! this one crate, each with only its own exports, so the policy component
//! carries no CSV code and this one no rule. Nothing here reads a file: a
//! host feeds bytes, as the CLI feeds [`Listing`] natively.

use std::cell::RefCell;

use crate::listing::{self, Listing};
use crate::model::{self, Code, GrantedLicense, Named};

wit_bindgen::generate!({
    path: "../wit",
    world: "files",
    default_bindings_module: "crate::files",
});

use exports::turnstile::policy::listing::{
    Change, Comparison, Count, Diagnostic, Guest, GuestReader, LicenseType, Outcomes, Population, Problem, Severity,
};

struct Files;

struct ReaderResource(RefCell<Listing>);

impl Guest for Files {
    type Reader = ReaderResource;

    fn write_listing(users: Population, header: bool) -> String {
        listing::write_listing(&native_population(users), header)
    }

    fn parse_instant(text: String) -> Result<i64, String> {
        crate::calendar::parse_rfc3339(&text)
    }

    fn compare(before: Vec<Outcomes>, after: Vec<Outcomes>) -> Result<Comparison, String> {
        let (before, after) = (flatten(&before)?, flatten(&after)?);
        let c = listing::compare(&before, &after, |o| (o.allow, o.code, o.license));
        let changed = c
            .changed
            .iter()
            .map(|&i| Change {
                position: i,
                before: before[i as usize].class().to_string(),
                after: after[i as usize].class().to_string(),
            })
            .collect();
        let counts = c.counts.into_iter().map(|(outcome, before, after)| Count { outcome: outcome.into(), before, after });
        Ok(Comparison { counts: counts.collect(), changed })
    }
}

impl GuestReader for ReaderResource {
    fn new(source: String) -> Self {
        ReaderResource(RefCell::new(Listing::paged(&source)))
    }

    fn expect_bytes(&self, bytes: u64) {
        self.0.borrow_mut().expect_bytes(bytes);
    }

    fn feed(&self, bytes: Vec<u8>) -> bool {
        self.0.borrow_mut().feed(&bytes)
    }

    fn take_page(&self, rows: u32) -> Option<Population> {
        self.0.borrow_mut().take_page(rows as usize).map(population)
    }

    fn finish(&self) -> Vec<Diagnostic> {
        self.0.borrow_mut().finish().into_iter().map(diagnostic).collect()
    }

    fn rows(&self) -> u32 {
        self.0.borrow().rows() as u32
    }

    fn lines(&self) -> Vec<u32> {
        self.0.borrow().lines()
    }

    fn place(&self, problems: Vec<Problem>, standard: u32, inspections: u32, org_source: String) -> Vec<Diagnostic> {
        let problems: Vec<model::Problem> = problems
            .into_iter()
            .map(|p| model::Problem {
                field: p.field,
                message: p.message,
                over_assigned: p.over_assigned.map(|l| match l {
                    LicenseType::Standard => model::LicenseType::Standard,
                    LicenseType::Inspections => model::LicenseType::Inspections,
                }),
            })
            .collect();
        let purchased = model::Licenses { standard, inspections, external: false };
        self.0.borrow().place(&problems, &purchased, &org_source).into_iter().map(diagnostic).collect()
    }
}

/// One outcome with its names read back into the contract's enums.
#[derive(PartialEq)]
struct Flat<'a> {
    allow: bool,
    code: Code,
    license: Option<GrantedLicense>,
    rule: &'a str,
}

impl Flat<'_> {
    /// What `listing::compare` counts it as: its licence when allowed, else its code.
    fn class(&self) -> &'static str {
        match (self.allow, self.license) {
            (true, Some(l)) => l.name(),
            _ => self.code.name(),
        }
    }
}

/// Each side's batches as one list, with codes and licences read from the
/// WIT's spelling (`license-not-found`) and rules by name.
fn flatten(batches: &[Outcomes]) -> Result<Vec<Flat<'_>>, String> {
    let mut out = Vec::with_capacity(batches.iter().map(|b| b.items.len()).sum());
    for batch in batches {
        for o in &batch.items {
            let code = Code::ALL
                .iter()
                .copied()
                .find(|c| wit_name(c.name(), &o.code))
                .ok_or_else(|| format!("unknown code `{}`: is the policy component of another version?", o.code))?;
            let license = match &o.license {
                None => None,
                Some(l) => Some(GrantedLicense::ALL.iter().copied().find(|g| wit_name(g.name(), l)).ok_or_else(|| {
                    format!("unknown licence `{l}`: is the policy component of another version?")
                })?),
            };
            let rule = batch.rules.get(usize::from(o.rule)).map_or("", String::as_str);
            out.push(Flat { allow: o.allow, code, license, rule });
        }
    }
    Ok(out)
}

/// Whether `wit` (`license-not-found`) spells the name `name` (`LICENSE_NOT_FOUND`).
fn wit_name(name: &str, wit: &str) -> bool {
    name.len() == wit.len()
        && name.bytes().zip(wit.bytes()).all(|(n, w)| if n == b'_' { w == b'-' } else { n.eq_ignore_ascii_case(&w) })
}

fn population(p: model::Population) -> Population {
    Population {
        text: p.text,
        ends: p.ends,
        standard: p.standard,
        inspections: p.inspections,
        external: p.external,
        temporary_since: p.temporary_since,
        last_sync: p.last_sync,
        assigned_at: p.assigned_at,
    }
}

fn native_population(p: Population) -> model::Population {
    model::Population {
        text: p.text,
        ends: p.ends,
        standard: p.standard,
        inspections: p.inspections,
        external: p.external,
        temporary_since: p.temporary_since,
        last_sync: p.last_sync,
        assigned_at: p.assigned_at,
    }
}

fn diagnostic(d: model::Diagnostic) -> Diagnostic {
    Diagnostic {
        source: d.source,
        line: d.line,
        column: d.column,
        path: d.path,
        severity: match d.severity {
            model::Severity::Error => Severity::Error,
            model::Severity::Warning => Severity::Warning,
            model::Severity::Note => Severity::Note,
        },
        message: d.message,
    }
}

export!(Files);
