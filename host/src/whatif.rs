//! What-if over a whole user population: "what happens to my users if I
//! change this?", answered by the policy before anything changes.
//!
//! The users listing is read once and streamed to two sides at the same
//! time, each on its own thread in its own instance: the organisation as
//! given (before) and with the `--set` changes (after). In each, the rows
//! are loaded as an organisation, then every user syncs once at the same
//! instant, in the file's row order, each decision applied before the next,
//! so auto-assignment and auto-free play out as they would: an earlier row
//! can take the last free licence, or free an inactive holder's licence,
//! before a later row syncs. The host never decides: every outcome is the
//! policy's, kept in six bytes per user and side; the report fetches ids and
//! names only for the users whose outcome changes.

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::time::{Duration, Instant as Clock};

use turnstile_policy::listing::{Comparison, write_record};
use turnstile_policy::model::Named;

use crate::error::{Error, Result};
use crate::files;
use crate::instance::{Evaluator, Instance, OrgId};
use crate::model::{Channel, Code, Diagnostic, GrantedLicense, Instant, Settings, Severity};

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
}

/// One side's work, done on its own thread.
struct Side {
    instance: Instance,
    org: OrgId,
    outcomes: Vec<Outcome>,
    rules: Vec<String>,
    lines: Vec<u32>,
    warnings: Vec<Diagnostic>,
    timings: Vec<(String, Duration)>,
}

