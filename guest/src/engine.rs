//! Events in, decisions out: the dispatch from an event to the rules that
//! decide it, over one organisation's [`State`].

use crate::decision::Decision;
use crate::model::{self, Channel, Code, Event, EventKind, GrantedLicense, Instant, OrgState, Problem};
use crate::state::State;
use crate::users::{UserIx, UserRef};
use crate::remedies::{self, Remedy};
use crate::{accounts, features, licensing, organisation, seats};

/// One organisation: its state and the rules over it.
#[derive(Debug, Clone)]
pub struct Org {
    state: State,
}

/// What a decision comes to, in a few bytes: what a batch returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub allow: bool,
    pub code: Code,
    pub rule: &'static str,
    pub license: Option<GrantedLicense>,
}

impl From<&Decision> for Outcome {
    fn from(d: &Decision) -> Outcome {
        Outcome { allow: d.allow, code: d.code, rule: d.rule, license: d.license }
    }
}

impl Org {
    /// Checks and loads a state (see [`State::load`]).
    pub fn load(state: OrgState) -> Result<Org, Vec<Problem>> {
        State::load(state).map(Org::from_state)
    }

    pub fn from_state(state: State) -> Org {
        Org { state }
    }

    /// The decision for `event` now, as the contract spells it. Changes nothing.
    pub fn decide(&self, event: &Event) -> model::Decision {
        decide(&self.state, event).to_record(&self.state)
    }

    /// The decision for `event` now, as the rules made it (users by
    /// position, texts borrowed). Changes nothing.
    pub fn judge(&self, event: &Event) -> Decision {
        decide(&self.state, event)
    }

    /// The remedies for `event` if it is denied now, smallest first, each
    /// tried on the state and rolled back ([`remedies::explain`]); none when
    /// it is allowed. The state is left exactly as it was.
    pub fn explain(&mut self, event: &Event) -> Vec<Remedy> {
        remedies::explain(&mut self.state, event)
    }

    /// Performs a host's `effects` in order, all or nothing.
    pub fn apply(&mut self, effects: &[model::Effect]) -> Result<(), Problem> {
        self.state.apply_records(effects)
    }

    /// Decides `event` and applies the decision's effects.
    pub fn step(&mut self, event: &Event) -> model::Decision {
        let decision = self.step_decision(event);
        decision.to_record(&self.state)
    }

    /// [`Org::step`], keeping only the outcome: nothing is spelled out.
    pub fn step_outcome(&mut self, event: &Event) -> Outcome {
        Outcome::from(&self.step_decision(event))
    }

    fn step_decision(&mut self, event: &Event) -> Decision {
        let decision = decide(&self.state, event);
        self.perform(decision)
    }

    /// Applies a decision's effects; a rule that proposed effects the state
    /// refuses is a defect in the rules, never the caller's: nothing is
    /// applied and the decision says so.
    fn perform(&mut self, decision: Decision) -> Decision {
        match self.state.apply(&decision.effects) {
            Ok(()) => decision,
            Err(problem) => Decision::deny(decision.code, decision.rule, decision.message).with_detail(format!(
                "internal error, nothing applied: {}: {}",
                problem.field, problem.message
            )),
        }
    }

    /// Every user from position `first`, `count` of them (fewer at the
    /// end), syncs once at `at` on `channel`, in order, each decision
    /// applied before the next: the batch a what-if is made of.
    /// The channel doesn't change the decision: web apps and web services
    /// consume licences like the mobile app (L).
    pub fn sync_users(&mut self, at: Instant, _channel: Channel, first: u32, count: u32) -> Vec<Outcome> {
        let end = first.saturating_add(count).min(self.state.users().len() as u32);
        (first..end)
            .map(|i| {
                let u = self.state.users().get(UserIx(i));
                let decision = licensing::sync(&self.state, u, at);
                Outcome::from(&self.perform(decision))
            })
            .collect()
    }

    pub fn snapshot(&self) -> OrgState {
        self.state.snapshot()
    }

    /// What the organisation uses at `at` (O2).
    pub fn usage(&self, at: Instant) -> model::Usage {
        organisation::usage(&self.state, at)
    }

    /// Every open session at `at`, with its idle time and liveness (O3).
    pub fn sessions(&self, at: Instant) -> Vec<model::SessionStatus> {
        organisation::sessions(&self.state, at)
    }

    /// Users from position `first`, `count` of them (fewer at the end), in columns.
    pub fn population(&self, first: u32, count: u32) -> model::Population {
        self.state.users().population(first, count)
    }

