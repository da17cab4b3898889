//! Where decisions are made: the policy component in a sandbox, or the same
//! rules linked natively, behind one interface that speaks the contract's
//! types (`crate::model`, generated from the WIT).
//!
//! An [`Instance`] holds organisations and listings and names them by
//! handle ([`OrgId`], [`ListingId`]), as the component does: a listing can be
//! imported onto another and loaded as an organisation only inside one
//! instance. The component path moves values straight between the host's
//! types and the canonical ABI; the native path converts them to the rules
//! crate's own types (the same WIT, so the same serde shape) with postcard.

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasmtime::component::ResourceAny;

use crate::error::{Error, Result};
use crate::model::{
    Channel, Comparison, Decision, Diagnostic, Effect, Event, Instant, OrgState, Outcome, OutcomeCount, PolicyInfo,
    Problem, Scenario, Settings, Severity, Usage, User, UserName,
};
use crate::policy::{Policy, Sandbox};

/// Where decisions are made: the component (the product) or the same rules
/// linked natively (for comparison, tests and benchmarks).
#[derive(Clone)]
pub enum Evaluator {
    Component(Policy),
    Native,
}

impl Evaluator {
    /// A new instance: a store of its own for the component.
    pub fn instance(&self) -> Result<Instance> {
        Ok(match self {
            Evaluator::Component(policy) => Instance::Component(Box::new(policy.instantiate()?)),
            Evaluator::Native => Instance::Native(NativeInstance::default()),
        })
    }
}

/// One instance of the rules, holding organisations and listings.
pub enum Instance {
    Component(Box<Sandbox>),
    Native(NativeInstance),
}

/// The natively linked rules' organisations and listings, by handle.
#[derive(Default)]
pub struct NativeInstance {
    orgs: Vec<Option<turnstile_policy::Org>>,
    listings: Vec<Option<turnstile_policy::listing::Listing>>,
}

/// An organisation inside an [`Instance`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrgId(Handle);

/// A licence file or users listing inside an [`Instance`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ListingId(Handle);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Handle {
    Component(ResourceAny),
    Native(usize),
}

/// Moves a value between the host's types and the rules crate's.
fn bridge<A: Serialize + ?Sized, B: DeserializeOwned>(value: &A) -> Result<B> {
    let bytes = postcard::to_allocvec(value).map_err(|e| Error::policy(format!("encoding a value: {e}")))?;
    postcard::from_bytes(&bytes).map_err(|e| Error::policy(format!("decoding a value: {e}")))
}

/// An event in the rules crate's types (for its names and helpers).
pub fn native_event(event: &Event) -> Result<turnstile_policy::model::Event> {
    bridge(event)
}

/// The rules crate's outcome as the contract's record.
fn outcome(o: turnstile_policy::Outcome) -> Outcome {
    Outcome { allow: o.allow, code: bridge_enum(&o.code), rule: o.rule.to_string(), license: o.license.map(|l| bridge_enum(&l)) }
}

/// A field-less enum moved across (they have the same variants, in order).
fn bridge_enum<A: Serialize, B: DeserializeOwned>(value: &A) -> B {
    bridge(value).expect("the contract's enums agree")
}

impl NativeInstance {
    fn org(&mut self, id: OrgId) -> Result<&mut turnstile_policy::Org> {
        match id.0 {
            Handle::Native(i) => self.orgs.get_mut(i).and_then(Option::as_mut),
            Handle::Component(_) => None,
        }
        .ok_or_else(|| Error::policy("no such organisation in this instance"))
    }

    fn listing(&mut self, id: ListingId) -> Result<&mut turnstile_policy::listing::Listing> {
        match id.0 {
            Handle::Native(i) => self.listings.get_mut(i).and_then(Option::as_mut),
            Handle::Component(_) => None,
        }
        .ok_or_else(|| Error::policy("no such listing in this instance"))
    }

    fn add_org(&mut self, org: turnstile_policy::Org) -> OrgId {
        self.orgs.push(Some(org));
        OrgId(Handle::Native(self.orgs.len() - 1))
    }
}

fn resource(h: Handle) -> Result<ResourceAny> {
    match h {
        Handle::Component(r) => Ok(r),
        Handle::Native(_) => Err(Error::policy("a native handle given to the component")),
    }
}

/// The engine's problems with a state, as diagnostics of `source`.
pub fn problems(source: &str, problems: Vec<Problem>) -> Error {
    Error::diagnostics(
        problems
            .into_iter()
            .map(|p| Diagnostic {
                source: source.to_string(),
                line: 0,
                column: 0,
                path: p.field,
                severity: Severity::Error,
                message: p.message,
            })
            .collect(),
    )
}

