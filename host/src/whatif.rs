//! What-if over a whole user population: "what happens to my users if I
//! change this?", answered by the policy component before anything changes.
//!
//! The population (a users listing, see [`crate::roster`]) is loaded twice
//! with one `org.load` each: under the organisation as given (before) and
//! with the `--set` changes (after). In each, every user syncs once at the
//! same instant, in the file's row order, through `step`, so each side keeps
//! its own state and auto-assignment and auto-free play out as they would:
//! an earlier row can take the last free licence, or free an inactive
//! holder's licence, before a later row syncs. The host never decides: every
//! outcome is a component decision, reduced to allow, code, licence and rule.
//!
//! Memory grows linearly: the users once on the host (moved, not copied,
//! into each load), a few bytes of outcome per user and side, and the
//! component's own state. Auto-free candidates come from the engine's
//! ordered index (`State::oldest_inactive_holder`), never a rescan.

use std::collections::BTreeMap;
use std::io::{self, Write};

use indicatif::ProgressBar;
use serde_json::{Map, Value, json};
use turnstile_policy::calendar::format_rfc3339;
use turnstile_policy::model::{
    Channel, Code, Event, EventKind, GrantedLicense, Instant, Named, OrgState, Settings, SyncEvent, User,
};

use crate::error::{Error, Result};
use crate::policy::Evaluator;
use crate::roster;
use crate::scenario::OrgFile;

/// The question: a population, the organisation before and after, and when.
pub struct Question {
    /// The users listing's name, for messages.
    pub source: String,
    /// The users, in the file's row order.
    pub users: Vec<User>,
    /// The file line of each user.
    pub lines: Vec<usize>,
    /// Where the organisation came from (`--org` file, or "defaults").
    pub org_source: String,
    pub before: Settings,
    pub after: Settings,
    /// The `--set` changes as given, for the report.
    pub changes: Vec<String>,
    /// The instant every user syncs at.
    pub at: Instant,
}

/// What one sync decided, reduced to what the report compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub allow: bool,
    pub code: Code,
    pub license: Option<GrantedLicense>,
    /// Index into [`Answer::rules`].
    rule: u16,
}

/// Both sides' outcomes, one per user in row order.
pub struct Answer {
    pub question: Question,
    pub before: Vec<Outcome>,
    pub after: Vec<Outcome>,
    /// Rule names the outcomes refer to.
    rules: Vec<String>,
    /// The after-state's users, when asked for (`--out-users`).
    pub after_users: Option<Vec<User>>,
    /// Wall time of each phase (`load before`, `syncs before`, ...), for benchmarks.
    pub timings: Vec<(String, std::time::Duration)>,
}

impl Answer {
    pub fn rule(&self, o: &Outcome) -> &str {
        self.rules.get(usize::from(o.rule)).map_or("", String::as_str)
    }

    /// Indexes of the users whose outcome differs.
    pub fn changed(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.before.len()).filter(|&i| self.before.get(i) != self.after.get(i))
    }
}

/// Evaluates both sides. `progress` counts syncs (2 per user); pass
/// `ProgressBar::hidden()` for none. `keep_after` keeps the after-state's
/// users for `--out-users`.
pub fn evaluate(evaluator: &Evaluator, mut q: Question, keep_after: bool, progress: &ProgressBar) -> Result<Answer> {
    let mut run = Run { evaluator, rules: Vec::new(), timings: Vec::new(), progress };
    progress.set_length(2 * q.users.len() as u64);
    let before_settings = q.before.clone();
    let (before, _) = pass(&mut run, &mut q, before_settings, "before", false)?;
    let after_settings = q.after.clone();
    let (after, after_users) = pass(&mut run, &mut q, after_settings, "after", keep_after)?;
    progress.finish_and_clear();
    let Run { rules, timings, .. } = run;
    Ok(Answer { question: q, before, after, rules, after_users, timings })
}

