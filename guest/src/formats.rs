//! The formats component's exports (`wit/formats.wit`): scenario files
//! ([`crate::scenario`]) and licence CSV files ([`crate::listing`]), read
//! and written once for every host.
//!
//! Compiled only for wasm32 with the `formats` feature, which also leaves the
//! policy's exports (`component`) out: the two components are built from
//! this one crate, each with only its own exports, so the policy component
//! carries no reader and this one no rule. Nothing here reads a file: a host
//! feeds text and bytes, as the CLI feeds [`Listing`] natively.

use std::cell::RefCell;

use crate::exports::turnstile::policy::listing::{Change, Comparison, Count, Guest as ListingGuest, GuestReader};
use crate::exports::turnstile::policy::scenario::Guest as ScenarioGuest;
use crate::listing::{self, Listing};
use crate::model::{
    Code, Decision, Diagnostic, Event, GrantedLicense, Named, OrgState, Population, Problem, Remedy, Scenario, Settings,
};
use crate::exports::turnstile::policy::types::{Outcome, Outcomes};

struct Formats;

impl ScenarioGuest for Formats {
    fn parse(text: String, source: String) -> Result<Scenario, Vec<Diagnostic>> {
        crate::scenario::parse(&text, &source)
    }

    fn parse_org(text: String, source: String, sets: Vec<String>) -> Result<Settings, Diagnostic> {
        crate::scenario::parse_org(&text, &source, &sets)
    }

    fn render_decision(index: u32, event: Event, decision: Decision) -> String {
        crate::scenario::render_decision(index, &event, &decision)
    }

    fn render_explained(index: u32, event: Event, decision: Decision, remedies: Vec<Remedy>) -> String {
        crate::scenario::render_explained(index, &event, &decision, &remedies)
    }

    fn render_state(state: OrgState) -> String {
        crate::scenario::render_state(&state)
    }

    fn render_diagnostic(diagnostic: Diagnostic) -> String {
        crate::scenario::diagnostic_line(&diagnostic)
    }
}

struct ReaderResource(RefCell<Listing>);

impl ListingGuest for Formats {
    type Reader = ReaderResource;

    fn write_listing(users: Population, header: bool) -> String {
        listing::write_listing(&users, header)
    }

    fn parse_instant(text: String) -> Result<i64, String> {
        crate::calendar::parse_rfc3339(&text)
    }

    fn compare(before: Vec<Outcomes>, after: Vec<Outcomes>) -> Comparison {
        let (before, after) = (flatten(&before), flatten(&after));
        let c = listing::compare(&before, &after, |o| (o.0, o.1, o.2));
        let changed = c
            .changed
            .iter()
            .map(|&i| Change { position: i, before: class(before[i as usize]).into(), after: class(after[i as usize]).into() })
            .collect();
        let counts = c.counts.into_iter().map(|(outcome, before, after)| Count { outcome: outcome.into(), before, after });
        Comparison { counts: counts.collect(), changed }
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
        self.0.borrow_mut().take_page(rows as usize)
    }

    fn finish(&self) -> Vec<Diagnostic> {
        self.0.borrow_mut().finish()
    }

    fn rows(&self) -> u32 {
        self.0.borrow().rows() as u32
    }

    fn lines(&self) -> Vec<u32> {
        self.0.borrow().lines()
    }

    fn place(&self, problems: Vec<Problem>, standard: u32, inspections: u32, org_source: String) -> Vec<Diagnostic> {
        let purchased = crate::model::Licenses { standard, inspections, external: false };
        self.0.borrow().place(&problems, &purchased, &org_source)
    }
}

/// An outcome as `listing::compare` weighs it: the rule by name (each
/// batch numbers its rules its own way).
type Flat<'a> = (bool, Code, Option<GrantedLicense>, &'a str);

/// Each side's batches as one list.
fn flatten(batches: &[Outcomes]) -> Vec<Flat<'_>> {
    batches.iter().flat_map(|b| b.items.iter().map(move |o| (o.allow, o.code, o.license, rule(b, o)))).collect()
}

fn rule<'a>(batch: &'a Outcomes, o: &Outcome) -> &'a str {
    batch.rules.get(usize::from(o.rule)).map_or("", String::as_str)
}

/// What `listing::compare` counts an outcome as: its licence when allowed, else its code.
fn class((allow, code, license, _): Flat) -> &'static str {
    match (allow, license) {
        (true, Some(l)) => l.name(),
        _ => code.name(),
    }
}

crate::export!(Formats with_types_in crate);
