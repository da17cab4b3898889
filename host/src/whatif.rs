//! What-if over a whole user population: "what happens to my users if I
//! change this?", answered by the policy before anything changes.
//!
//! The users listing is read once (natively, by the rules crate's reader),
//! then loaded into two sides at the same time, each on its own thread in its
//! own instance, a page of columns at a time: the organisation as given
//! (before) and with the `--set` changes (after). In each, every user syncs
//! once at the same
//! instant, in the file's row order, each decision applied before the next,
//! so auto-assignment and auto-free play out as they would: an earlier row
//! can take the last free licence, or free an inactive holder's licence,
//! before a later row syncs. The host never decides: every outcome is the
//! policy's, kept in six bytes per user and side; the report fetches ids and
//! names only for the users whose outcome changes.

use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant as Clock};

use turnstile_policy::json::{ObjectWriter, write_list};
use turnstile_policy::listing::{Comparison, write_record};
use turnstile_policy::model::Named;

use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};

use turnstile_policy::listing::Listing;

use crate::error::{Error, Result};
use crate::instance::{Evaluator, Instance, OrgId, host_population};
use crate::licenses;
use crate::model::{
    Channel, Code, Diagnostic, Event, EventKind, GrantedLicense, Instant, Population, Problem, Remedy, Settings, SyncEvent,
};

/// Syncs decided per call into the policy.
pub const BATCH: u32 = 1 << 16;

/// The question: a population, the organisation before and after, and when.
pub struct Question<'a> {
    /// The users listing.
    pub users: &'a Path,
    /// Its name, for messages and the report.
    pub source: String,
    /// Where the organisation came from (`--org` file, or the defaults).
    pub org_source: String,
    pub before: Settings,
    pub after: Settings,
    /// The `--set` changes as given, for the report.
    pub changes: Vec<String>,
    /// The instant every user syncs at.
    pub at: Instant,
}

/// What one sync came to, as the report compares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub allow: bool,
    pub code: Code,
    pub license: Option<GrantedLicense>,
    /// Index into [`Answer::rules`].
    rule: u16,
}

/// A step of the work, for a progress display.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// `before` or `after`.
    pub side: &'static str,
    /// `reading`, `loading` or `syncing`.
    pub phase: &'static str,
    pub done: u64,
    pub total: u64,
}

/// Both sides' outcomes, one per user in row order, and what changed.
pub struct Answer {
    pub source: String,
    pub org_source: String,
    pub changes: Vec<String>,
    pub at: Instant,
    pub before: Vec<Outcome>,
    pub after: Vec<Outcome>,
    rules: Vec<String>,
    /// The line each user's row starts on.
    pub lines: Vec<u32>,
    pub comparison: Comparison,
    /// The listing's warnings (C1, C2).
    pub warnings: Vec<Diagnostic>,
    /// The after side's organisation: names for the report, the listing for `--out-users`.
    after_side: (Instance, OrgId),
    /// Wall time of each phase, for benchmarks.
    pub timings: Vec<(String, Duration)>,
    /// `--explain`: for each user whose outcome gets worse, by position,
    /// the cheapest remedy (`None`: none the policy could verify). Filled by
    /// [`Answer::explain_worse`]; empty until then.
    remedies: std::collections::HashMap<u32, Option<Remedy>>,
    /// [`Answer::explain_worse`] was asked.
    explained: bool,
}

/// One side's syncs, done on its own thread.
struct Side {
    instance: Instance,
    org: OrgId,
    outcomes: Vec<Outcome>,
    rules: Vec<String>,
    took: Duration,
}