impl Instance {
    pub fn info(&mut self) -> Result<PolicyInfo> {
        match self {
            Instance::Component(sb) => sb.call("asking for its version", |s, b| b.turnstile_policy_engine().call_info(s)),
            Instance::Native(_) => bridge(&turnstile_policy::info()),
        }
    }

    // -------------------------------------------------------------- scenarios

    /// Reads a scenario; a bad one is an input error with every problem placed.
    pub fn parse_scenario(&mut self, text: &str, source: &str) -> Result<Scenario> {
        let parsed = match self {
            Instance::Component(sb) => {
                sb.call(&format!("reading {source}"), |s, b| b.turnstile_policy_scenario().call_parse(s, text, source))?
            }
            Instance::Native(_) => match turnstile_policy::scenario::parse(text, source) {
                Ok(scenario) => Ok(bridge(&scenario)?),
                Err(diagnostics) => Err(bridge(&diagnostics)?),
            },
        };
        parsed.map_err(Error::diagnostics)
    }

    /// Reads an `org` object, then applies `sets` (`KEY=VALUE`).
    pub fn parse_org(&mut self, text: &str, source: &str, sets: &[String]) -> Result<Settings> {
        let parsed = match self {
            Instance::Component(sb) => sb.call(&format!("reading {source}"), |s, b| {
                b.turnstile_policy_scenario().call_parse_org(s, text, source, sets)
            })?,
            Instance::Native(_) => match turnstile_policy::scenario::parse_org(text, source, sets) {
                Ok(settings) => Ok(bridge(&settings)?),
                Err(d) => Err(bridge(&d)?),
            },
        };
        parsed.map_err(|d| Error::diagnostics(vec![d]))
    }

    /// The JSON line `turnstile run` prints for event number `index`.
    pub fn render_decision(&mut self, index: u32, event: &Event, decision: &Decision) -> Result<String> {
        match self {
            Instance::Component(sb) => sb.call(&format!("writing decision {index}"), |s, b| {
                b.turnstile_policy_scenario().call_render_decision(s, index, event, decision)
            }),
            Instance::Native(_) => {
                Ok(turnstile_policy::scenario::render_decision(index, &bridge(event)?, &bridge(decision)?))
            }
        }
    }

    /// A state as a scenario without events.
    pub fn render_state(&mut self, state: &OrgState) -> Result<String> {
        match self {
            Instance::Component(sb) => {
                sb.call("writing the state", |s, b| b.turnstile_policy_scenario().call_render_state(s, state))
            }
            Instance::Native(_) => Ok(turnstile_policy::scenario::render_state(&bridge(state)?)),
        }
    }

    // -------------------------------------------------------------- organisations

    /// Loads a state; an inconsistent one is an input error naming every
    /// problem (fields as the engine names them, `source` as their file).
    pub fn load(&mut self, state: &OrgState, source: &str) -> Result<OrgId> {
        let loaded = match self {
            Instance::Component(sb) => sb
                .call(&format!("loading {source}"), |s, b| b.turnstile_policy_engine().org().call_load(s, state))?
                .map(|r| OrgId(Handle::Component(r))),
            Instance::Native(n) => match turnstile_policy::Org::load(bridge(state)?) {
                Ok(org) => Ok(n.add_org(org)),
                Err(p) => Err(bridge(&p)?),
            },
        };
        loaded.map_err(|p| problems(source, p))
    }

    pub fn decide(&mut self, org: OrgId, event: &Event) -> Result<Decision> {
        match self {
            Instance::Component(sb) => {
                let r = resource(org.0)?;
                sb.call("deciding", |s, b| b.turnstile_policy_engine().org().call_decide(s, r, event))
            }
            Instance::Native(n) => {
                let event = bridge(event)?;
                bridge(&n.org(org)?.decide(&event))
            }
        }
    }

    pub fn step(&mut self, org: OrgId, event: &Event) -> Result<Decision> {
        match self {
            Instance::Component(sb) => {
                let r = resource(org.0)?;
                sb.call("deciding", |s, b| b.turnstile_policy_engine().org().call_step(s, r, event))
            }
            Instance::Native(n) => {
                let event = bridge(event)?;
                bridge(&n.org(org)?.step(&event))
            }
        }
    }

    /// Performs effects, all or nothing; `Ok(Err(problem))` when refused.
    pub fn apply(&mut self, org: OrgId, effects: &[Effect]) -> Result<std::result::Result<(), Problem>> {
        match self {
            Instance::Component(sb) => {
                let r = resource(org.0)?;
                sb.call("applying effects", |s, b| b.turnstile_policy_engine().org().call_apply(s, r, effects))
            }
            Instance::Native(n) => {
                let effects: Vec<turnstile_policy::model::Effect> = bridge(effects)?;
                match n.org(org)?.apply(&effects) {
                    Ok(()) => Ok(Ok(())),
                    Err(p) => Ok(Err(bridge(&p)?)),
                }
            }
        }
    }