/// What both passes share: where decisions come from, the rule names seen,
/// the phase times and the progress bar.
struct Run<'a> {
    evaluator: &'a Evaluator,
    rules: Vec<String>,
    timings: Vec<(String, std::time::Duration)>,
    progress: &'a ProgressBar,
}

/// One side: load the population under `settings`, then one `step` (sync)
/// per user in row order.
fn pass(
    run: &mut Run,
    q: &mut Question,
    settings: Settings,
    side: &str,
    keep_state: bool,
) -> Result<(Vec<Outcome>, Option<Vec<User>>)> {
    let Run { evaluator, rules, timings, progress } = run;
    let mut clock = std::time::Instant::now();
    let mut lap = |name: &str, timings: &mut Vec<(String, std::time::Duration)>| {
        timings.push((format!("{name} {side}"), clock.elapsed()));
        clock = std::time::Instant::now();
    };
    progress.set_message(format!("loading {side}"));
    // Move the users into the state and back: one copy on the host.
    let state = OrgState { settings, users: std::mem::take(&mut q.users), groups: Vec::new(), sessions: Vec::new() };
    let loaded = evaluator.load(&state);
    let OrgState { settings, users, .. } = state;
    q.users = users;
    let mut org = match loaded? {
        Ok(org) => org,
        Err(problems) => {
            let source: std::sync::Arc<str> = std::sync::Arc::from(q.source.as_str());
            let origin: Vec<_> = q.lines.iter().map(|&l| (source.clone(), l)).collect();
            let org_source =
                if side == "before" { q.org_source.clone() } else { format!("{} with --set", q.org_source) };
            let located = roster::locate(&problems, &q.users, &origin, None, &settings, &org_source);
            let mut lines: Vec<String> = located.iter().map(ToString::to_string).collect();
            if q.org_source == crate::DEFAULT_ORG {
                lines.push("(no --org given: the default organisation has no purchased licences)".into());
            }
            return Err(Error::input(
                format!("the organisation {side} the change"),
                format!("the users can't be loaded:\n{}", lines.join("\n")),
            ));
        }
    };
    lap("load", timings);
    progress.set_message(format!("syncs {side}"));
    let mut outcomes = Vec::with_capacity(q.users.len());
    for (i, user) in q.users.iter().enumerate() {
        let event =
            Event { at: q.at, kind: EventKind::Sync(SyncEvent { user: user.id.clone(), channel: Channel::Mobile }) };
        let d = org.step(&event)?;
        let rule = match rules.iter().position(|r| *r == d.rule) {
            Some(i) => i,
            None => {
                rules.push(d.rule.clone());
                rules.len() - 1
            }
        };
        outcomes.push(Outcome { allow: d.allow, code: d.code, license: d.license, rule: rule as u16 });
        if i % 1024 == 0 {
            progress.inc(1024.min((q.users.len() - i) as u64));
        }
    }
    lap("syncs", timings);
    let kept = if keep_state { Some(org.snapshot()?.users) } else { None };
    if keep_state {
        lap("snapshot", timings);
    }
    drop(org);
    lap("drop", timings);
    Ok((outcomes, kept))
}

// ------------------------------------------------------------------ --set

/// Applies one `--set KEY=VALUE` to the organisation's JSON object: `KEY` is
/// a dotted path of the scenario `org` object (`auto_assign`,
/// `licenses.standard`), `VALUE` is JSON (`true`, `50`) or else text
/// (`plan=reach`). The path and value are checked by the same reader as
/// `--org` files; an unknown path or a bad value is an error naming both.
pub fn apply_set(org: &mut Value, spec: &str) -> Result<()> {
    let place = format!("--set {spec}");
    let Some((key, raw)) = spec.split_once('=') else {
        return Err(Error::input(place, "expected KEY=VALUE, e.g. --set licenses.standard=50"));
    };
    let path: Vec<&str> = key.split('.').collect();
    if path.iter().any(|p| p.is_empty()) {
        return Err(Error::input(place, "expected a dotted path like auto_assign or licenses.standard"));
    }
    let as_json = serde_json::from_str::<Value>(raw).ok();
    let candidates: Vec<Value> = match as_json {
        Some(Value::String(s)) => vec![Value::String(s)],
        Some(v) => vec![v, Value::String(raw.to_string())],
        None => vec![Value::String(raw.to_string())],
    };
    let mut first_error = None;
    for value in candidates {
        let mut probe = Value::Object(Map::new());
        set_path(&mut probe, &path, value.clone());
        match serde_path_to_error::deserialize::<_, OrgFile>(probe) {
            Ok(_) => {
                if !set_path(org, &path, value) {
                    return Err(Error::input(place, format!("`{key}` is inside a value that is not an object")));
                }
                return Ok(());
            }
            Err(e) => {
                first_error.get_or_insert_with(|| {
                    let path = e.path().to_string();
                    let message = e.into_inner().to_string();
                    if path == "." { message } else { format!("{path}: {message}") }
                });
            }
        }
    }
    Err(Error::input(place, first_error.unwrap_or_default()))
}