/// Evaluates both sides at once; `progress` hears from both threads.
///
/// Three threads: this one reads the listing and hands each page of rows to
/// the two sides as soon as it is read; each side loads the pages into its
/// own instance. Once both are loaded the listing is dropped (only the
/// lines stay) and the two sides sync their users at the same time.
pub fn evaluate(evaluator: &Evaluator, q: Question, progress: &(dyn Fn(Progress) + Sync)) -> Result<Answer> {
    let started = Clock::now();
    let bytes = std::fs::metadata(q.users).map(|m| m.len()).unwrap_or(0);
    let (read, before, after) = std::thread::scope(|scope| {
        let (to_before, before_pages) = sync_channel::<Arc<Population>>(2);
        let (to_after, after_pages) = sync_channel::<Arc<Population>>(2);
        let q = &q;
        let before = scope.spawn(move || loading(evaluator, before_pages, &q.before, bytes));
        let after = scope.spawn(move || loading(evaluator, after_pages, &q.after, bytes));
        let mut read_rows = 0u64;
        let read = licenses::read_in_pages(q.users, licenses::PAGE, |page| {
            read_rows += page.ends.len() as u64 / 3;
            progress(Progress { side: "both", phase: "reading", done: read_rows, total: bytes / 100 });
            let page = Arc::new(host_population(page));
            // A side that failed no longer listens; the other goes on.
            let _ = to_before.send(page.clone());
            let _ = to_after.send(page);
        });
        drop((to_before, to_after));
        let join = |h: std::thread::ScopedJoinHandle<Result<Loaded>>| {
            h.join().unwrap_or_else(|_| Err(Error::policy("loading stopped unexpectedly")))
        };
        (read, join(before), join(after))
    });
    let read = read?;
    if !read.errors.is_empty() {
        let lines: Vec<String> = read.errors.iter().map(|d| crate::error::Line(d).to_string()).collect();
        return Err(Error::input(&q.source, format!("the users listing can't be used:\n{}", lines.join("\n"))));
    }
    let mut timings = vec![("read and load".to_string(), started.elapsed())];
    let after_source = format!("{} with --set", q.org_source);
    let (before, after) = (
        placed(before?, &read.listing, &q, &q.before, &q.org_source, "before")?,
        placed(after?, &read.listing, &q, &q.after, &after_source, "after")?,
    );
    let lines = read.listing.lines();
    let warnings = read.warnings;
    drop(read.listing);
    let count = lines.len() as u32;
    let (before, after) = std::thread::scope(|scope| {
        let q = &q;
        let b = scope.spawn(move || syncs(before, q.at, count, "before", progress));
        let a = syncs(after, q.at, count, "after", progress);
        (b.join().unwrap_or_else(|_| Err(Error::policy("the before side stopped unexpectedly"))), a)
    });
    let (before, after) = (before?, after?);
    let key = |o: &Outcome| (o.allow, native_code(o.code), o.license.map(native_license));
    // Each side numbered the rules it met in its own order: one numbering for both.
    let mut rules = before.rules;
    let renumber: Vec<u16> = after.rules.iter().map(|r| intern(&mut rules, r)).collect();
    let after_outcomes: Vec<Outcome> =
        after.outcomes.iter().map(|o| Outcome { rule: renumber[usize::from(o.rule)], ..*o }).collect();
    let comparison = turnstile_policy::listing::compare(&before.outcomes, &after_outcomes, key);
    timings.push(("syncs before".into(), before.took));
    timings.push(("syncs after".into(), after.took));
    timings.push(("total".into(), started.elapsed()));
    Ok(Answer {
        source: q.source,
        org_source: q.org_source,
        changes: q.changes,
        at: q.at,
        before: before.outcomes,
        after: after_outcomes,
        rules,
        lines,
        comparison,
        warnings,
        after_side: (after.instance, after.org),
        timings,
        remedies: Default::default(),
        explained: false,
    })
}

/// A side loaded: its instance, and its organisation or the problems found.
struct Loaded {
    instance: Instance,
    loaded: std::result::Result<OrgId, Vec<Problem>>,
}

/// Loads the pages as they come into a new instance under `settings`.
fn loading(evaluator: &Evaluator, pages: Receiver<Arc<Population>>, settings: &Settings, bytes: u64) -> Result<Loaded> {
    let mut instance = evaluator.instance()?;
    let loader = instance.loader(settings)?;
    // A listing's row is a hundred bytes or so, two thirds of it texts.
    instance.expect(loader, (bytes / 100).min(u64::from(u32::MAX)) as u32, bytes * 2 / 3)?;
    for page in pages {
        instance.add_population(loader, &page)?;
    }
    let loaded = instance.finish_loader(loader)?;
    Ok(Loaded { instance, loaded })
}