    pub fn snapshot(&mut self, org: OrgId) -> Result<OrgState> {
        match self {
            Instance::Component(sb) => {
                let r = resource(org.0)?;
                sb.call("taking a snapshot", |s, b| b.turnstile_policy_engine().org().call_snapshot(s, r))
            }
            Instance::Native(n) => bridge(&n.org(org)?.snapshot()),
        }
    }

    /// `step` each event, keeping only the outcomes.
    pub fn step_batch(&mut self, org: OrgId, events: &[Event]) -> Result<Vec<Outcome>> {
        match self {
            Instance::Component(sb) => {
                let r = resource(org.0)?;
                sb.call("deciding a batch", |s, b| b.turnstile_policy_engine().org().call_step_batch(s, r, events))
            }
            Instance::Native(n) => {
                let events: Vec<turnstile_policy::model::Event> = bridge(events)?;
                let org = n.org(org)?;
                Ok(events.iter().map(|e| outcome(org.step_outcome(e))).collect())
            }
        }
    }

    /// Users `first..first + count` sync once each at `at`, in order.
    pub fn sync_users(&mut self, org: OrgId, at: Instant, channel: Channel, first: u32, count: u32) -> Result<Vec<Outcome>> {
        match self {
            Instance::Component(sb) => {
                let r = resource(org.0)?;
                sb.call(&format!("deciding the syncs of rows {} to {}", first + 1, first + count), |s, b| {
                    b.turnstile_policy_engine().org().call_sync_users(s, r, at, channel, first, count)
                })
            }
            Instance::Native(n) => {
                let channel = bridge_enum(&channel);
                Ok(n.org(org)?.sync_users(at, channel, first, count).into_iter().map(outcome).collect())
            }
        }
    }

    pub fn user_count(&mut self, org: OrgId) -> Result<u32> {
        match self {
            Instance::Component(sb) => {
                let r = resource(org.0)?;
                sb.call("counting users", |s, b| b.turnstile_policy_engine().org().call_user_count(s, r))
            }
            Instance::Native(n) => Ok(n.org(org)?.state().users().len() as u32),
        }
    }

    pub fn users(&mut self, org: OrgId, first: u32, count: u32) -> Result<Vec<User>> {
        match self {
            Instance::Component(sb) => {
                let r = resource(org.0)?;
                sb.call("reading users", |s, b| b.turnstile_policy_engine().org().call_users(s, r, first, count))
            }
            Instance::Native(n) => bridge(&n.org(org)?.users(first, count)),
        }
    }

    pub fn user_names(&mut self, org: OrgId, positions: &[u32]) -> Result<Vec<UserName>> {
        match self {
            Instance::Component(sb) => {
                let r = resource(org.0)?;
                sb.call("reading user names", |s, b| b.turnstile_policy_engine().org().call_user_names(s, r, positions))
            }
            Instance::Native(n) => bridge(&n.org(org)?.user_names(positions)),
        }
    }

    /// What the organisation uses at `at` (O2).
    pub fn usage(&mut self, org: OrgId, at: Instant) -> Result<Usage> {
        match self {
            Instance::Component(sb) => {
                let r = resource(org.0)?;
                sb.call("asking for usage", |s, b| b.turnstile_policy_engine().org().call_usage(s, r, at))
            }
            Instance::Native(n) => bridge(&n.org(org)?.usage(at)),
        }
    }

    // -------------------------------------------------------------- licence files

    /// An empty listing; `source` names the file in diagnostics.
    pub fn listing(&mut self, source: &str) -> Result<ListingId> {
        match self {
            Instance::Component(sb) => sb
                .call("starting a listing", |s, b| b.turnstile_policy_listing().listing().call_constructor(s, source))
                .map(|r| ListingId(Handle::Component(r))),
            Instance::Native(n) => {
                n.listings.push(Some(turnstile_policy::listing::Listing::new(source)));
                Ok(ListingId(Handle::Native(n.listings.len() - 1)))
            }
        }
    }

    /// The next bytes of a listing's file; `false` once its reading has
    /// stopped (see the WIT's `feed`).
    pub fn feed(&mut self, listing: ListingId, bytes: &[u8]) -> Result<bool> {
        match self {
            Instance::Component(sb) => {
                let r = resource(listing.0)?;
                sb.call("reading a listing", |s, b| b.turnstile_policy_listing().listing().call_feed(s, r, bytes))
            }
            Instance::Native(n) => Ok(n.listing(listing)?.feed(bytes)),
        }
    }

    /// The end of the file: its warnings and errors, in file order.
    pub fn finish(&mut self, listing: ListingId) -> Result<Vec<Diagnostic>> {
        match self {
            Instance::Component(sb) => {
                let r = resource(listing.0)?;
                sb.call("reading a listing", |s, b| b.turnstile_policy_listing().listing().call_finish(s, r))
            }
            Instance::Native(n) => bridge(&n.listing(listing)?.finish()),
        }
    }

