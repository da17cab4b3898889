//! The component's exports: the `engine`, `scenario` and `listing`
//! interfaces over the crate's modules.
//!
//! Compiled only for wasm32. Resource methods take `&self`, so state sits
//! in a `RefCell`; the component is single-threaded.

use std::cell::RefCell;

use crate::engine::Outcome;
use crate::exports::turnstile::policy::engine::{self, Guest as EngineGuest, GuestLoader, GuestOrg};
use crate::exports::turnstile::policy::listing::{self, Guest as ListingGuest, GuestListing};
use crate::exports::turnstile::policy::scenario::Guest as ScenarioGuest;
use crate::model::{
    Channel, Decision, Diagnostic, Effect, Event, Group, Instant, OrgState, PolicyInfo, Problem, Scenario, Session,
    Settings, User, UserName,
};

struct Component;

struct OrgResource(RefCell<crate::Org>);

struct LoaderResource(RefCell<Option<crate::state::Loader>>);

struct ListingResource(RefCell<crate::listing::Listing>);

fn outcome(o: Outcome) -> engine::Outcome {
    engine::Outcome { allow: o.allow, code: o.code, rule: o.rule.to_string(), license: o.license }
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

    fn decide(&self, event: Event) -> Decision {
        self.0.borrow().decide(&event)
    }

    fn apply(&self, effects: Vec<Effect>) -> Result<(), Problem> {
        self.0.borrow_mut().apply(&effects)
    }

    fn step(&self, event: Event) -> Decision {
        self.0.borrow_mut().step(&event)
    }

    fn snapshot(&self) -> OrgState {
        self.0.borrow().snapshot()
    }

    fn step_batch(&self, events: Vec<Event>) -> Vec<engine::Outcome> {
        let mut org = self.0.borrow_mut();
        events.iter().map(|e| outcome(org.step_outcome(e))).collect()
    }

    fn sync_users(&self, at: Instant, channel: Channel, first: u32, count: u32) -> Vec<engine::Outcome> {
        self.0.borrow_mut().sync_users(at, channel, first, count).into_iter().map(outcome).collect()
    }

    fn user_count(&self) -> u32 {
        self.0.borrow().state().users().len() as u32
    }

    fn users(&self, first: u32, count: u32) -> Vec<User> {
        self.0.borrow().users(first, count)
    }

    fn user_names(&self, positions: Vec<u32>) -> Vec<UserName> {
        self.0.borrow().user_names(&positions)
    }

    fn usage(&self, at: Instant) -> engine::Usage {
        self.0.borrow().usage(at)
    }
}

impl GuestLoader for LoaderResource {
    fn new(settings: Settings) -> Self {
        LoaderResource(RefCell::new(Some(crate::state::Loader::new(settings))))
    }

    fn add_groups(&self, groups: Vec<Group>) {
        if let Some(l) = self.0.borrow_mut().as_mut() {
            l.add_groups(groups);
        }
    }

    fn add_users(&self, users: Vec<User>) {
        if let Some(l) = self.0.borrow_mut().as_mut() {
            l.reserve(users.len());
            l.add_users(users);
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

impl ScenarioGuest for Component {
    fn parse(text: String, source: String) -> Result<Scenario, Vec<Diagnostic>> {
        crate::scenario::parse(&text, &source)
    }

    fn parse_org(text: String, source: String, sets: Vec<String>) -> Result<Settings, Diagnostic> {
        crate::scenario::parse_org(&text, &source, &sets)
    }

    fn render_decision(index: u32, event: Event, decision: Decision) -> String {
        crate::scenario::render_decision(index, &event, &decision)
    }

    fn render_state(state: OrgState) -> String {
        crate::scenario::render_state(&state)
    }

    fn render_diagnostic(diagnostic: Diagnostic) -> String {
        crate::scenario::diagnostic_line(&diagnostic)
    }
}

impl ListingGuest for Component {
    type Listing = ListingResource;

    fn write_licenses(org: engine::OrgBorrow<'_>, first: u32, count: u32) -> String {
        crate::listing::write_licenses(org.get::<OrgResource>().0.borrow().state(), first, count)
    }

    fn write_listing(org: engine::OrgBorrow<'_>, first: u32, count: u32) -> String {
        crate::listing::write_listing(org.get::<OrgResource>().0.borrow().state(), first, count)
    }

    fn compare(before: Vec<engine::Outcome>, after: Vec<engine::Outcome>) -> listing::Comparison {
        let c = crate::listing::compare(&before, &after, |o| (o.allow, o.code, o.license));
        listing::Comparison {
            counts: c
                .counts
                .into_iter()
                .map(|(outcome, before, after)| listing::OutcomeCount { outcome: outcome.to_string(), before, after })
                .collect(),
            changed: c.changed,
        }
    }
}

impl GuestListing for ListingResource {
    fn new(source: String) -> Self {
        ListingResource(RefCell::new(crate::listing::Listing::new(&source)))
    }

    fn feed(&self, bytes: Vec<u8>) -> bool {
        self.0.borrow_mut().feed(&bytes)
    }

    fn finish(&self) -> Vec<Diagnostic> {
        self.0.borrow_mut().finish()
    }

    fn rows(&self) -> u32 {
        self.0.borrow().rows() as u32
    }

    fn lines(&self) -> Vec<u32> {
        self.0.borrow().lines()
    }

    fn import(&self, file: listing::ListingBorrow<'_>) -> Vec<Diagnostic> {
        let file = file.get::<ListingResource>();
        if std::ptr::eq(file, self) {
            // A file imported onto itself changes nothing.
            return Vec::new();
        }
        self.0.borrow_mut().import(&file.0.borrow())
    }

    fn load(listing: listing::Listing, settings: Option<Settings>, org_source: String) -> Result<engine::Org, Vec<Diagnostic>> {
        let listing = listing.into_inner::<ListingResource>().0.into_inner();
        listing.load(settings, &org_source).map(|state| org_handle(crate::Org::from_state(state)))
    }
}

crate::export!(Component with_types_in crate);
