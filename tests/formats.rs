//! The formats component (`wit/formats.wit`, `turnstile component
//! --formats`): what it imports and exports, its size, and that its CSV
//! reader is the very reader the CLI links natively: the same pages, lines
//! and diagnostics for the same bytes however they are split, the same
//! placing of the engine's problems, the same listing written and the same
//! what-if comparison. (Its scenario reader and writer are what `turnstile
//! run` uses: tests/conformance.rs and tests/cli.rs.)

use turnstile::policy::FORMATS_COMPONENT;
use turnstile_policy::listing::{self, Listing};
use turnstile_policy::model::{self, Code, GrantedLicense};
use wasmtime::component::{Component, Linker, ResourceAny};
use wasmtime::{Config, Engine, Store};

mod bindings {
    wasmtime::component::bindgen!({ path: "../wit", world: "formats" });
}

use bindings::exports::turnstile::policy::types as wit;

struct Files {
    store: Store<()>,
    files: bindings::Formats,
}

fn engine() -> Engine {
    let mut config = Config::new();
    config.wasm_component_model(true);
    Engine::new(&config).unwrap()
}

fn files() -> Files {
    let engine = engine();
    let component = Component::new(&engine, FORMATS_COMPONENT).unwrap();
    let mut store = Store::new(&engine, ());
    let files = bindings::Formats::instantiate(&mut store, &component, &Linker::new(&engine)).unwrap();
    Files { store, files }
}

impl Files {
    fn reader(&mut self, source: &str) -> ResourceAny {
        let listing = self.files.turnstile_policy_listing();
        listing.reader().call_constructor(&mut self.store, source).unwrap()
    }
}

/// What reading `bytes` gives: the pages (of at least `page` rows, how many
/// depends on how the bytes arrive), the lines, the diagnostics (as the CLI
/// prints them).
#[derive(Debug)]
struct Read {
    pages: Vec<model::Population>,
    lines: Vec<u32>,
    diagnostics: Vec<String>,
}

/// The same users, lines and diagnostics, however they were paged.
impl PartialEq for Read {
    fn eq(&self, other: &Read) -> bool {
        let all = |r: &Read| {
            let mut users = turnstile_policy::users::empty_population();
            for p in &r.pages {
                for i in 0..p.standard.len() {
                    let (id, name, email, core) = turnstile_policy::users::population_row(p, i);
                    turnstile_policy::users::push_row(&mut users, id, name, email, &core);
                }
            }
            users
        };
        (all(self), &self.lines, &self.diagnostics) == (all(other), &other.lines, &other.diagnostics)
    }
}

fn native_read(bytes: &[u8], source: &str, page: usize) -> (Listing, Read) {
    let mut listing = Listing::paged(source);
    let mut pages = Vec::new();
    for chunk in bytes.chunks(7) {
        listing.feed(chunk);
        while let Some(p) = listing.take_page(page) {
            pages.push(p);
        }
    }
    let diagnostics = listing.finish().iter().map(turnstile_policy::scenario::diagnostic_line).collect();
    while let Some(p) = listing.take_page(page) {
        pages.push(p);
    }
    let lines = listing.lines();
    (listing, Read { pages, lines, diagnostics })
}

fn native_diagnostic(d: &wit::Diagnostic) -> model::Diagnostic {
    model::Diagnostic {
        source: d.source.clone(),
        line: d.line,
        column: d.column,
        path: d.path.clone(),
        severity: match d.severity {
            wit::Severity::Error => model::Severity::Error,
            wit::Severity::Warning => model::Severity::Warning,
            wit::Severity::Note => model::Severity::Note,
        },
        message: d.message.clone(),
    }
}

fn native_population(p: wit::Population) -> model::Population {
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

fn component_read(f: &mut Files, reader: ResourceAny, bytes: &[u8], split: usize, page: u32) -> Read {
    let r = f.files.turnstile_policy_listing().reader();
    let mut pages = Vec::new();
    r.call_expect_bytes(&mut f.store, reader, bytes.len() as u64).unwrap();
    for chunk in bytes.chunks(split) {
        r.call_feed(&mut f.store, reader, chunk).unwrap();
        while let Some(p) = r.call_take_page(&mut f.store, reader, page).unwrap() {
            pages.push(native_population(p));
        }
    }
    let found = r.call_finish(&mut f.store, reader).unwrap();
    while let Some(p) = r.call_take_page(&mut f.store, reader, page).unwrap() {
        pages.push(native_population(p));
    }
    let diagnostics = found.iter().map(|d| turnstile_policy::scenario::diagnostic_line(&native_diagnostic(d))).collect();
    let lines = r.call_lines(&mut f.store, reader).unwrap();
    Read { pages, lines, diagnostics }
}

fn example(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name)).unwrap()
}

