//! Licence CSV files (rules C1–C5) and `turnstile check` / `import` /
//! `export` / `what-if`: each C rule, the all-or-nothing import, an
//! export→import round trip through the commands on the seed's sample file,
//! and a what-if whose changes are worked out by hand from rules.md.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use turnstile::whatif;
use turnstile::{Evaluator, Options, Policy};
use turnstile_policy::calendar::parse_rfc3339;
use turnstile_policy::listing::{self, Listing};
use turnstile_policy::model::{LicenseType, Selector, Settings, User};
use turnstile_policy::scenario::diagnostic_line;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn turnstile(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_turnstile"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("turnstile starts")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A temporary file with `content`, removed when dropped.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str, content: &[u8]) -> Temp {
        let dir = std::env::temp_dir().join(format!("turnstile-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Tests run in parallel: each file gets its own name.
        let path = dir.join(format!("{n}-{name}"));
        std::fs::File::create(&path).unwrap().write_all(content).unwrap();
        Temp(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

const HEADER: &str = "\"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\"\n";

/// The sample of seed 001, exactly as printed there.
const SEED_SAMPLE: &str = concat!(
    "\"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\"\n",
    "\"1a75199f-a48b-40d4-b9bc-2ea05faa8197\",\"Matt Ford\",\"someone51@example.com\",\"\",\"Assigned\"\n",
    "\"10ac88c8-2226-4a98-ae0c-b7f57df0c4d3\",\"Pete Porter\",\"someone57@example.com\",\"Assigned\",\"\"\n",
    "\"1ac99e8f-824b-4b51-84ef-7ff55a555079\",\"Ralf Harper\",\"someone54@example.com\",\"Assigned\",\"Assigned\"\n",
);

fn component() -> Evaluator {
    Evaluator::Component(Policy::embedded(&Options::default()).unwrap())
}

fn org(json: &str) -> Settings {
    turnstile_policy::scenario::parse_org(json, "org.json", &[]).unwrap()
}

fn held(users: &[User]) -> Vec<(String, Option<LicenseType>)> {
    users.iter().map(|u| (u.id.clone(), u.held_license())).collect()
}

/// A file read by the listing reader the component runs (here natively).
struct Read {
    listing: Listing,
    warnings: Vec<String>,
    errors: Vec<String>,
}

impl Read {
    fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

fn read(bytes: &[u8], source: &str) -> Read {
    let (listing, found) = Listing::read(bytes, source);
    let (warnings, errors) = found.iter().partition::<Vec<_>, _>(|d| d.severity == turnstile_policy::model::Severity::Warning);
    let lines = |ds: Vec<&turnstile_policy::model::Diagnostic>| ds.into_iter().map(diagnostic_line).collect();
    Read { listing, warnings: lines(warnings), errors: lines(errors) }
}

fn messages(read: &Read) -> Vec<String> {
    read.errors.clone()
}

fn users(read: &Read) -> Vec<User> {
    read.listing.users().iter().map(|u| u.to_user()).collect()
}

/// Imports `file` onto `onto` (both as text), read by the listing reader,
/// then loads the result into an instance of `evaluator` under the
/// organisation `org` (JSON) when given: the users after the import, or
/// every error as its line.
fn import(evaluator: &Evaluator, org: Option<&str>, onto: &[u8], file: &[u8]) -> Result<Vec<User>, Vec<String>> {
    let listing = |bytes: &[u8], source: &str| {
        let read = read(bytes, source);
        assert!(read.ok(), "{source} reads: {:?}", read.errors);
        read.listing
    };
    let (mut onto, file) = (listing(onto, "users.csv"), listing(file, "import.csv"));
    let errors = onto.import(&file);
    if !errors.is_empty() {
        return Err(errors.iter().map(diagnostic_line).collect());
    }
    let mut instance = evaluator.instance().unwrap();
    let mut settings = instance.parse_org(org.unwrap_or("{}"), "org.json", &[]).unwrap();
    if org.is_none() {
        // As `check` does without an organisation: as many licences as held.
        (settings.licenses.standard, settings.licenses.inspections) = onto.held();
    }
    let loaded = turnstile::licenses::load(&mut instance, &onto, &settings, "org.json");
    let org = loaded.map_err(|e| e.input_diagnostics().iter().map(|d| turnstile::error::Line(d).to_string()).collect::<Vec<_>>())?;
    let state = instance.snapshot(org).unwrap();
    Ok(state.users.iter().map(|u| postcard::from_bytes(&postcard::to_allocvec(u).unwrap()).unwrap()).collect())
}

/// The organisation `listing`'s rows make, loaded natively.
fn loaded(listing: &Listing) -> turnstile_policy::state::State {
    let mut settings = Settings::default();
    (settings.licenses.standard, settings.licenses.inspections) = listing.held();
    let mut loader = turnstile_policy::state::Loader::new(settings);
    loader.add_population(&listing.population(0, u32::MAX));
    loader.finish().unwrap()
}

fn example(path: &str) -> Vec<u8> {
    std::fs::read(root().join(path)).unwrap()
}

// ------------------------------------------------------------------ C1

#[test]
fn c1_the_seed_sample_with_a_trailing_blank_line_is_checked_and_can_be_imported() {
    // examples/licenses.csv is the seed's sample plus the blank line many
    // spreadsheets leave at the end.
    let shipped = std::fs::read_to_string(root().join("examples/licenses.csv")).unwrap();
    assert_eq!(shipped, format!("{SEED_SAMPLE}\n"));

    let out = turnstile(&["check", "examples/licenses.csv"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("examples/licenses.csv:5:1: warning: trailing blank line ignored"), "{stderr}");
    // C2 on Ralf Harper's row, at his Standard cell.
    assert!(stderr.contains("examples/licenses.csv:4:78: warning: both Standard and Inspections"), "{stderr}");
    assert!(text(&out.stdout).contains("3 rows can be imported"));

    // With the organisation and onto the users listing it fits: still fine.
    let out =
        turnstile(&["check", "examples/licenses.csv", "--org", "examples/org.json", "--users", "examples/users.csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn c1_bom_crlf_and_whitespace_only_trailing_lines_are_warnings_that_name_their_lines() {
    let crlf = SEED_SAMPLE.replace('\n', "\r\n");
    let bytes = format!("\u{feff}{crlf}  \r\n\t\r\n\r\n");
    let read = read(bytes.as_bytes(), "x.csv");
    assert!(read.ok(), "{:?}", messages(&read));
    let warnings = read.warnings.clone();
    assert!(warnings.contains(&"x.csv:1:1: warning: UTF-8 byte order mark ignored".to_string()), "{warnings:?}");
    assert!(warnings.contains(&"x.csv:1:1: warning: CRLF (Windows) line ends accepted".to_string()), "{warnings:?}");
    assert!(
        warnings.contains(&"x.csv:5:1: warning: 3 trailing blank lines ignored (lines 5-7)".to_string()),
        "{warnings:?}"
    );
    // The rows read exactly as without BOM and CRLF.
    let plain = self::read(SEED_SAMPLE.as_bytes(), "y.csv");
    assert_eq!(held(&users(&read)), held(&users(&plain)));
    assert_eq!(users(&read)[2].name, "Ralf Harper");
}

#[test]
fn c1_classic_mac_line_ends_are_read_as_line_ends_and_lines_are_numbered_right() {
    let cr = format!("{}\"x\",\"X\",\"x@x\",\"Maybe\",\"\"\r", SEED_SAMPLE.replace('\n', "\r"));
    let read = read(cr.as_bytes(), "mac.csv");
    let warnings = read.warnings.clone();
    assert!(warnings.contains(&"mac.csv:1:50: warning: CR (classic Mac) line ends read as line ends".to_string()), "{warnings:?}");
    assert_eq!(read.listing.rows(), 3);
    assert_eq!(
        messages(&read),
        ["mac.csv:5:15: unknown licence value `Maybe` in Standard: expected `Assigned`, `Unassigned`, `Disabled` or empty"]
    );
}

#[test]
fn c3_past_ten_thousand_errors_the_rest_are_counted_and_the_tally_is_every_error() {
    let rows: String = (0..10_005).map(|i| format!("\"u{i}\",\"U\",\"\",\"Maybe\",\"\"\n")).collect();
    let f = Temp::new("many.csv", format!("{HEADER}{rows}").as_bytes());
    let out = turnstile(&["check", f.path()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 10_002, "10,000 errors, the line counting the rest, the tally");
    assert_eq!(lines[10_000], format!("{}: 5 more errors not shown", f.path()));
    assert_eq!(lines[10_001], format!("{}: 10005 errors; nothing can be imported", f.path()));
}

#[test]
fn c1_a_blank_line_in_the_middle_is_not_trailing_and_is_an_error() {
    let bytes = format!("{HEADER}\"a\",\"A\",\"a@x\",\"Assigned\",\"\"\n\n\"b\",\"B\",\"b@x\",\"\",\"\"\n");
    let read = read(bytes.as_bytes(), "x.csv");
    assert_eq!(read.errors.len(), 1, "{:?}", messages(&read));
    assert!(messages(&read)[0].starts_with("x.csv:3:1: wrong field count: blank line"), "{:?}", messages(&read));
}

// ------------------------------------------------------------------ C2

#[test]
fn c2_both_assigned_is_taken_as_inspections_with_a_warning() {
    let read = read(SEED_SAMPLE.as_bytes(), "s.csv");
    assert!(read.ok());
    let ralf = &users(&read)[2];
    assert_eq!(read.listing.lines()[2], 4);
    assert_eq!(ralf.held_license(), Some(LicenseType::Inspections));
    assert_eq!(ralf.standard, Selector::Unassigned);
    assert_eq!(ralf.inspections, Selector::Assigned);
    assert_eq!(read.warnings.len(), 1);
    assert!(read.warnings[0].starts_with("s.csv:4:78: warning: "), "{:?}", read.warnings);
    // Loaded as an organisation: two Inspections, one Standard.
    let state = loaded(&read.listing);
    let count = |l| state.users().iter().filter(|u| u.held_license() == Some(l)).count();
    assert_eq!((count(LicenseType::Standard), count(LicenseType::Inspections)), (1, 2));
}

// ------------------------------------------------------------------ C3

/// Checks `file` (given as text) with extra args; must exit 1 with exactly
/// these error lines (after replacing FILE with its path), then the tally.
fn check_fails(file: &str, extra: &[&str], expected: &[&str]) {
    let f = Temp::new("check.csv", file.as_bytes());
    let mut args = vec!["check", f.path()];
    args.extend_from_slice(extra);
    let out = turnstile(&args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| !l.contains(": warning: ")).collect();
    let mut want: Vec<String> = expected.iter().map(|e| e.replace("FILE", f.path())).collect();
    let noun = if expected.len() == 1 { "error" } else { "errors" };
    want.push(format!("{}: {} {noun}; nothing can be imported", f.path(), expected.len()));
    assert_eq!(errors, want);
    assert_eq!(text(&out.stdout), "", "nothing is reported as importable");
}

#[test]
fn c3_wrong_header_names_the_column() {
    check_fails(
        "\"Id\",\"Name\",\"Email\",\"Standard\",\"Inspections\"\n\"a\",\"A\",\"a@x\",\"\",\"\"\n",
        &[],
        &[
            "FILE:1:6: wrong header: column 2 is `Name`, expected `Full Name`; the header is \"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\"",
        ],
    );
    check_fails(
        "\"Id\",\"Full Name\",\"Email\",\"Standard\"\n",
        &[],
        &[
            "FILE:1:36: wrong header: missing column `Inspections`; the header is \"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\"",
        ],
    );
    check_fails(
        "",
        &[],
        &[
            "FILE:1:1: wrong header: the file is empty; expected \"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\"",
        ],
    );
}

#[test]
fn c3_every_row_error_is_listed_with_line_and_column() {
    let file = format!(
        "{HEADER}{}{}{}{}{}",
        "\"a\",\"A\",\"a@x\",\"Assigned\",\"\"\n",        // 2: fine
        "\"b\",\"B\",\"b@x\",\"Assigned\"\n",             // 3: four fields
        "\"c\",\"C\",\"c@x\",\"Yes\",\"\"\n",             // 4: unknown value at column 15
        "\"a\",\"A again\",\"a@x\",\"\",\"\"\n",          // 5: duplicate of line 2
        "\"d\",\"D, Jr.\",\"d@x\",\"\",\"\",\"extra\"\n", // 6: six fields, the sixth at column 26
    );
    check_fails(
        &file,
        &[],
        &[
            "FILE:3:25: wrong field count: expected 5 fields, found 4",
            "FILE:4:15: unknown licence value `Yes` in Standard: expected `Assigned`, `Unassigned`, `Disabled` or empty",
            "FILE:5:1: duplicate Id `a` (first on line 2)",
            "FILE:6:26: wrong field count: expected 5 fields, found 6",
        ],
    );
}

#[test]
fn c3_bad_instants_in_the_listing_columns() {
    let file = concat!(
        "\"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\",\"Last Sync\",\"External\"\n",
        "\"a\",\"A\",\"a@x\",\"Assigned\",\"\",\"2026-11-31T10:00:00Z\",\"false\"\n",
        "\"b\",\"B\",\"b@x\",\"\",\"\",\"yesterday\",\"maybe\"\n",
    );
    check_fails(
        file,
        &[],
        &[
            "FILE:2:29: bad instant in Last Sync: `2026-11-31T10:00:00Z` is not an RFC 3339 instant (no such date), e.g. 2026-11-22T10:00:00Z",
            "FILE:3:21: bad instant in Last Sync: `yesterday` is not an RFC 3339 instant (too short), e.g. 2026-11-22T10:00:00Z",
            "FILE:3:33: bad External value `maybe`: expected `true`, `false` or empty",
        ],
    );
}

#[test]
fn c3_unknown_ids_against_the_users_listing() {
    let file = format!(
        "{HEADER}\"1a75199f-a48b-40d4-b9bc-2ea05faa8197\",\"Matt Ford\",\"m@x\",\"\",\"Assigned\"\n\"nobody\",\"N\",\"n@x\",\"Assigned\",\"\"\n"
    );
    check_fails(
        &file,
        &["--users", "examples/users.csv"],
        &["FILE:3:1: unknown Id `nobody`: no such user in examples/users.csv"],
    );
}

#[test]
fn c3_more_assigned_than_purchased_says_how_many_over_per_type_from_the_engine() {
    let org = Temp::new("org.json", br#"{"licenses": {"standard": 1, "inspections": 1}}"#);
    let file = format!(
        "{HEADER}{}{}{}{}{}",
        "\"a\",\"A\",\"a@x\",\"Assigned\",\"\"\n",
        "\"b\",\"B\",\"b@x\",\"Assigned\",\"\"\n", // line 3: the second Standard, one over
        "\"c\",\"C\",\"c@x\",\"Assigned\",\"\"\n",
        "\"d\",\"D\",\"d@x\",\"\",\"Assigned\"\n",
        "\"e\",\"E\",\"e@x\",\"Assigned\",\"Assigned\"\n", // line 6: C2 makes it the second Inspections
    );
    check_fails(
        &file,
        &["--org", org.path()],
        &[
            "FILE:3:15: 3 standard licences assigned but 1 purchased (2 over)",
            "FILE:6:26: 2 inspections licences assigned but 1 purchased (1 over)",
        ],
    );
}

#[test]
fn c3_usage_errors_exit_2() {
    let out = turnstile(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    let out = turnstile(&["check", "no/such/file.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no/such/file.csv"), "{}", text(&out.stderr));
    let bad_org = Temp::new("bad-org.json", br#"{"licenses": {"standard": "two"}}"#);
    let out = turnstile(&["check", "examples/licenses.csv", "--org", bad_org.path()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("org.licenses.standard"), "{}", text(&out.stderr));
}

#[test]
fn c3_quoted_fields_keep_their_columns_across_commas_quotes_and_line_breaks() {
    let file = format!(
        "{HEADER}\"a\",\"Ford, \"\"Matt\"\"\",\"m@x\",\"\",\"Assigned\"\n\"b\",\"Two\nLines\",\"b@x\",\"Nope\",\"\"\n\"c\",\"C\",\"c\"x\",\"\",\"\"\n"
    );
    let read = read(file.as_bytes(), "q.csv");
    assert_eq!(users(&read)[0].name, "Ford, \"Matt\"");
    assert_eq!(
        messages(&read),
        vec![
            // The second record starts on line 3; its Standard cell is on line 4, column 14.
            "q.csv:4:14: unknown licence value `Nope` in Standard: expected `Assigned`, `Unassigned`, `Disabled` or empty",
            "q.csv:5:12: unexpected character after a closing quote: a quote inside a field is written `\"\"`",
        ]
    );
}

#[test]
fn reading_never_panics_on_any_prefix_or_damage() {
    let sample = example("examples/users.csv");
    for end in 0..sample.len() {
        let _ = read(&sample[..end], "p.csv");
    }
    let mut damaged = sample.clone();
    for (i, b) in [0xff, b'"', b',', b'\n', b'\r', 0x00].iter().cycle().take(400).enumerate() {
        let at = (i * 7919) % damaged.len();
        damaged[at] = *b;
        let _ = read(&damaged, "d.csv");
    }
    let read = read(b"\"Id\",\"Full Name\"\xff", "u.csv");
    assert_eq!(messages(&read), vec!["u.csv:1:17: not UTF-8 text: save the file as CSV UTF-8"]);
}

// ------------------------------------------------------------------ C4

#[test]
fn c4_import_is_all_or_nothing() {
    let listing = example("examples/users.csv");
    let org_json = std::fs::read_to_string(root().join("examples/org.json")).unwrap();
    for evaluator in [component(), Evaluator::Native] {
        // Anna and Bob get Standard: 5 holders of 3 purchased. Nothing is applied.
        let file = format!(
            "{HEADER}\"3f1c2b7a-5d44-4e0b-9a61-0c8e2f7d9b10\",\"Anna Nowak\",\"\",\"Assigned\",\"\"\n\"7b9e4d21-0a3c-4f5e-8d17-6e2c1a9f3b42\",\"Bob Ziel\",\"\",\"Assigned\",\"\"\n"
        );
        let errors = import(&evaluator, Some(&org_json), &listing, file.as_bytes()).unwrap_err();
        // Walking the imported population in order, Anna (line 2 of the file) is
        // the fourth Standard holder: the first over.
        assert_eq!(errors, vec!["import.csv:2:56: 5 standard licences assigned but 3 purchased (2 over)"]);

        // Freeing Ralf's and Gina's in the same file makes it fit: applied whole.
        let file = format!(
            "{file}\"1ac99e8f-824b-4b51-84ef-7ff55a555079\",\"Ralf Harper\",\"\",\"\",\"\"\n\"5c8a1e93-2b7f-4d06-a4e9-9f1d3c6b8e55\",\"Gina Lee\",\"\",\"\",\"\"\n"
        );
        let population = import(&evaluator, Some(&org_json), &listing, file.as_bytes()).unwrap();
        let standard: Vec<&str> = population
            .iter()
            .filter(|u| u.held_license() == Some(LicenseType::Standard))
            .map(|u| u.name.as_str())
            .collect();
        assert_eq!(standard, vec!["Pete Porter", "Anna Nowak", "Bob Ziel"]);

        // An empty cell leaves a red selector red; `Unassigned` makes it grey.
        let file = format!("{HEADER}\"2e7d5c49-8f1b-4a3e-9c62-4b0a8e1d7f74\",\"Sam Block\",\"\",\"\",\"Unassigned\"\n");
        let population = import(&evaluator, None, &listing, file.as_bytes()).unwrap();
        let sam = population.iter().find(|u| u.name == "Sam Block").unwrap();
        assert_eq!((sam.standard, sam.inspections), (Selector::Disabled, Selector::Unassigned));

        // An unknown Id changes nothing and is named.
        let file = format!("{HEADER}\"nobody\",\"N\",\"\",\"Assigned\",\"\"\n");
        let errors = import(&evaluator, None, &listing, file.as_bytes()).unwrap_err();
        assert_eq!(errors, vec!["import.csv:2:1: unknown Id `nobody`: no such user in users.csv"]);
    }
}

#[test]
fn c4_export_then_import_gives_back_the_same_licences() {
    let original = users(&read(&example("examples/users.csv"), "users.csv"));
    let state = loaded(&read(&example("examples/users.csv"), "users.csv").listing);
    let all = |state: &turnstile_policy::state::State| state.users().population(0, u32::MAX);
    // Export the licences, then import them onto a listing where everyone's
    // licences were changed: the original licences come back.
    let exported = listing::write_licenses(&all(&state), true);
    let file = read(exported.as_bytes(), "export.csv");
    assert!(file.ok() && file.warnings.is_empty(), "{:?}", messages(&file));
    assert!(exported.lines().all(|l| l.starts_with('"') && l.ends_with('"')), "every field quoted");
    let mut scrambled = original.clone();
    for u in &mut scrambled {
        u.standard = if u.standard == Selector::Disabled { Selector::Disabled } else { Selector::Unassigned };
        u.inspections = Selector::Unassigned;
    }
    scrambled[0].standard = Selector::Assigned;
    let scrambled = turnstile_policy::state::State::load(turnstile_policy::model::OrgState {
        settings: Settings { licenses: turnstile_policy::model::Licenses { standard: 9, inspections: 9, external: false }, ..Settings::default() },
        users: scrambled,
        groups: vec![],
        sessions: vec![],
    })
    .unwrap();
    let scrambled_listing = listing::write_listing(&all(&scrambled), true);
    let org_json = std::fs::read_to_string(root().join("examples/org.json")).unwrap();
    let back = import(&component(), Some(&org_json), scrambled_listing.as_bytes(), exported.as_bytes()).unwrap();
    assert_eq!(held(&back), held(&original));

    // The users listing round-trips every selector and column.
    let listed = listing::write_listing(&all(&state), true);
    let again = read(listed.as_bytes(), "listing.csv");
    assert!(again.ok() && again.warnings.is_empty());
    assert_eq!(users(&again), original);
    // Pages join up: the header once, then every user.
    let paged: String = (0..original.len() as u32).step_by(4).map(|first| listing::write_listing(&state.users().population(first, 4), first == 0)).collect();
    assert_eq!(paged, listed);
}

// ------------------------------------------------------------------ C5

/// A directory of its own for one test's files, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("turnstile-c5-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    fn file(&self, name: &str, content: &[u8]) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, content).unwrap();
        path.to_str().unwrap().to_string()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_string()
    }

    /// The names of the files in the directory, sorted.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(&self.0).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Each user's id and licence in a file, as read by the listing reader.
fn licences_in(path: &str) -> Vec<(String, Option<LicenseType>)> {
    let read = read(&std::fs::read(path).unwrap(), path);
    assert!(read.ok(), "{path}: {:?}", read.errors);
    held(&users(&read))
}

#[test]
fn c5_export_then_import_on_the_seed_sample_gives_back_the_same_licences() {
    let dir = Dir::new("round-trip");
    // The seed's sample, with the trailing blank line spreadsheets leave, is the listing.
    let users_csv = dir.file("users.csv", format!("{SEED_SAMPLE}\n").as_bytes());
    let original = licences_in(&users_csv);
    assert_eq!(
        original.iter().map(|(_, l)| *l).collect::<Vec<_>>(),
        [Some(LicenseType::Inspections), Some(LicenseType::Standard), Some(LicenseType::Inspections)],
        "Ralf's two `Assigned` are Inspections (C2)"
    );

    // Export to standard output and to a file: the same bytes, the seed's format.
    let out = turnstile(&["export", &users_csv]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let exported = text(&out.stdout);
    assert_eq!(
        exported,
        concat!(
            "\"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\"\n",
            "\"1a75199f-a48b-40d4-b9bc-2ea05faa8197\",\"Matt Ford\",\"someone51@example.com\",\"\",\"Assigned\"\n",
            "\"10ac88c8-2226-4a98-ae0c-b7f57df0c4d3\",\"Pete Porter\",\"someone57@example.com\",\"Assigned\",\"\"\n",
            "\"1ac99e8f-824b-4b51-84ef-7ff55a555079\",\"Ralf Harper\",\"someone54@example.com\",\"\",\"Assigned\"\n",
        )
    );
    assert!(text(&out.stderr).contains("warning: trailing blank line ignored"), "{}", text(&out.stderr));
    let licenses_csv = dir.path("licenses.csv");
    let out = turnstile(&["export", &users_csv, "--out", &licenses_csv]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&licenses_csv).unwrap(), exported);
    assert!(text(&out.stdout).contains("3 users exported; 1 standard and 2 inspections licences assigned"), "{}", text(&out.stdout));

    // Take every licence away (an import of empty cells), then import the export back.
    let empty = dir.file(
        "empty.csv",
        format!("{HEADER}\"1a75199f-a48b-40d4-b9bc-2ea05faa8197\",\"\",\"\",\"\",\"\"\n\"10ac88c8-2226-4a98-ae0c-b7f57df0c4d3\",\"\",\"\",\"\",\"\"\n\"1ac99e8f-824b-4b51-84ef-7ff55a555079\",\"\",\"\",\"\",\"\"\n").as_bytes(),
    );
    let out = turnstile(&["import", &empty, "--users", &users_csv]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(licences_in(&users_csv).iter().all(|(_, l)| l.is_none()), "every licence taken away");
    let org = dir.file("org.json", br#"{ "licenses": { "standard": 1, "inspections": 2 } }"#);
    let out = turnstile(&["import", &licenses_csv, "--users", &users_csv, "--org", &org]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("{licenses_csv}: 3 rows imported into {users_csv}; 1 standard and 2 inspections licences assigned\n")
    );
    assert_eq!(licences_in(&users_csv), original, "C4: the export imports back to the same licences");
    // The listing written is a users listing `check` accepts without a warning.
    let out = turnstile(&["check", &users_csv, "--org", &org]);
    assert_eq!((out.status.code(), text(&out.stderr).contains("warning")), (Some(0), false), "{}", text(&out.stderr));
    assert_eq!(dir.names(), ["empty.csv", "licenses.csv", "org.json", "users.csv"], "no file left behind");
}

#[test]
fn c5_a_refused_import_leaves_the_listing_byte_for_byte_untouched() {
    let dir = Dir::new("refused");
    let listing = example("examples/users.csv");
    let users_csv = dir.file("users.csv", &listing);
    let org = dir.file("org.json", &example("examples/org.json"));
    // Anna and Bob get Standard: 5 holders of the 3 purchased.
    let more = dir.file(
        "more.csv",
        format!("{HEADER}\"3f1c2b7a-5d44-4e0b-9a61-0c8e2f7d9b10\",\"Anna Nowak\",\"\",\"Assigned\",\"\"\n\"7b9e4d21-0a3c-4f5e-8d17-6e2c1a9f3b42\",\"Bob Ziel\",\"\",\"Assigned\",\"\"\n").as_bytes(),
    );
    let out_csv = dir.path("after.csv");
    for extra in [&[][..], &["--out", out_csv.as_str()][..]] {
        let mut args = vec!["import", more.as_str(), "--users", users_csv.as_str(), "--org", org.as_str()];
        args.extend_from_slice(extra);
        let out = turnstile(&args);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert_eq!(
            text(&out.stderr),
            format!("{more}:2:56: 5 standard licences assigned but 3 purchased (2 over)\n{more}: 1 error; nothing imported, {users_csv} unchanged\n"),
            "the column is the character column of Anna's Standard cell"
        );
        assert_eq!(out.stdout, b"");
        assert_eq!(std::fs::read(&users_csv).unwrap(), listing, "byte for byte untouched");
    }
    // An unknown Id and a bad --org are refused the same way; a bad --org is exit 2.
    let unknown = dir.file("unknown.csv", format!("{HEADER}\"nobody\",\"N\",\"\",\"Assigned\",\"\"\n").as_bytes());
    let out = turnstile(&["import", &unknown, "--users", &users_csv]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let bad_org = dir.file("bad-org.json", br#"{ "licenses": { "standard": "many" } }"#);
    let out = turnstile(&["import", &more, "--users", &users_csv, "--org", &bad_org]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&users_csv).unwrap(), listing);
    assert_eq!(dir.names(), ["bad-org.json", "more.csv", "org.json", "unknown.csv", "users.csv"], "nothing written, no stray file");
}

#[test]
fn c5_import_writes_only_the_named_users_changes_to_out() {
    let dir = Dir::new("out");
    let listing = example("examples/users.csv");
    let users_csv = dir.file("users.csv", &listing);
    let org = dir.file("org.json", &example("examples/org.json"));
    // Ralf's Standard goes to Anna; Sam's red selectors stay red under empty cells.
    let file = dir.file(
        "swap.csv",
        format!("{HEADER}\"1ac99e8f-824b-4b51-84ef-7ff55a555079\",\"Ralf Harper\",\"\",\"\",\"\"\n\"3f1c2b7a-5d44-4e0b-9a61-0c8e2f7d9b10\",\"Anna Nowak\",\"\",\"Assigned\",\"\"\n\"2e7d5c49-8f1b-4a3e-9c62-4b0a8e1d7f74\",\"Sam Block\",\"\",\"\",\"\"\n").as_bytes(),
    );
    let after = dir.path("after.csv");
    let out = turnstile(&["import", &file, "--users", &users_csv, "--org", &org, "--out", &after]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&users_csv).unwrap(), listing, "--out leaves --users as it was");
    let before = users(&read(&listing, "users.csv"));
    let now = users(&read(&std::fs::read(&after).unwrap(), "after.csv"));
    let changed: Vec<(&str, Selector, Selector)> = before
        .iter()
        .zip(&now)
        .filter(|(b, n)| (b.standard, b.inspections) != (n.standard, n.inspections))
        .map(|(_, n)| (n.name.as_str(), n.standard, n.inspections))
        .collect();
    assert_eq!(
        changed,
        [("Anna Nowak", Selector::Assigned, Selector::Unassigned), ("Ralf Harper", Selector::Unassigned, Selector::Unassigned)]
    );
    let sam = now.iter().find(|u| u.name == "Sam Block").unwrap();
    assert_eq!((sam.standard, sam.inspections), (Selector::Disabled, Selector::Disabled), "an empty cell never unblocks");
    // The other columns are kept.
    let bob = |users: &[User]| users.iter().find(|u| u.name == "Bob Ziel").map(|u| (u.last_sync, u.temporary_since)).unwrap();
    assert_eq!(bob(&now), bob(&before));
}

#[test]
fn c5_export_of_a_broken_listing_writes_nothing() {
    let dir = Dir::new("broken");
    let broken = dir.file("users.csv", format!("{HEADER}\"a\",\"A\",\"\",\"assigned\",\"\"\n").as_bytes());
    let out_csv = dir.path("out.csv");
    let out = turnstile(&["export", &broken, "--out", &out_csv]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).starts_with(&format!("{broken}:2:")), "{}", text(&out.stderr));
    assert!(text(&out.stderr).ends_with("1 error; nothing exported\n"), "{}", text(&out.stderr));
    assert_eq!(dir.names(), ["users.csv"], "no output file");
    let out = turnstile(&["export", &dir.path("missing.csv")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

// ------------------------------------------------------------------ what-if

const AT: &str = "2026-11-22T10:00:00Z";

/// `turnstile what-if` on the example listing and organisation, then `args`.
fn what_if(args: &[&str]) -> Output {
    let mut all = vec!["what-if", "--users", "examples/users.csv", "--org", "examples/org.json"];
    all.extend_from_slice(args);
    turnstile(&all)
}

/// The worked example of the README, by hand from rules.md. examples/org.json:
/// 3 Standard and 2 Inspections purchased, auto-assignment off; Standard is
/// held by Pete, Gina and Ralf (none free); not an Inspections project.
/// Every user syncs at 2026-11-22T10:00:00Z in row order.
///
/// Before (auto_assign off): Matt L3; Pete L4; Anna, new, pending: L9
/// temporary; Bob's temporary started 11-01, expired 11-15: L9
/// LICENSE_EXPIRED; Gina L4; Roland's temporary started 11-15, runs to
/// 11-29: L9 temporary; Sam both red: L5; Ralf L4; Eve external without the
/// External licence: L2.
///
/// After (auto_assign and auto_free on, inactive_days 90, cutoff 08-24):
/// Anna claims Standard (not an Inspections project); none free; the only
/// holder idle since before 08-24 is Ralf (07-01): L7 frees his and assigns
/// hers. Bob: none free; holders Pete 11-21, Gina 11-10, Anna now: L8.
/// Roland (Inspections red, so Standard): L8. Ralf, freed, now claims one: L8.
/// Matt, Pete, Gina, Sam and Eve decide as before.
#[test]
fn what_if_worked_by_hand_turning_on_auto_assign_and_auto_free() {
    let out = what_if(&["--set", "auto_assign=true", "--set", "auto_free=true", "--at", AT, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Standard error is a pipe here: no progress bar, no noise.
    assert_eq!(text(&out.stderr), "");
    let lines: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let side = |allow: bool, code: &str, license: Option<&str>, rule: &str| serde_json::json!({"allow": allow, "code": code, "license": license, "rule": rule});
    let changed = |id: &str, name: &str, before: serde_json::Value, after: serde_json::Value| serde_json::json!({"id": id, "name": name, "before": before, "after": after});
    let not_found = side(false, "LICENSE_NOT_FOUND", None, "L8");
    let expected = vec![
        changed(
            "3f1c2b7a-5d44-4e0b-9a61-0c8e2f7d9b10",
            "Anna Nowak",
            side(true, "OK", Some("temporary"), "L9"),
            side(true, "OK", Some("standard"), "L7"),
        ),
        changed(
            "7b9e4d21-0a3c-4f5e-8d17-6e2c1a9f3b42",
            "Bob Ziel",
            side(false, "LICENSE_EXPIRED", None, "L9"),
            not_found.clone(),
        ),
        changed(
            "9d2f6b18-4e3a-4c71-b5d8-2a7e0f4c6d63",
            "Roland Weiss",
            side(true, "OK", Some("temporary"), "L9"),
            not_found.clone(),
        ),
        changed(
            "1ac99e8f-824b-4b51-84ef-7ff55a555079",
            "Ralf Harper",
            side(true, "OK", Some("standard"), "L4"),
            not_found,
        ),
        serde_json::json!({"summary": {
            "before": {"inspections": 1, "standard": 3, "temporary": 2, "LICENSE_NOT_FOUND": 2, "LICENSE_EXPIRED": 1},
            "after": {"inspections": 1, "standard": 3, "temporary": 0, "LICENSE_NOT_FOUND": 5, "LICENSE_EXPIRED": 0},
            "changed": 4,
            "users": 9,
            "at": AT,
            "order": "one sync per user, in the file's row order",
        }}),
    ];
    assert_eq!(lines, expected);
}

#[test]
fn what_if_the_component_and_the_native_rules_agree_and_nothing_changes_without_set() {
    let settings = org(&std::fs::read_to_string(root().join("examples/org.json")).unwrap());
    let mut after = settings.clone();
    after.auto_assign = true;
    after.licenses.standard = 4;
    let host = |s: &Settings| -> turnstile::model::Settings { postcard::from_bytes(&postcard::to_allocvec(s).unwrap()).unwrap() };
    let path = root().join("examples/users.csv");
    let question = |after: &Settings| whatif::Question {
        users: &path,
        source: "users.csv".into(),
        org_source: "org.json".into(),
        before: host(&settings),
        after: host(after),
        changes: vec![],
        at: parse_rfc3339(AT).unwrap(),
    };
    let quiet = |_| {};
    let mut a = whatif::evaluate(&component(), question(&after), &quiet).unwrap();
    let mut b = whatif::evaluate(&Evaluator::Native, question(&after), &quiet).unwrap();
    assert_eq!(a.before, b.before);
    assert_eq!(a.after, b.after);
    let (mut la, mut lb) = (Vec::new(), Vec::new());
    a.write_after_listing(&mut la).unwrap();
    b.write_after_listing(&mut lb).unwrap();
    assert_eq!(la, lb, "the after-states are the same");
    // One free Standard: Anna (row 4) takes it by L6; nobody is freed, so
    // Ralf keeps his; Bob and Roland find none (L8).
    let rules: Vec<&str> = a.after.iter().map(|o| a.rule(o)).collect();
    assert_eq!(rules, vec!["L3", "L4", "L6", "L8", "L4", "L8", "L5", "L4", "L2"]);

    let same = whatif::evaluate(&component(), question(&settings), &quiet).unwrap();
    assert_eq!(same.comparison.changed.len(), 0);
}

#[test]
fn what_if_out_users_is_a_listing_check_accepts_and_that_imports_back_to_the_same_licences() {
    let out_users = Temp::new("after.csv", b"");
    let out = what_if(&[
        "--set",
        "auto_assign=true",
        "--set",
        "auto_free=true",
        "--at",
        AT,
        "--format",
        "csv",
        "--out-users",
        out_users.path(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 5, "{csv}");
    assert!(rows[0].starts_with("\"Id\",\"Full Name\",\"Line\",\"Before Allow\""));
    assert_eq!(
        rows[4],
        "\"1ac99e8f-824b-4b51-84ef-7ff55a555079\",\"Ralf Harper\",\"9\",\"true\",\"OK\",\"standard\",\"L4\",\"false\",\"LICENSE_NOT_FOUND\",\"\",\"L8\""
    );

    let check = turnstile(&["check", out_users.path(), "--users", "examples/users.csv", "--org", "examples/org.json"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    assert_eq!(text(&check.stderr), "", "no warnings for our own output");

    let written = std::fs::read(out_users.path()).unwrap();
    let imported = import(&component(), None, &example("examples/users.csv"), &written).unwrap();
    let names = |l| imported.iter().filter(|u| u.held_license() == Some(l)).map(|u| u.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(LicenseType::Standard), ["Pete Porter", "Anna Nowak", "Gina Lee"]);
    assert_eq!(names(LicenseType::Inspections), ["Matt Ford"]);
    let written = users(&read(&written, "after.csv"));
    assert_eq!(held(&imported), held(&written));
    // The after-state carries the syncs: Anna's licence was assigned and touched at --at.
    let anna = written.iter().find(|u| u.name == "Anna Nowak").unwrap();
    assert_eq!(anna.assigned_at, parse_rfc3339(AT).ok());
    assert_eq!(anna.last_sync, parse_rfc3339(AT).ok());
}

#[test]
fn what_if_table_states_the_row_order_and_lists_the_changed_users() {
    let out = what_if(&["--set", "auto_assign=true", "--at", AT]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.contains("One sync per user, in the file's row order"), "{table}");
    assert!(table.contains("after:  examples/org.json with auto_assign=true"), "{table}");
    // Without auto-free nobody's licence is taken: Anna, Bob, Roland change.
    assert!(table.contains("3 users' outcomes change:"), "{table}");
    assert!(!table.contains("Ralf Harper"), "{table}");
}

#[test]
fn what_if_refuses_bad_sets_bad_instants_and_bad_listings_with_their_place() {
    let refused = |args: &[&str], place: &str| {
        let out = what_if(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(text(&out.stdout), "");
        assert!(stderr.contains(place), "`{place}` not in {stderr}");
    };
    refused(&["--set", "licenses.gold=3"], "--set licenses.gold=3: licenses.gold: unknown field `gold`");
    refused(
        &["--set", "inactive_days=soon"],
        "--set inactive_days=soon: inactive_days: invalid type: string \"soon\", expected u32",
    );
    refused(&["--set", "auto_assign"], "--set auto_assign: expected KEY=VALUE");
    refused(&["--set", "plan=gold"], "examples/org.json with --set: org.plan: unknown plan `gold`");
    // Fewer licences than already held: the engine refuses the state, at the first row over.
    refused(
        &["--set", "licenses.standard=2"],
        "examples/users.csv:9:78: 3 standard licences assigned but 2 purchased (1 over)",
    );
    refused(&["--at", "2026-11-22"], "--at: `2026-11-22` is not an RFC 3339 instant");
    refused(&["--format", "xml"], "xml");
    let bad = Temp::new("bad-users.csv", format!("{HEADER}\"a\",\"A\",\"a@x\",\"Green\",\"\"\n").as_bytes());
    let out = turnstile(&["what-if", "--users", bad.path()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(&format!("{}:2:15: unknown licence value `Green`", bad.path())),
        "{}",
        text(&out.stderr)
    );
    // Text values that look like numbers are taken as text where the field is text.
    let out = what_if(&[
        "--set",
        "home_country_code=49",
        "--at",
        AT,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}
