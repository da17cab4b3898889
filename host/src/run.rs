//! `turnstile run`: a scenario's events fed in order to one organisation,
//! each decision's effects applied before the next event, each decision
//! line handed over as soon as it is made.
//!
//! The scenario is read and each line written by the component itself (its
//! `scenario` interface), so every host prints the same bytes. A failure on
//! one event (a trap, a breached limit) is contained: the organisation is
//! restored as it was before that event (see [`crate::Org`]), the failure is
//! reported for that event, and the run goes on.
//!
//! With explanations (`--explain`, or `"explain": true` in the scenario) a
//! denial's line also carries its remedies (`org.explain`, asked before the
//! next event, on the state the denial left unchanged).

use std::ops::ControlFlow;

use crate::error::Result;
use crate::instance::{Evaluator, Instance};
use crate::model::{Event, OrgState};
use crate::org::Org;

/// How a run went.
#[derive(Debug, Default)]
pub struct Report {
    /// Events decided.
    pub decided: usize,
    /// Events whose decision failed (each reported as it happened).
    pub failed: usize,
    /// The state after the last event, when asked for.
    pub state: Option<OrgState>,
}

/// Reads `text` (a scenario named `source`), then feeds its events: `emit`
/// gets each event's index and its decision line, or the error that stopped
/// that one event, as soon as it is made; it returns `Break` to stop the run
/// (its reader went away). A scenario that can't be read is an error and
/// nothing is emitted.
pub fn run(
    evaluator: &Evaluator,
    text: &str,
    source: &str,
    emit: impl FnMut(usize, Result<String>) -> ControlFlow<()>,
) -> Result<Report> {
    run_with(evaluator, text, source, Options::default(), emit)
}

/// What a run does besides deciding.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Keep the state after the last event in the report.
    pub keep_state: bool,
    /// Explain every denial, whatever the scenario says (`--explain`); a
    /// scenario with `"explain": true` is explained either way.
    pub explain: bool,
}

/// [`run`], with the state after the last event in the report when `keep_state`.
pub fn run_keeping_state(
    evaluator: &Evaluator,
    text: &str,
    source: &str,
    keep_state: bool,
    emit: impl FnMut(usize, Result<String>) -> ControlFlow<()>,
) -> Result<Report> {
    run_with(evaluator, text, source, Options { keep_state, explain: false }, emit)
}

/// [`run`] as `options` ask.
pub fn run_with(
    evaluator: &Evaluator,
    text: &str,
    source: &str,
    options: Options,
    mut emit: impl FnMut(usize, Result<String>) -> ControlFlow<()>,
) -> Result<Report> {
    let keep_state = options.keep_state;
    let mut formats = evaluator.instance()?;
    let scenario = formats.parse_scenario(text, source)?;
    let explain = options.explain || scenario.explain;
    let mut org = Org::load(evaluator, scenario.state, source)?;
    let mut report = Report::default();
    for (i, event) in scenario.events.iter().enumerate() {
        let place = format!("{source}: events[{i}] ({})", describe(event));
        let line = org
            .step_at(event, &place)
            .and_then(|decision| {
                // A denial changes nothing: the state is the one it was decided on.
                let remedies =
                    if explain && !decision.allow { Some(org.explain(event).map_err(|e| e.context(&place))?) } else { None };
                render(evaluator, &mut formats, i as u32, event, &decision, remedies.as_deref()).map_err(|e| e.context(&place))
            });
        match &line {
            Ok(_) => report.decided += 1,
            Err(_) => report.failed += 1,
        }
        if emit(i, line).is_break() {
            return Ok(report);
        }
    }
    if keep_state {
        report.state = Some(org.snapshot()?);
    }
    Ok(report)
}

/// A decision's line; a writer that failed is replaced for the next event.
fn render(
    evaluator: &Evaluator,
    formats: &mut Instance,
    index: u32,
    event: &Event,
    decision: &crate::model::Decision,
    remedies: Option<&[crate::model::Remedy]>,
) -> Result<String> {
    let line = match remedies {
        Some(remedies) => formats.render_explained(index, event, decision, remedies),
        None => formats.render_decision(index, event, decision),
    };
    line.inspect_err(|_| {
        if let Ok(fresh) = evaluator.instance() {
            *formats = fresh;
        }
    })
}

/// "sync of `u1`": the event's kind and who it is about, for messages
/// (spelled by the rules crate: the host restates no name).
pub fn describe(event: &Event) -> String {
    match crate::instance::native_event(event) {
        Ok(e) => match e.kind.subject() {
            Some(user) => format!("{} of `{user}`", e.kind.name()),
            None => e.kind.name().to_string(),
        },
        Err(_) => "an event".to_string(),
    }
}
