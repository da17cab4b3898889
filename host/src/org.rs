//! One organisation, deciding one request at a time, with failures
//! contained: a trap or a breached limit on one call poisons only that call.
//!
//! The organisation lives in an instance of its own. The host keeps what it
//! was loaded from and every change made since (events stepped, effects
//! applied). When a call fails, the instance is thrown away, a new one is
//! loaded with that state and the changes are replayed: decisions are
//! deterministic, so the organisation is exactly as it was before the call
//! that failed. The failure is returned for that call; the next call works.
//! Every [`CHECKPOINT`] changes the state is snapshotted, so a replay is short.

use crate::error::{Error, Result};
use crate::instance::{Evaluator, Instance, OrgId};
use crate::model::{Decision, Effect, Event, OrgState, Problem, Remedy};
use crate::run::describe;

/// Changes between snapshots of the state kept for recovery.
pub const CHECKPOINT: usize = 1000;

/// A change to replay after a failure.
enum Change {
    Step(Event),
    Apply(Vec<Effect>),
}

pub struct Org {
    evaluator: Evaluator,
    instance: Instance,
    id: OrgId,
    /// Names the organisation in errors (its file, usually).
    name: String,
    /// The state to reload after a failure, and the changes since it.
    base: OrgState,
    changes: Vec<Change>,
}

impl Org {
    /// Loads `state` into a new instance; `name` names it in errors. An
    /// inconsistent state is an input error listing every problem.
    pub fn load(evaluator: &Evaluator, state: OrgState, name: &str) -> Result<Org> {
        let mut instance = evaluator.instance()?;
        let id = instance.load(&state, name)?;
        Ok(Org { evaluator: evaluator.clone(), instance, id, name: name.to_string(), base: state, changes: Vec::new() })
    }

    /// The organisation's name, as errors give it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The decision for `event` now. Changes nothing. An error names the
    /// organisation and the event (`acme: sync of `u1`: deciding: ...`).
    pub fn decide(&mut self, event: &Event) -> Result<Decision> {
        let decided = self.instance.decide(self.id, event);
        self.contain(decided).map_err(|e| e.context(format!("{}: {}", self.name, describe(event))))
    }

    /// Decides `event` and applies the decision's effects. An error names
    /// the organisation and the event.
    pub fn step(&mut self, event: &Event) -> Result<Decision> {
        let place = format!("{}: {}", self.name, describe(event));
        self.step_at(event, place)
    }

    /// [`Org::step`], an error placed by the caller instead: `place` says
    /// where the event comes from (`FILE: events[3] (sync of `u1`)`).
    pub fn step_at(&mut self, event: &Event, place: impl std::fmt::Display) -> Result<Decision> {
        let decided = self.instance.step(self.id, event);
        let decision = self.contain(decided).map_err(|e| e.context(place))?;
        self.record(Change::Step(event.clone()));
        Ok(decision)
    }

    /// What would let `event` through if it is denied now: the remedies,
    /// smallest first, each tried by the engine. Changes nothing.
    pub fn explain(&mut self, event: &Event) -> Result<Vec<Remedy>> {
        let explained = self.instance.explain(self.id, event);
        self.contain(explained)
    }

    /// Performs effects in order, all or nothing; `Ok(Err(problem))` when
    /// the state refuses them (nothing applied).
    pub fn apply(&mut self, effects: &[Effect]) -> Result<std::result::Result<(), Problem>> {
        let applied = self.instance.apply(self.id, effects);
        let applied = self.contain(applied).map_err(|e| e.context(&self.name))?;
        if applied.is_ok() {
            self.record(Change::Apply(effects.to_vec()));
        }
        Ok(applied)
    }

    /// The whole current state.
    pub fn snapshot(&mut self) -> Result<OrgState> {
        self.snapshot_unnamed().map_err(|e| e.context(&self.name))
    }

    fn snapshot_unnamed(&mut self) -> Result<OrgState> {
        let state = self.instance.snapshot(self.id);
        self.contain(state)
    }

    /// Keeps `change` for replay; every [`CHECKPOINT`] changes, a snapshot
    /// instead. The change is made already: a snapshot that fails (it is
    /// contained like any call) only leaves the replay longer.
    fn record(&mut self, change: Change) {
        self.changes.push(change);
        if self.changes.len() % CHECKPOINT == 0 {
            if let Ok(state) = self.snapshot_unnamed() {
                self.base = state;
                self.changes.clear();
            }
        }
    }

    /// A call's result; after a failure, the organisation is rebuilt as it
    /// was before the call, and the failure returned.
    fn contain<T>(&mut self, result: Result<T>) -> Result<T> {
        let error = match result {
            Ok(value) => return Ok(value),
            Err(e) => e,
        };
        match self.rebuild() {
            Ok(()) => Err(error),
            Err(again) => Err(error.context(format!(
                "{} could not be restored after the failure ({again})",
                self.name
            ))),
        }
    }

    /// A new instance with the state as it was before the failed call.
    fn rebuild(&mut self) -> Result<()> {
        let mut instance = self.evaluator.instance()?;
        let id = instance.load(&self.base, &self.name)?;
        for change in &self.changes {
            match change {
                Change::Step(event) => {
                    instance.step(id, event)?;
                }
                Change::Apply(effects) => {
                    if let Err(p) = instance.apply(id, effects)? {
                        return Err(Error::policy(format!("replaying effects: {}: {}", p.field, p.message)));
                    }
                }
            }
        }
        self.instance = instance;
        self.id = id;
        Ok(())
    }
}