    /// The id and name of the users at `positions` (positions past the end are left out).
    pub fn user_names(&self, positions: &[u32]) -> Vec<model::UserName> {
        let users = self.state.users();
        positions
            .iter()
            .filter(|&&i| (i as usize) < users.len())
            .map(|&i| {
                let u = users.get(UserIx(i));
                model::UserName { id: u.id().to_string(), name: u.name().to_string() }
            })
            .collect()
    }

    pub fn state(&self) -> &State {
        &self.state
    }
}

/// Rule E1: an event must name users the organisation has.
fn unknown(id: &str) -> Decision {
    Decision::deny(Code::UnknownUser, "E1", format!("no user `{id}` in this organisation"))
}

/// The decision for `event` in `state`. An event naming users the state
/// doesn't have is E1's, checked in the order `EventKind::users` lists them.
pub fn decide(state: &State, event: &Event) -> Decision {
    let now = event.at;
    let user = |id: &str| -> Result<UserRef<'_>, Decision> { state.user(id).ok_or_else(|| unknown(id)) };
    let decision = match &event.kind {
        EventKind::Sync(e) => user(&e.user).map(|u| licensing::sync(state, u, now)),
        EventKind::Assign(e) => user(&e.user).map(|u| licensing::assign(state, u, e.license, now)),
        EventKind::Unassign(e) => user(&e.user).map(|u| licensing::unassign(state, u, e.license)),
        EventKind::Disable(e) => user(&e.user).map(|u| licensing::disable(state, u, e.license)),
        EventKind::RemoveMobileUser(id) => user(id).map(|u| licensing::remove_mobile_user(state, u)),
        EventKind::Activate(id) => user(id).map(|u| seats::activate(state, u)),
        EventKind::Deactivate(id) => user(id).map(|u| seats::deactivate(state, u)),
        EventKind::Login(id) => user(id).map(|u| seats::login(state, u, now)),
        EventKind::Logout(id) => user(id).map(|u| seats::logout(state, u)),
        EventKind::Activity(e) => user(&e.user).map(|u| seats::activity(state, u, e.tab_open, now)),
        EventKind::CloseSession(id) => user(id).map(|u| seats::close_session(state, u, now)),
        EventKind::SetPassword(e) => user(&e.user).map(|u| accounts::set_password(u, &e.password, &e.confirm)),
        EventKind::CreateUser(e) => user(&e.actor).map(|actor| {
            let password = e.password.as_deref().map(|p| (p, e.confirm.as_deref().unwrap_or("")));
            accounts::create_user(state, actor, &e.user, password, now)
        }),
        EventKind::EditUser(e) => user(&e.user).and_then(|u| Ok(accounts::edit_user(state, user(&e.actor)?, u, e))),
        EventKind::CreateGroup(e) => user(&e.actor).and_then(|actor| {
            let members = e.members.iter().map(|m| user(m)).collect::<Result<Vec<_>, _>>()?;
            Ok(accounts::create_group(state, actor, &e.group, &members))
        }),
        EventKind::EditGroup(e) => user(&e.actor).map(|actor| accounts::edit_group(state, actor, e)),
        EventKind::BlockUser(e) => {
            user(&e.user).and_then(|u| Ok(accounts::block_user(state, user(&e.actor)?, u)))
        }
        EventKind::UnblockUser(e) => {
            user(&e.user).and_then(|u| Ok(accounts::unblock_user(state, user(&e.actor)?, u)))
        }
        EventKind::DeleteUser(e) => {
            user(&e.user).and_then(|u| Ok(accounts::delete_user(state, user(&e.actor)?, u, now)))
        }
        EventKind::DeleteGroup(e) => user(&e.actor).map(|actor| accounts::delete_group(state, actor, &e.group)),
        EventKind::SaveFeatures(e) => user(&e.user).map(|u| features::save_features(state, u, &e.features)),
        EventKind::SetAppToggle(e) => {
            user(&e.user).map(|u| features::set_app_toggle(state, u, e.recording, e.crm_overlay))
        }
        EventKind::SetPlan(plan) => Ok(features::set_plan(state, plan)),
        EventKind::Call(e) => user(&e.user).map(|u| features::call(state, u, &e.to, e.direction)),
        EventKind::Sms(e) => user(&e.user).map(|u| features::sms(state, u, &e.to, e.direction)),
        EventKind::SetSettings(change) => Ok(organisation::set_settings(state, change)),
    };
    decision.unwrap_or_else(|denial| denial)
}