    pub fn rows(&mut self, listing: ListingId) -> Result<u32> {
        match self {
            Instance::Component(sb) => {
                let r = resource(listing.0)?;
                sb.call("counting rows", |s, b| b.turnstile_policy_listing().listing().call_rows(s, r))
            }
            Instance::Native(n) => Ok(n.listing(listing)?.rows() as u32),
        }
    }

    pub fn lines(&mut self, listing: ListingId) -> Result<Vec<u32>> {
        match self {
            Instance::Component(sb) => {
                let r = resource(listing.0)?;
                sb.call("reading line numbers", |s, b| b.turnstile_policy_listing().listing().call_lines(s, r))
            }
            Instance::Native(n) => Ok(n.listing(listing)?.lines()),
        }
    }

    /// Imports `file`'s licences onto `onto`'s users; the errors, if any
    /// (then nothing changed).
    pub fn import(&mut self, onto: ListingId, file: ListingId) -> Result<Vec<Diagnostic>> {
        match self {
            Instance::Component(sb) => {
                let (onto, file) = (resource(onto.0)?, resource(file.0)?);
                sb.call("importing", |s, b| b.turnstile_policy_listing().listing().call_import(s, onto, file))
            }
            Instance::Native(n) => {
                let (Handle::Native(o), Handle::Native(f)) = (onto.0, file.0) else {
                    return Err(Error::policy("a component handle given to the native rules"));
                };
                if o == f {
                    return Ok(Vec::new());
                }
                let file = n.listings.get_mut(f).and_then(Option::take).ok_or_else(|| Error::policy("no such listing"))?;
                let errors = n.listing(onto).map(|l| l.import(&file));
                n.listings[f] = Some(file);
                bridge(&errors?)
            }
        }
    }

    /// A listing's users as an organisation under `settings` (none: counts
    /// unchecked); the listing is used up. Problems are placed at rows.
    pub fn load_listing(&mut self, listing: ListingId, settings: Option<&Settings>, org_source: &str) -> Result<OrgId> {
        let loaded = match self {
            Instance::Component(sb) => {
                let r = resource(listing.0)?;
                sb.call("loading the users", |s, b| {
                    b.turnstile_policy_listing().listing().call_load(s, r, settings, org_source)
                })?
                .map(|r| OrgId(Handle::Component(r)))
            }
            Instance::Native(n) => {
                let Handle::Native(i) = listing.0 else { return Err(Error::policy("a component handle")) };
                let l = n.listings.get_mut(i).and_then(Option::take).ok_or_else(|| Error::policy("no such listing"))?;
                let settings = settings.map(bridge).transpose()?;
                match l.load(settings, org_source) {
                    Ok(state) => Ok(n.add_org(turnstile_policy::Org::from_state(state))),
                    Err(d) => Err(bridge(&d)?),
                }
            }
        };
        loaded.map_err(Error::diagnostics)
    }

    /// `org`'s users from `first` as the licence import/export file.
    pub fn write_licenses(&mut self, org: OrgId, first: u32, count: u32) -> Result<String> {
        match self {
            Instance::Component(sb) => {
                let r = resource(org.0)?;
                sb.call("writing licences", |s, b| b.turnstile_policy_listing().call_write_licenses(s, r, first, count))
            }
            Instance::Native(n) => Ok(turnstile_policy::listing::write_licenses(n.org(org)?.state(), first, count)),
        }
    }

    /// `org`'s users from `first` as a users listing.
    pub fn write_listing(&mut self, org: OrgId, first: u32, count: u32) -> Result<String> {
        match self {
            Instance::Component(sb) => {
                let r = resource(org.0)?;
                sb.call("writing the listing", |s, b| b.turnstile_policy_listing().call_write_listing(s, r, first, count))
            }
            Instance::Native(n) => Ok(turnstile_policy::listing::write_listing(n.org(org)?.state(), first, count)),
        }
    }

    /// Two sides of a what-if compared.
    pub fn compare(&mut self, before: &[Outcome], after: &[Outcome]) -> Result<Comparison> {
        match self {
            Instance::Component(sb) => {
                sb.call("comparing outcomes", |s, b| b.turnstile_policy_listing().call_compare(s, before, after))
            }
            Instance::Native(_) => {
                let c = turnstile_policy::listing::compare(before, after, |o| {
                    (o.allow, bridge_enum(&o.code), o.license.map(|l| bridge_enum(&l)))
                });
                Ok(Comparison {
                    counts: c
                        .counts
                        .into_iter()
                        .map(|(outcome, before, after)| OutcomeCount { outcome: outcome.to_string(), before, after })
                        .collect(),
                    changed: c.changed,
                })
            }
        }
    }
}
