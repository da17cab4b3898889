//! Events in, decisions out: the dispatch from an event to the rules that
//! decide it, over one organisation's [`State`].

use crate::{accounts, features, licensing, seats};
use crate::model::{Code, Decision, Event, EventKind, OrgState, Problem, User};
use crate::state::State;

/// One organisation: its state and the rules over it.
#[derive(Debug, Clone)]
pub struct Org {
    state: State,
}

impl Org {
    /// Checks and loads a state (see [`State::load`]).
    pub fn load(state: OrgState) -> Result<Org, Vec<Problem>> {
        State::load(state).map(|state| Org { state })
    }

    /// The decision for `event` now. Changes nothing.
    pub fn decide(&self, event: &Event) -> Decision {
        decide(&self.state, event)
    }

    /// Performs `effects` in order, all or nothing.
    pub fn apply(&mut self, effects: &[crate::model::Effect]) -> Result<(), Problem> {
        self.state.apply(effects)
    }

    /// Decides `event` and applies the decision's effects.
    pub fn step(&mut self, event: &Event) -> Decision {
        let decision = self.decide(event);
        match self.state.apply(&decision.effects) {
            Ok(()) => decision,
            // A rule proposed effects the state refuses: a defect in the
            // rules, never the caller's. Nothing was applied; say so.
            Err(problem) => Decision::deny(decision.code, &decision.rule, decision.message).with_detail(format!(
                "internal error, nothing applied: {}: {}",
                problem.field, problem.message
            )),
        }
    }

    pub fn snapshot(&self) -> OrgState {
        self.state.snapshot()
    }

    pub fn state(&self) -> &State {
        &self.state
    }
}

/// Rule E1: an event must name users the organisation has.
fn unknown_user(state: &State, event: &Event) -> Option<Decision> {
    let (_, missing) = event.kind.users().into_iter().find(|(_, id)| state.user(id).is_none())?;
    Some(Decision::deny(Code::UnknownUser, "E1", format!("no user `{missing}` in this organisation")))
}

pub fn decide(state: &State, event: &Event) -> Decision {
    if let Some(denial) = unknown_user(state, event) {
        return denial;
    }
    let now = event.at;
    let on = |id: &str, rule: &dyn Fn(&User) -> Decision| match state.user(id) {
        Some(user) => rule(user),
        None => Decision::deny(Code::UnknownUser, "E1", format!("no user `{id}` in this organisation")),
    };
    match &event.kind {
        EventKind::Sync(e) => on(&e.user, &|u| licensing::sync(state, u, now)),
        EventKind::Assign(e) => on(&e.user, &|u| licensing::assign(state, u, e.license, now)),
        EventKind::Unassign(e) => on(&e.user, &|u| licensing::unassign(u, e.license)),
        EventKind::Disable(e) => on(&e.user, &|u| licensing::disable(u, e.license)),
        EventKind::Activate(id) => on(id, &|u| seats::activate(state, u)),
        EventKind::Deactivate(id) => on(id, &|u| seats::deactivate(state, u)),
        EventKind::Login(id) => on(id, &|u| seats::login(state, u, now)),
        EventKind::Logout(id) => on(id, &|u| seats::logout(state, u)),
        EventKind::Activity(e) => on(&e.user, &|u| seats::activity(state, u, e.tab_open, now)),
        EventKind::CloseSession(id) => on(id, &|u| seats::close_session(state, u, now)),
        EventKind::SetPassword(e) => on(&e.user, &|u| accounts::set_password(u, &e.password, &e.confirm)),
        EventKind::CreateUser(e) => on(&e.actor, &|actor| accounts::create_user(state, actor, &e.user, now)),
        EventKind::BlockUser(e) => on(&e.actor, &|actor| on(&e.user, &|u| accounts::block_user(state, actor, u))),
        EventKind::UnblockUser(e) => {
            on(&e.actor, &|actor| on(&e.user, &|u| accounts::unblock_user(state, actor, u)))
        }
        EventKind::DeleteUser(e) => {
            on(&e.actor, &|actor| on(&e.user, &|u| accounts::delete_user(state, actor, u, now)))
        }
        EventKind::DeleteGroup(e) => on(&e.actor, &|actor| accounts::delete_group(state, actor, &e.group)),
        EventKind::SaveFeatures(e) => on(&e.user, &|u| features::save_features(state, u, &e.features)),
        EventKind::SetAppToggle(e) => {
            on(&e.user, &|u| features::set_app_toggle(state, u, e.recording, e.crm_overlay))
        }
        EventKind::SetPlan(plan) => features::set_plan(state, plan),
        EventKind::Call(e) => on(&e.user, &|u| features::call(state, u, &e.to, e.direction)),
        EventKind::Sms(e) => on(&e.user, &|u| features::sms(state, u, &e.to)),
    }
}
