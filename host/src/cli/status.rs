//! `turnstile status`: what an organisation uses and who is logged in, after
//! a scenario's events (rules O2 and O3), as the policy reports it.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::ValueEnum;
use turnstile::model::{LicenseType, SessionStatus, Usage};
use turnstile::{Error, Org, Result, files};
use turnstile_policy::calendar::{format_rfc3339, parse_rfc3339};
use turnstile_policy::json::{ObjectWriter, write_list};

use super::PolicyArgs;
use super::output::Stdout;

/// Show licences, pending users, seats and sessions after a scenario's events (rules O2, O3).
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  turnstile status examples/accounts.json
  turnstile status examples/accounts.json --at 2026-11-22T10:30:00Z --format json
  turnstile run examples/accounts.json --state-out after.json && turnstile status after.json --at 2026-11-23T08:00:00Z

The scenario's events are applied in order (as `turnstile run` does, without printing
the decisions), then the policy is asked what the organisation uses at --at: per
licence type purchased, assigned and free; the External licence; users on a running
temporary licence and users whose temporary licence has ended; active accounts
against max_active_users; every open session with its idle time and whether it is
still live (idle for less than idle_logout_minutes). Nothing is decided here: every
number comes from the policy's usage and sessions queries.

Exit status:
  0  done
  2  the scenario can't be used (a message names the place), --at has no default (a
     scenario without events), a bad flag, or the output can't be written
  3  the policy component failed (a defect: please report it)
  4  a call reached a sandbox limit (--deadline, --max-memory)")]
pub struct Args {
    /// The scenario file (a state written by `run --state-out` is one too),
    /// or `-` for standard input.
    file: String,
    /// The instant to report at (RFC 3339); default: the last event's.
    #[arg(long, value_name = "INSTANT")]
    at: Option<String>,
    /// Output format: `table` for people, `json` for programs (one object).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    policy: PolicyArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

pub fn status(args: Args) -> Result<ExitCode> {
    let (text, source) = files::read_text(&args.file, files::MAX_TEXT)?;
    let evaluator = args.policy.evaluator()?;
    let scenario = evaluator.instance()?.parse_scenario(&text, &source)?;
    let at = match &args.at {
        Some(at) => parse_rfc3339(at).map_err(|e| Error::input("--at", e))?,
        None => match scenario.events.last() {
            Some(event) => event.at,
            None => return Err(Error::input("--at", format!("{source} has no events: say the instant to report at"))),
        },
    };
    let mut org = Org::load(&evaluator, scenario.state, &source)?;
    for (i, event) in scenario.events.iter().enumerate() {
        org.step_at(event, format!("{source}: events[{i}] ({})", turnstile::run::describe(event)))?;
    }
    let state = org.snapshot()?;
    let mut instance = evaluator.instance()?;
    let id = instance.load(&state, &source)?;
    let usage = instance.usage(id, at)?;
    let sessions = instance.sessions(id, at)?;
    let events = scenario.events.len();
    let report = match args.format {
        Format::Table => table(&source, events, &usage, &sessions),
        Format::Json => json_report(&usage, &sessions),
    };
    let mut out = Stdout::new();
    out.line(report.trim_end())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn license_name(l: LicenseType) -> &'static str {
    match l {
        LicenseType::Standard => "standard",
        LicenseType::Inspections => "inspections",
    }
}

/// "1 h 5 min", "12 min 5 s", "40 s".
fn idle(seconds: u32) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, _) => format!("{m} min {s} s"),
        _ => format!("{h} h {m} min"),
    }
}

fn table(source: &str, events: usize, usage: &Usage, sessions: &[SessionStatus]) -> String {
    let mut out = String::new();
    let plural = if events == 1 { "" } else { "s" };
    let _ = writeln!(out, "Status of {source} after {events} event{plural}, at {}", format_rfc3339(usage.at));
    let _ = writeln!(out);
    let _ = writeln!(out, "{:<12} {:>9} {:>9} {:>9}", "licence", "purchased", "assigned", "free");
    for l in &usage.licenses {
        let _ = writeln!(out, "{:<12} {:>9} {:>9} {:>9}", license_name(l.license), l.purchased, l.assigned, l.free);
    }
    let _ = writeln!(out, "{:<12} {:>9}", "external", if usage.external { "yes" } else { "no" });
    let _ = writeln!(out);
    let _ = writeln!(out, "pending users (temporary licence running): {}", usage.pending);
    let _ = writeln!(out, "expired temporary licences:                {}", usage.expired);
    let seats = match usage.max_active_users {
        Some(max) => format!("{} of {max}", usage.active_accounts),
        None => format!("{} (no limit)", usage.active_accounts),
    };
    let _ = writeln!(out, "active accounts:                           {seats}");
    let _ = writeln!(out);
    if sessions.is_empty() {
        let _ = writeln!(out, "no open sessions");
        return out;
    }
    let _ = writeln!(out, "{} open session{}, {} live:", sessions.len(), if sessions.len() == 1 { "" } else { "s" }, usage.live_sessions);
    let width = sessions.iter().map(|s| s.user.chars().count()).max().unwrap_or(4).max(4);
    let _ = writeln!(out, "  {:<width$}  {:<20}  {:<20}  {:>12}  {:<6}  live", "user", "login", "last activity", "idle", "tab");
    for s in sessions {
        let _ = writeln!(
            out,
            "  {:<width$}  {:<20}  {:<20}  {:>12}  {:<6}  {}",
            s.user,
            format_rfc3339(s.login_at),
            format_rfc3339(s.last_activity),
            idle(s.idle_seconds),
            if s.tab_open { "open" } else { "closed" },
            if s.live { "yes" } else { "no" },
        );
    }
    out
}

/// One JSON object, written by the rules crate's JSON writer (the one that
/// writes decision lines), instants as RFC 3339.
fn json_report(usage: &Usage, sessions: &[SessionStatus]) -> String {
    let mut out = String::new();
    let mut o = ObjectWriter::new(&mut out);
    o.str("at", &format_rfc3339(usage.at));
    write_list(o.key("licenses"), &usage.licenses, |out, l| {
        let mut w = ObjectWriter::new(out);
        w.str("license", license_name(l.license));
        w.raw("purchased", &l.purchased.to_string()).raw("assigned", &l.assigned.to_string()).raw("free", &l.free.to_string());
        w.end();
    });
    o.bool("external", usage.external);
    o.raw("pending", &usage.pending.to_string()).raw("expired", &usage.expired.to_string());
    o.raw("active_accounts", &usage.active_accounts.to_string());
    o.raw("max_active_users", &usage.max_active_users.map_or("null".to_string(), |m| m.to_string()));
    o.raw("live_sessions", &usage.live_sessions.to_string());
    write_list(o.key("sessions"), sessions, |out, s| {
        let mut w = ObjectWriter::new(out);
        w.str("user", &s.user).str("login_at", &format_rfc3339(s.login_at));
        w.str("last_activity", &format_rfc3339(s.last_activity)).bool("tab_open", s.tab_open);
        w.raw("idle_seconds", &s.idle_seconds.to_string()).bool("live", s.live);
        w.end();
    });
    o.end();
    out
}