/// A loaded side, or its problems placed at the listing's rows.
fn placed(side: Loaded, listing: &Listing, q: &Question, settings: &Settings, org_source: &str, name: &str) -> Result<(Instance, OrgId)> {
    match side.loaded {
        Ok(org) => Ok((side.instance, org)),
        Err(problems) => {
            let e = licenses::placed(listing, &problems, settings, org_source)?;
            let mut message = format!("the users can't be loaded:\n{e}");
            if q.org_source == crate::DEFAULT_ORG {
                message.push_str("\n(no --org given: the default organisation has no purchased licences)");
            }
            Err(Error::input(format!("the organisation {name} the change"), message))
        }
    }
}

/// The number of rule `name` in `rules`, added if new.
fn intern(rules: &mut Vec<String>, name: &str) -> u16 {
    match rules.iter().position(|r| r == name) {
        Some(i) => i as u16,
        None => {
            rules.push(name.to_string());
            (rules.len() - 1) as u16
        }
    }
}

/// Every user syncs once at `at`, in order, a batch at a time.
fn syncs(side: (Instance, OrgId), at: Instant, count: u32, name: &'static str, progress: &(dyn Fn(Progress) + Sync)) -> Result<Side> {
    let started = Clock::now();
    let (mut instance, org) = side;
    let mut outcomes = Vec::with_capacity(count as usize);
    let mut rules: Vec<String> = Vec::new();
    let mut first = 0;
    while first < count {
        let batch = instance.sync_users(org, at, Channel::Mobile, first, BATCH)?;
        let renumber: Vec<u16> = batch.rules.iter().map(|r| intern(&mut rules, r)).collect();
        for o in batch.items {
            let rule = renumber.get(usize::from(o.rule)).copied().unwrap_or(u16::MAX);
            outcomes.push(Outcome { allow: o.allow, code: o.code, license: o.license, rule });
        }
        first = first.saturating_add(BATCH);
        progress(Progress { side: name, phase: "syncing", done: u64::from(first.min(count)), total: u64::from(count) });
    }
    Ok(Side { instance, org, outcomes, rules, took: started.elapsed() })
}

/// The rules crate's code for the host's (the same WIT enum, the same order).
fn native_code(code: Code) -> turnstile_policy::model::Code {
    turnstile_policy::model::Code::ALL[code as usize]
}

fn native_license(license: GrantedLicense) -> turnstile_policy::model::GrantedLicense {
    turnstile_policy::model::GrantedLicense::ALL[license as usize]
}

fn code_name(code: Code) -> &'static str {
    native_code(code).name()
}

fn license_name(license: GrantedLicense) -> &'static str {
    native_license(license).name()
}

impl Answer {
    pub fn rule(&self, o: &Outcome) -> &str {
        self.rules.get(usize::from(o.rule)).map_or("", String::as_str)
    }

    pub fn users(&self) -> usize {
        self.before.len()
    }

    /// The changed users, a page at a time: position, line, id and name.
    fn changed_pages(&mut self, mut each: impl FnMut(&Answer, u32, u32, &str, &str) -> io::Result<()>) -> Result<()> {
        let changed = self.comparison.changed.clone();
        for page in changed.chunks(BATCH as usize) {
            let (instance, org) = &mut self.after_side;
            let names = instance.user_names(*org, page)?;
            for (&i, n) in page.iter().zip(&names) {
                let line = self.lines.get(i as usize).copied().unwrap_or(0);
                each(self, i, line, &n.id, &n.name).map_err(|e| Error::output("standard output", e))?;
            }
        }
        Ok(())
    }

    /// Whether the user at `i` is allowed before and denied after.
    pub fn gets_worse(&self, i: u32) -> bool {
        let (b, a) = (&self.before[i as usize], &self.after[i as usize]);
        b.allow && !a.allow
    }

    /// `--explain`: the cheapest remedy (the policy's first, smallest) for
    /// every user whose outcome gets worse, asked of the after side as it
    /// stands once every user has synced: that user's sync at the same
    /// instant, explained by the policy (`org.explain`), which tries each
    /// remedy on that state before it offers it. The reports then show it.
    pub fn explain_worse(&mut self) -> Result<()> {
        self.explained = true;
        let worse: Vec<u32> = self.comparison.changed.iter().copied().filter(|&i| self.gets_worse(i)).collect();
        let (instance, org) = &mut self.after_side;
        for page in worse.chunks(BATCH as usize) {
            let names = instance.user_names(*org, page)?;
            for (&i, n) in page.iter().zip(&names) {
                let sync = Event { at: self.at, kind: EventKind::Sync(SyncEvent { user: n.id.clone(), channel: Channel::Mobile }) };
                let cheapest = instance.explain(*org, &sync)?.into_iter().next();
                self.remedies.insert(i, cheapest);
            }
        }
        Ok(())
    }

