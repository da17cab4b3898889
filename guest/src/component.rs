//! The policy component's exports: the `engine` interface over the crate's
//! modules (the formats component, `formats`, reads and writes the files).
//!
//! Compiled only for wasm32. Resource methods take `&self`, so state sits
//! in a `RefCell`; the component is single-threaded.

use std::cell::RefCell;

use crate::engine::Outcome;
use crate::exports::turnstile::policy::engine::{self, Guest as EngineGuest, GuestLoader, GuestOrg};
use crate::exports::turnstile::policy::types;
use crate::model::{
    Channel, Decision, Effect, Event, Group, Instant, OrgState, PolicyInfo, Population, Problem, Remedy,
    Session, Settings, User, UserName,
};

struct Component;

struct OrgResource(RefCell<crate::Org>);

struct LoaderResource(RefCell<Option<crate::state::Loader>>);

/// A batch's outcomes as the contract spells them: rules named once.
fn outcomes(batch: impl IntoIterator<Item = Outcome>) -> types::Outcomes {
    let mut rules: Vec<&'static str> = Vec::new();
    let items = batch
        .into_iter()
        .map(|o| {
            let rule = match rules.iter().position(|r| *r == o.rule) {
                Some(i) => i,
                None => {
                    rules.push(o.rule);
                    rules.len() - 1
                }
            };
            types::Outcome { allow: o.allow, code: o.code, rule: rule as u16, license: o.license }
        })
        .collect();
    types::Outcomes { rules: rules.into_iter().map(str::to_string).collect(), items }
}

impl OrgResource {
    /// `decide` (`step` false) or `step` (`step` true) of `event`.
    #[inline(never)]
    fn decide_or_step(&self, event: Event, step: bool) -> Decision {
        if step { self.0.borrow_mut().step(&event) } else { self.0.borrow().decide(&event) }
    }
}

fn org_handle(org: crate::Org) -> engine::Org {
    engine::Org::new(OrgResource(RefCell::new(org)))
}

impl EngineGuest for Component {
    type Org = OrgResource;
    type Loader = LoaderResource;

    fn default_settings() -> Settings {
        Settings::default()
    }

    fn new_user(id: String) -> User {
        User::new(id)
    }

    fn info() -> PolicyInfo {
        crate::info()
    }
}

impl GuestOrg for OrgResource {
    fn load(state: OrgState) -> Result<engine::Org, Vec<Problem>> {
        crate::Org::load(state).map(org_handle)
    }

    // `decide` and `step` are one function with a flag: their exports are
    // then the same code but for a constant, and binaryen merges them
    // (`--merge-similar-functions`, host/build.rs), one lowering of a
    // decision fewer: the component stays within its size budget
    // (tests/component.rs) with `explain`'s.
    #[inline(always)]
    fn decide(&self, event: Event) -> Decision {
        self.decide_or_step(event, false)
    }

    fn apply(&self, effects: Vec<Effect>) -> Result<(), Problem> {
        self.0.borrow_mut().apply(&effects)
    }

    #[inline(always)]
    fn step(&self, event: Event) -> Decision {
        self.decide_or_step(event, true)
    }

    fn explain(&self, event: Event) -> Vec<Remedy> {
        self.0.borrow_mut().explain(&event)
    }

    fn snapshot(&self) -> OrgState {
        self.0.borrow().snapshot()
    }

    fn step_batch(&self, events: Vec<Event>) -> types::Outcomes {
        let mut org = self.0.borrow_mut();
        outcomes(events.iter().map(|e| org.step_outcome(e)))
    }

    fn sync_users(&self, at: Instant, channel: Channel, first: u32, count: u32) -> types::Outcomes {
        outcomes(self.0.borrow_mut().sync_users(at, channel, first, count))
    }

    fn user_count(&self) -> u32 {
        self.0.borrow().state().users().len() as u32
    }

    fn population(&self, first: u32, count: u32) -> Population {
        self.0.borrow().population(first, count)
    }

    fn user_names(&self, positions: Vec<u32>) -> Vec<UserName> {
        self.0.borrow().user_names(&positions)
    }

    fn usage(&self, at: Instant) -> types::Usage {
        self.0.borrow().usage(at)
    }

    fn sessions(&self, at: Instant) -> Vec<types::SessionStatus> {
        self.0.borrow().sessions(at)
    }
}

impl GuestLoader for LoaderResource {
    fn new(settings: Settings) -> Self {
        LoaderResource(RefCell::new(Some(crate::state::Loader::new(settings))))
    }

    fn expect(&self, users: u32, text_bytes: u64) {
        if let Some(l) = self.0.borrow_mut().as_mut() {
            l.reserve(users as usize, text_bytes.min(u64::from(u32::MAX)) as usize);
        }
    }

    fn add_groups(&self, groups: Vec<Group>) {
        if let Some(l) = self.0.borrow_mut().as_mut() {
            l.add_groups(groups);
        }
    }

    fn add_users(&self, users: Vec<User>) {
        if let Some(l) = self.0.borrow_mut().as_mut() {
            l.add_users(users);
        }
    }

    fn add_population(&self, users: Population) {
        if let Some(l) = self.0.borrow_mut().as_mut() {
            l.add_population(&users);
        }
    }

    fn add_sessions(&self, sessions: Vec<Session>) {
        if let Some(l) = self.0.borrow_mut().as_mut() {
            l.add_sessions(sessions);
        }
    }

    fn finish(loader: engine::Loader) -> Result<engine::Org, Vec<Problem>> {
        let loader = loader.into_inner::<LoaderResource>().0.into_inner();
        match loader {
            Some(l) => l.finish().map(|state| org_handle(crate::Org::from_state(state))),
            None => Err(vec![crate::state::problem("", "this loader has already finished")]),
        }
    }
}


crate::export!(Component with_types_in crate);