#[test]
fn the_formats_component_imports_nothing_and_exports_the_types_the_scenario_format_and_the_listing() {
    let engine = engine();
    let component = Component::new(&engine, FORMATS_COMPONENT).unwrap();
    let ty = component.component_type();
    assert_eq!(ty.imports(&engine).count(), 0, "no WASI, clock, randomness or logging");
    let exports: Vec<String> = ty.exports(&engine).map(|(name, _)| name.to_string()).collect();
    assert_eq!(exports, ["turnstile:policy/types@0.3.0", "turnstile:policy/scenario@0.3.0", "turnstile:policy/listing@0.3.0"]);
}

/// Every host that reads scenarios or CSV files downloads it beside the
/// policy component: the readers and writers, and no rule.
const FORMATS_SIZE_BUDGET: usize = 300 * 1024;

#[test]
fn the_formats_component_stays_small_and_the_policy_carries_no_reader() {
    assert!(FORMATS_COMPONENT.len() <= FORMATS_SIZE_BUDGET, "{} bytes, over {FORMATS_SIZE_BUDGET}", FORMATS_COMPONENT.len());
    // The readers' messages are in the formats component, and not in the policy's.
    for needle in ["trailing blank line ignored", "unknown event kind"] {
        let has = |bytes: &[u8]| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
        assert!(has(FORMATS_COMPONENT), "{needle}");
        assert!(!has(turnstile::policy::EMBEDDED_COMPONENT), "the policy component carries `{needle}`");
    }
}

#[test]
fn the_component_reads_a_listing_as_the_native_reader_does_however_it_is_split() {
    let bytes = example("users.csv");
    let (_, native) = native_read(&bytes, "examples/users.csv", 4);
    assert_eq!(native.pages.len(), 3, "9 rows in pages of 4");
    assert!(native.diagnostics.is_empty(), "{:?}", native.diagnostics);
    let mut f = files();
    for split in [1, 3, 64, bytes.len()] {
        let reader = f.reader("examples/users.csv");
        assert_eq!(component_read(&mut f, reader, &bytes, split, 4), native, "split every {split} bytes");
    }
}

#[test]
fn the_component_finds_and_places_the_same_problems() {
    // A BOM, a CRLF, both licences assigned, an unknown licence value, a
    // duplicate Id, a bad instant, a quote never closed, non-ASCII names.
    let bytes = "\u{feff}\"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\",\"Last Sync\"\r\n\
        \"a\",\"Ąna Żuk\",\"a@x.pl\",\"Assigned\",\"Assigned\",\"\"\r\n\
        \"b\",\"Bo\",\"b@x.pl\",\"Yes\",\"\",\"\"\n\
        \"a\",\"Again\",\"a2@x.pl\",\"\",\"\",\"2026-11-31T10:00:00Z\"\n\
        \"c\",\"Cé\",\"c@x.pl\",\"Assigned\",\"\",\"2026-11-01T10:00:00Z\"\n\
        \"d\",\"Dee\",\"d@x.pl\",\"Assigned\",\"\",\"2026-11-01T10:00:00Z\"\n\
        \"e\",\"E\",\"e@x.pl,\"\",\"\",\"\"\n\n"
        .as_bytes();
    let (native_listing, native) = native_read(bytes, "bad.csv", 2);
    assert!(native.diagnostics.len() >= 6, "{:#?}", native.diagnostics);
    let mut f = files();
    let reader = f.reader("bad.csv");
    assert_eq!(component_read(&mut f, reader, bytes, 5, 2), native);

    // More Standard licences held than purchased: placed at the row that
    // went over, in its Standard cell, by both.
    let problems = vec![
        model::Problem { field: "users".into(), message: "2 standard licences assigned but 1 purchased (1 over)".into(), over_assigned: Some(model::LicenseType::Standard) },
        model::Problem { field: "settings.billing_day".into(), message: "must be 1-31".into(), over_assigned: None },
    ];
    let purchased = model::Licenses { standard: 1, inspections: 0, external: false };
    let expected: Vec<String> =
        native_listing.place(&problems, &purchased, "org.json").iter().map(turnstile_policy::scenario::diagnostic_line).collect();
    assert!(expected.iter().any(|l| l.starts_with("bad.csv:6:")), "{expected:?}");
    let wit_problems: Vec<wit::Problem> = problems
        .iter()
        .map(|p| wit::Problem {
            field: p.field.clone(),
            message: p.message.clone(),
            over_assigned: p.over_assigned.map(|_| wit::LicenseType::Standard),
        })
        .collect();
    let placed = f.files.turnstile_policy_listing().reader().call_place(&mut f.store, reader, &wit_problems, 1, 0, "org.json").unwrap();
    let placed: Vec<String> = placed.iter().map(|d| turnstile_policy::scenario::diagnostic_line(&native_diagnostic(d))).collect();
    assert_eq!(placed, expected);
}