/// Sets `path` in `root`, creating objects on the way; `false` when a value
/// on the way is not an object.
fn set_path(root: &mut Value, path: &[&str], value: Value) -> bool {
    let Some((last, parents)) = path.split_last() else { return false };
    let mut at = root;
    for p in parents {
        let Value::Object(map) = at else { return false };
        at = map.entry(p.to_string()).or_insert_with(|| Value::Object(Map::new()));
    }
    let Value::Object(map) = at else { return false };
    map.insert(last.to_string(), value);
    true
}

// ------------------------------------------------------------------ output

/// One side of a changed user's line: `{"allow","code","license","rule"}`,
/// written directly (the same bytes serde_json writes, without building a
/// value per line: a million-user answer has hundreds of thousands of lines).
fn side(answer: &Answer, o: &Outcome) -> String {
    let license = o.license.map_or("null".to_string(), |l| format!("\"{}\"", l.name()));
    format!(
        "{{\"allow\":{},\"code\":\"{}\",\"license\":{license},\"rule\":{}}}",
        o.allow,
        o.code.name(),
        json_string(answer.rule(o))
    )
}

fn json_string(text: &str) -> String {
    Value::from(text).to_string()
}

/// Outcomes counted by licence when allowed and by code when denied.
fn counts(outcomes: &[Outcome]) -> BTreeMap<(usize, usize), u64> {
    // Keyed by (0, licence index) or (1, code index): licences first, then codes, in WIT order.
    let mut counts = BTreeMap::new();
    for o in outcomes {
        let key = match (o.allow, o.license) {
            (true, Some(l)) => (0, GrantedLicense::ALL.iter().position(|x| *x == l).unwrap_or(0)),
            _ => (1, Code::ALL.iter().position(|x| *x == o.code).unwrap_or(0)),
        };
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

fn key_name(key: (usize, usize)) -> &'static str {
    match key {
        (0, i) => GrantedLicense::ALL.get(i).map_or("?", |l| l.name()),
        (_, i) => Code::ALL.get(i).map_or("?", |c| c.name()),
    }
}

/// The summary rows: every outcome either side has, with both counts.
pub fn summary(answer: &Answer) -> Vec<(&'static str, u64, u64)> {
    let (before, after) = (counts(&answer.before), counts(&answer.after));
    let mut keys: Vec<(usize, usize)> = before.keys().chain(after.keys()).copied().collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| (key_name(k), before.get(&k).copied().unwrap_or(0), after.get(&k).copied().unwrap_or(0)))
        .collect()
}

/// `--format json`: one line per changed user, then the summary line.
pub fn write_json(out: &mut impl Write, answer: &Answer) -> io::Result<()> {
    let users = &answer.question.users;
    let mut changed = 0u64;
    for i in answer.changed() {
        changed += 1;
        let (Some(u), Some(b), Some(a)) = (users.get(i), answer.before.get(i), answer.after.get(i)) else { continue };
        writeln!(
            out,
            "{{\"id\":{},\"name\":{},\"before\":{},\"after\":{}}}",
            json_string(&u.id),
            json_string(&u.name),
            side(answer, b),
            side(answer, a)
        )?;
    }
    let rows = summary(answer);
    let mut before = Map::new();
    let mut after = Map::new();
    for (name, b, a) in &rows {
        before.insert(name.to_string(), json!(b));
        after.insert(name.to_string(), json!(a));
    }
    let q = &answer.question;
    let line = json!({"summary": {
        "before": before,
        "after": after,
        "changed": changed,
        "users": users.len(),
        "at": format_rfc3339(q.at),
        "order": "one sync per user, in the file's row order",
    }});
    writeln!(out, "{line}")
}