    /// The cheapest remedy's sentence for the user at `i`, when
    /// [`Answer::explain_worse`] asked for one: `Some("")` when there is none.
    fn remedy_text(&self, i: u32) -> Option<&str> {
        self.remedies.get(&i).map(|r| r.as_ref().map_or("", |r| r.summary.as_str()))
    }

    /// The after side's users as a users listing (`--out-users`).
    pub fn write_after_listing(&mut self, out: &mut dyn Write) -> Result<()> {
        let (instance, org) = &mut self.after_side;
        let count = instance.user_count(*org)?;
        let mut first = 0;
        loop {
            let page = crate::instance::native_population(instance.population(*org, first, BATCH)?);
            let text = turnstile_policy::listing::write_listing(&page, first == 0);
            out.write_all(text.as_bytes()).map_err(|e| Error::output("--out-users", e))?;
            first = first.saturating_add(BATCH);
            if first >= count {
                return Ok(());
            }
        }
    }

    /// `--format json`: one line per changed user, then the summary line.
    pub fn write_json(&mut self, out: &mut dyn Write) -> Result<()> {
        // One line per changed user, built in one buffer (hundreds of thousands of lines).
        let side = |line: &mut String, a: &Answer, o: &Outcome| {
            let mut w = ObjectWriter::new(line);
            w.bool("allow", o.allow).str("code", code_name(o.code));
            match o.license {
                Some(l) => w.str("license", license_name(l)),
                None => w.raw("license", "null"),
            };
            w.str("rule", a.rule(o));
            w.end();
        };
        let mut line = String::new();
        self.changed_pages(|a, i, _line, id, name| {
            line.clear();
            let mut w = ObjectWriter::new(&mut line);
            w.str("id", id).str("name", name);
            side(w.key("before"), a, &a.before[i as usize]);
            side(w.key("after"), a, &a.after[i as usize]);
            if let Some(remedy) = a.remedies.get(&i) {
                match remedy {
                    Some(r) => write_remedy(w.key("remedy"), r),
                    None => {
                        w.raw("remedy", "null");
                    }
                }
            }
            w.end();
            line.push('\n');
            out.write_all(line.as_bytes())
        })?;
        let counts = |pick: fn(&(&'static str, u32, u32)) -> u32| {
            let parts: Vec<String> =
                self.comparison.counts.iter().map(|c| format!("{}:{}", json_string(c.0), pick(c))).collect();
            format!("{{{}}}", parts.join(","))
        };
        let line = format!(
            "{{\"summary\":{{\"before\":{},\"after\":{},\"changed\":{},\"users\":{},\"at\":{},\"order\":{}}}}}",
            counts(|c| c.1),
            counts(|c| c.2),
            self.comparison.changed.len(),
            self.users(),
            json_string(&turnstile_policy::calendar::format_rfc3339(self.at)),
            json_string("one sync per user, in the file's row order"),
        );
        writeln!(out, "{line}").map_err(|e| Error::output("standard output", e))
    }

    /// `--format csv`: the changed users, every field quoted.
    pub fn write_csv(&mut self, out: &mut dyn Write) -> Result<()> {
        let explained = self.explained;
        let mut header = String::new();
        let mut columns = vec![
                "Id",
                "Full Name",
                "Line",
                "Before Allow",
                "Before Code",
                "Before License",
                "Before Rule",
                "After Allow",
                "After Code",
                "After License",
                "After Rule",
        ];
        if explained {
            columns.push("Cheapest Remedy");
        }
        write_record(&mut header, columns);
        out.write_all(header.as_bytes()).map_err(|e| Error::output("standard output", e))?;
        self.changed_pages(|a, i, line, id, name| {
            let (b, af) = (&a.before[i as usize], &a.after[i as usize]);
            let lic = |o: &Outcome| o.license.map_or("", license_name);
            let (line, ba, aa) = (line.to_string(), b.allow.to_string(), af.allow.to_string());
            let mut record = String::new();
            let mut fields =
                vec![id, name, &line, &ba, code_name(b.code), lic(b), a.rule(b), &aa, code_name(af.code), lic(af), a.rule(af)];
            if explained {
                fields.push(a.remedy_text(i).unwrap_or(""));
            }
            write_record(&mut record, fields);
            out.write_all(record.as_bytes())
        })
    }

    /// `--format table`: a readable summary, then the changed users.
    pub fn write_table(&mut self, out: &mut dyn Write) -> Result<()> {
        let w = |e: io::Error| Error::output("standard output", e);
        let changes = if self.changes.is_empty() { "no changes".to_string() } else { self.changes.join(", ") };
        let at = turnstile_policy::calendar::format_rfc3339(self.at);
        writeln!(out, "What-if for {} users of {} at {at}", self.users(), self.source).map_err(w)?;
        writeln!(out, "One sync per user, in the file's row order, under each organisation:").map_err(w)?;
        writeln!(out, "  before: {}", self.org_source).map_err(w)?;
        writeln!(out, "  after:  {} with {changes}", self.org_source).map_err(w)?;
        writeln!(out).map_err(w)?;
        let rows = &self.comparison.counts;
        let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max("outcome".len());
        writeln!(out, "{:<width$}  {:>9}  {:>9}  {:>9}", "outcome", "before", "after", "change").map_err(w)?;
        for (name, b, a) in rows {
            let delta = i64::from(*a) - i64::from(*b);
            let delta = if delta == 0 { "0".to_string() } else { format!("{delta:+}") };
            writeln!(out, "{name:<width$}  {b:>9}  {a:>9}  {delta:>9}").map_err(w)?;
        }
        writeln!(out).map_err(w)?;
        let n = self.comparison.changed.len();
        if n == 0 {
            return writeln!(out, "No user's outcome changes.").map_err(w);
        }
        let noun = if n == 1 { "user's outcome changes" } else { "users' outcomes change" };
        writeln!(out, "{n} {noun}:").map_err(w)?;
        // Column widths need every row: the table is for people, so it is built whole.
        let mut table: Vec<[String; 5]> = vec![["line".into(), "id".into(), "name".into(), "before".into(), "after".into()]];
        let describe = |a: &Answer, o: &Outcome| match (o.allow, o.license) {
            (true, Some(l)) => format!("allow {} ({})", license_name(l), a.rule(o)),
            _ => format!("deny {} ({})", code_name(o.code), a.rule(o)),
        };
        let mut remedies: Vec<(usize, String)> = Vec::new();
        self.changed_pages(|a, i, line, id, name| {
            let (b, af) = (&a.before[i as usize], &a.after[i as usize]);
            table.push([line.to_string(), id.to_string(), name.to_string(), describe(a, b), describe(a, af)]);
            if let Some(text) = a.remedy_text(i) {
                let text = if text.is_empty() { "no remedy the policy could verify" } else { text };
                remedies.push((table.len() - 1, format!("remedy: {text}")));
            }
            Ok(())
        })?;
        let mut widths = [0usize; 5];
        for row in &table {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut remedies = remedies.into_iter().peekable();
        for (row, [line, id, name, before, after]) in table.iter().enumerate() {
            let [w0, w1, w2, w3, _] = widths;
            writeln!(out, "{line:>w0$}  {id:<w1$}  {name:<w2$}  {before:<w3$}  {after}").map_err(w)?;
            if let Some((_, text)) = remedies.next_if(|(r, _)| *r == row) {
                writeln!(out, "{:>w0$}  {text}", "").map_err(w)?;
            }
        }
        Ok(())
    }
}

/// A remedy as `--format json` writes it: its sentence and its events, as a
/// scenario writes them (`docs/scenario.md`).
fn write_remedy(out: &mut String, r: &Remedy) {
    let mut w = ObjectWriter::new(out);
    w.str("summary", &r.summary);
    let events: Vec<turnstile_policy::model::Event> =
        r.events.iter().filter_map(|e| crate::instance::native_event(e).ok()).collect();
    write_list(w.key("events"), &events, turnstile_policy::scenario::write_event);
    w.end();
}

fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    turnstile_policy::json::write_str(&mut out, text);
    out
}