#[test]
fn the_component_writes_the_listing_the_native_writer_writes() {
    let (_, native) = native_read(&example("users.csv"), "examples/users.csv", 100);
    let page = native.pages[0].clone();
    let expected = listing::write_listing(&page, true);
    let mut f = files();
    let wit_page = wit::Population {
        text: page.text,
        ends: page.ends,
        standard: page.standard,
        inspections: page.inspections,
        external: page.external,
        temporary_since: page.temporary_since,
        last_sync: page.last_sync,
        assigned_at: page.assigned_at,
    };
    let written = f.files.turnstile_policy_listing().call_write_listing(&mut f.store, &wit_page, true).unwrap();
    assert_eq!(written, expected);
    assert!(written.starts_with("\"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\",\"Last Sync\""), "{written}");
}

#[test]
fn instants_are_read_as_the_cli_reads_at() {
    let mut f = files();
    for text in ["2026-11-22T10:00:00Z", "2026-11-22T11:00:00+01:00", "2026-11-31T10:00:00Z", "yesterday"] {
        let got = f.files.turnstile_policy_listing().call_parse_instant(&mut f.store, text).unwrap();
        assert_eq!(got, turnstile_policy::calendar::parse_rfc3339(text), "{text}");
    }
}

#[test]
fn outcomes_are_compared_as_the_cli_compares_them() {
    // Two sides of four users, in two batches each, numbering their rules differently.
    use wit::{Code as C, GrantedLicense as G};
    let o = |allow: bool, code: C, rule: u16, license: Option<G>| wit::Outcome { allow, code, rule, license };
    let before = vec![
        wit::Outcomes { rules: vec!["L9".into(), "L6".into()], items: vec![o(true, C::Ok, 0, Some(G::Temporary)), o(true, C::Ok, 1, Some(G::Standard))] },
        wit::Outcomes { rules: vec!["L9".into()], items: vec![o(false, C::LicenseExpired, 0, None), o(true, C::Ok, 0, Some(G::Temporary))] },
    ];
    let after = vec![
        wit::Outcomes { rules: vec!["L4".into(), "L7".into()], items: vec![o(true, C::Ok, 1, Some(G::Standard)), o(true, C::Ok, 0, Some(G::Standard))] },
        wit::Outcomes { rules: vec!["L8".into(), "L9".into()], items: vec![o(false, C::LicenseNotFound, 0, None), o(true, C::Ok, 1, Some(G::Temporary))] },
    ];
    let mut f = files();
    let got = f.files.turnstile_policy_listing().call_compare(&mut f.store, &before, &after).unwrap();

    type Native = (bool, Code, Option<GrantedLicense>, &'static str);
    let native_before: Vec<Native> = vec![
        (true, Code::Ok, Some(GrantedLicense::Temporary), "L9"),
        (true, Code::Ok, Some(GrantedLicense::Standard), "L6"),
        (false, Code::LicenseExpired, None, "L9"),
        (true, Code::Ok, Some(GrantedLicense::Temporary), "L9"),
    ];
    let native_after: Vec<Native> = vec![
        (true, Code::Ok, Some(GrantedLicense::Standard), "L7"),
        (true, Code::Ok, Some(GrantedLicense::Standard), "L4"),
        (false, Code::LicenseNotFound, None, "L8"),
        (true, Code::Ok, Some(GrantedLicense::Temporary), "L9"),
    ];
    let expected = listing::compare(&native_before, &native_after, |o| (o.0, o.1, o.2));
    let counts: Vec<(String, u32, u32)> = got.counts.iter().map(|c| (c.outcome.clone(), c.before, c.after)).collect();
    let expected_counts: Vec<(String, u32, u32)> = expected.counts.iter().map(|c| (c.0.to_string(), c.1, c.2)).collect();
    assert_eq!(counts, expected_counts);
    assert_eq!(
        counts,
        [("standard".to_string(), 1, 2), ("temporary".to_string(), 2, 1), ("LICENSE_NOT_FOUND".to_string(), 0, 1), ("LICENSE_EXPIRED".to_string(), 1, 0)]
    );
    let changed: Vec<(u32, String, String)> = got.changed.iter().map(|c| (c.position, c.before.clone(), c.after.clone())).collect();
    assert_eq!(expected.changed, [0, 1, 2], "user 1 keeps standard but by another rule");
    assert_eq!(
        changed,
        [
            (0, "temporary".to_string(), "standard".to_string()),
            (1, "standard".to_string(), "standard".to_string()),
            (2, "LICENSE_EXPIRED".to_string(), "LICENSE_NOT_FOUND".to_string())
        ]
    );

}