/// `--format csv`: the changed users, every field quoted.
pub fn write_csv(out: &mut impl Write, answer: &Answer) -> io::Result<()> {
    roster::write_record(
        out,
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
    )?;
    let q = &answer.question;
    for i in answer.changed() {
        let (Some(u), Some(b), Some(a)) = (q.users.get(i), answer.before.get(i), answer.after.get(i)) else { continue };
        let line = q.lines.get(i).copied().unwrap_or(0).to_string();
        let (ba, aa) = (b.allow.to_string(), a.allow.to_string());
        let lic = |o: &Outcome| o.license.map_or("", |l| l.name());
        roster::write_record(
            out,
            [
                u.id.as_str(),
                &u.name,
                &line,
                &ba,
                b.code.name(),
                lic(b),
                answer.rule(b),
                &aa,
                a.code.name(),
                lic(a),
                answer.rule(a),
            ],
        )?;
    }
    Ok(())
}

/// `--format table`: a readable summary, then the changed users.
pub fn write_table(out: &mut impl Write, answer: &Answer) -> io::Result<()> {
    let q = &answer.question;
    let changes = if q.changes.is_empty() { "no changes".to_string() } else { q.changes.join(", ") };
    writeln!(out, "What-if for {} users of {} at {}", q.users.len(), q.source, format_rfc3339(q.at))?;
    writeln!(out, "One sync per user, in the file's row order, under each organisation:")?;
    writeln!(out, "  before: {}", q.org_source)?;
    writeln!(out, "  after:  {} with {changes}", q.org_source)?;
    writeln!(out)?;
    let rows = summary(answer);
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max("outcome".len());
    writeln!(out, "{:<width$}  {:>9}  {:>9}  {:>9}", "outcome", "before", "after", "change")?;
    for (name, b, a) in &rows {
        let delta = *a as i64 - *b as i64;
        let delta = if delta == 0 { "0".to_string() } else { format!("{delta:+}") };
        writeln!(out, "{name:<width$}  {b:>9}  {a:>9}  {delta:>9}")?;
    }
    let changed: Vec<usize> = answer.changed().collect();
    writeln!(out)?;
    if changed.is_empty() {
        return writeln!(out, "No user's outcome changes.");
    }
    let noun = if changed.len() == 1 { "user's outcome changes" } else { "users' outcomes change" };
    writeln!(out, "{} {noun}:", changed.len())?;
    let describe = |o: &Outcome| match (o.allow, o.license) {
        (true, Some(l)) => format!("allow {} ({})", l.name(), answer.rule(o)),
        _ => format!("deny {} ({})", o.code.name(), answer.rule(o)),
    };
    let mut table: Vec<[String; 5]> =
        vec![["line".into(), "id".into(), "name".into(), "before".into(), "after".into()]];
    for &i in &changed {
        let (Some(u), Some(b), Some(a)) = (q.users.get(i), answer.before.get(i), answer.after.get(i)) else { continue };
        let line = q.lines.get(i).copied().unwrap_or(0).to_string();
        table.push([line, u.id.clone(), u.name.clone(), describe(b), describe(a)]);
    }
    let mut widths = [0usize; 5];
    for row in &table {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in &table {
        let [line, id, name, before, after] = row;
        let [w0, w1, w2, w3, _] = widths;
        writeln!(out, "{line:>w0$}  {id:<w1$}  {name:<w2$}  {before:<w3$}  {after}")?;
    }
    Ok(())
}