/// Evaluates both sides at once; `progress` hears from both threads.
pub fn evaluate(evaluator: &Evaluator, q: Question, progress: &(dyn Fn(Progress) + Sync)) -> Result<Answer> {
    let started = Clock::now();
    let total = std::fs::metadata(q.users).map(|m| m.len()).unwrap_or(0);
    let after_source = format!("{} with --set", q.org_source);
    let (before, after) = std::thread::scope(|scope| {
        let (to_before, from_main_b) = sync_channel::<Arc<[u8]>>(4);
        let (to_after, from_main_a) = sync_channel::<Arc<[u8]>>(4);
        let q = &q;
        let before = scope.spawn(move || side(evaluator, from_main_b, q, &q.before, &q.org_source, "before", progress));
        let after = scope.spawn(|| side(evaluator, from_main_a, q, &q.after, &after_source, "after", progress));
        let mut done = 0u64;
        let read = files::stream(q.users, |chunk| {
            let chunk: Arc<[u8]> = Arc::from(chunk);
            done += chunk.len() as u64;
            progress(Progress { side: "both", phase: "reading", done, total });
            // A side that stopped (a bad listing) no longer listens.
            let b = to_before.send(chunk.clone()).is_ok();
            let a = to_after.send(chunk).is_ok();
            Ok(a || b)
        });
        drop((to_before, to_after));
        let (before, after) = (before.join(), after.join());
        read.map(|()| (before, after))
    })?;
    let joined = |side: std::thread::Result<Result<Side>>| {
        side.unwrap_or_else(|_| Err(Error::policy("a what-if side stopped unexpectedly")))
    };
    let (before, after) = (joined(before)?, joined(after)?);
    let key = |o: &Outcome| (o.allow, native_code(o.code), o.license.map(native_license));
    // Each side numbered the rules it met in its own order: one numbering for both.
    let mut rules = before.rules;
    let renumber: Vec<u16> = after.rules.iter().map(|r| intern(&mut rules, r)).collect();
    let after_outcomes: Vec<Outcome> =
        after.outcomes.iter().map(|o| Outcome { rule: renumber[usize::from(o.rule)], ..*o }).collect();
    let comparison = turnstile_policy::listing::compare(&before.outcomes, &after_outcomes, key);
    let mut timings = before.timings;
    timings.extend(after.timings);
    timings.push(("total".into(), started.elapsed()));
    Ok(Answer {
        source: q.source,
        org_source: q.org_source,
        changes: q.changes,
        at: q.at,
        before: before.outcomes,
        after: after_outcomes,
        rules,
        lines: before.lines,
        comparison,
        warnings: before.warnings,
        after_side: (after.instance, after.org),
        timings,
    })
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

fn side(
    evaluator: &Evaluator,
    chunks: Receiver<Arc<[u8]>>,
    q: &Question,
    settings: &Settings,
    org_source: &str,
    name: &'static str,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Side> {
    let mut timings = Vec::new();
    let mut clock = Clock::now();
    let mut lap = |phase: &str, timings: &mut Vec<(String, Duration)>| {
        timings.push((format!("{phase} {name}"), clock.elapsed()));
        clock = Clock::now();
    };
    let mut instance = evaluator.instance()?;
    let listing = instance.listing(&q.source)?;
    let mut reading = true;
    for chunk in chunks {
        if reading {
            reading = instance.feed(listing, &chunk)?;
        }
    }
    let diagnostics = instance.finish(listing)?;
    let (warnings, errors): (Vec<Diagnostic>, Vec<Diagnostic>) =
        diagnostics.into_iter().partition(|d| d.severity != Severity::Error);
    if !errors.is_empty() {
        let lines: Vec<String> = errors.iter().map(|d| crate::error::Line(d).to_string()).collect();
        return Err(Error::input(&q.source, format!("the users listing can't be used:\n{}", lines.join("\n"))));
    }
    let lines = instance.lines(listing)?;
    lap("read", &mut timings);
    progress(Progress { side: name, phase: "loading", done: 0, total: lines.len() as u64 });
    let org = instance.load_listing(listing, Some(settings), org_source).map_err(|e| {
        let mut message = format!("the users can't be loaded:\n{e}");
        if q.org_source == crate::DEFAULT_ORG {
            message.push_str("\n(no --org given: the default organisation has no purchased licences)");
        }
        Error::input(format!("the organisation {name} the change"), message)
    })?;
    lap("load", &mut timings);
    let count = lines.len() as u32;
    let mut outcomes = Vec::with_capacity(lines.len());
    let mut rules: Vec<String> = Vec::new();
    let mut first = 0;
    while first < count {
        let batch = instance.sync_users(org, q.at, Channel::Mobile, first, BATCH)?;
        for o in batch {
            let rule = intern(&mut rules, &o.rule);
            outcomes.push(Outcome { allow: o.allow, code: o.code, license: o.license, rule });
        }
        first = first.saturating_add(BATCH);
        progress(Progress { side: name, phase: "syncing", done: u64::from(first.min(count)), total: u64::from(count) });
    }
    lap("syncs", &mut timings);
    Ok(Side { instance, org, outcomes, rules, lines, warnings, timings })
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

    /// The after side's users as a users listing (`--out-users`).
    pub fn write_after_listing(&mut self, out: &mut dyn Write) -> Result<()> {
        let (instance, org) = &mut self.after_side;
        let count = instance.user_count(*org)?;
        let mut first = 0;
        loop {
            let text = instance.write_listing(*org, first, BATCH)?;
            out.write_all(text.as_bytes()).map_err(|e| Error::output("--out-users", e))?;
            first = first.saturating_add(BATCH);
            if first >= count {
                return Ok(());
            }
        }
    }

    /// `--format json`: one line per changed user, then the summary line.
    pub fn write_json(&mut self, out: &mut dyn Write) -> Result<()> {
        let side = |a: &Answer, o: &Outcome| {
            let license = o.license.map_or("null".to_string(), |l| format!("\"{}\"", license_name(l)));
            format!(
                "{{\"allow\":{},\"code\":\"{}\",\"license\":{license},\"rule\":{}}}",
                o.allow,
                code_name(o.code),
                json_string(a.rule(o))
            )
        };
        self.changed_pages(|a, i, _line, id, name| {
            let (b, af) = (&a.before[i as usize], &a.after[i as usize]);
            writeln!(
                out,
                "{{\"id\":{},\"name\":{},\"before\":{},\"after\":{}}}",
                json_string(id),
                json_string(name),
                side(a, b),
                side(a, af)
            )
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
        let mut header = String::new();
        write_record(
            &mut header,
            [
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
            ],
        );
        out.write_all(header.as_bytes()).map_err(|e| Error::output("standard output", e))?;
        self.changed_pages(|a, i, line, id, name| {
            let (b, af) = (&a.before[i as usize], &a.after[i as usize]);
            let lic = |o: &Outcome| o.license.map_or("", license_name);
            let (line, ba, aa) = (line.to_string(), b.allow.to_string(), af.allow.to_string());
            let mut record = String::new();
            write_record(
                &mut record,
                [id, name, &line, &ba, code_name(b.code), lic(b), a.rule(b), &aa, code_name(af.code), lic(af), a.rule(af)],
            );
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
        self.changed_pages(|a, i, line, id, name| {
            let (b, af) = (&a.before[i as usize], &a.after[i as usize]);
            table.push([line.to_string(), id.to_string(), name.to_string(), describe(a, b), describe(a, af)]);
            Ok(())
        })?;
        let mut widths = [0usize; 5];
        for row in &table {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for [line, id, name, before, after] in &table {
            let [w0, w1, w2, w3, _] = widths;
            writeln!(out, "{line:>w0$}  {id:<w1$}  {name:<w2$}  {before:<w3$}  {after}").map_err(w)?;
        }
        Ok(())
    }
}

fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    turnstile_policy::json::write_str(&mut out, text);
    out
}
