//! Where decisions are made: the policy component in a sandbox, or the same
//! rules linked natively, behind one interface that speaks the contract's
//! types (`crate::model`, generated from the WIT).
//!
//! An [`Instance`] holds organisations (and loaders building them) and names
//! them by handle ([`OrgId`], [`LoaderId`]), as the component does. The component path moves values straight between the host's
//! types and the canonical ABI; the native path converts them to the rules
//! crate's own types (the same WIT, so the same serde shape) with postcard.

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasmtime::component::ResourceAny;

use crate::error::{Error, Result};
use crate::model::{
    Channel, Code, Decision, Diagnostic, Effect, Event, GrantedLicense, Instant, OrgState, Outcome, Outcomes,
    PolicyInfo, Population, Problem, Remedy, Scenario, SessionStatus, Settings, Severity, Usage, UserName,
};
use crate::policy::{Policy, Sandbox, scenario};

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
            Evaluator::Component(policy) => Instance::Component(Box::new(Components {
                engine: policy.instantiate()?,
                formats: None,
                policy: policy.clone(),
            })),
            Evaluator::Native => Instance::Native(NativeInstance::default()),
        })
    }

    /// Which rules decide, as a JSON object for an audit log:
    /// `{"version":"0.3.0","rules":"2","sha256":"…"}` (the component's version,
    /// its rules' edition, and the SHA-256 of the component file). The native
    /// rules are the embedded component's source, tested byte-identical to it,
    /// so they carry the embedded component's hash.
    pub fn stamp(&self) -> Result<String> {
        let info = self.instance()?.info()?;
        let sha256 = match self {
            Evaluator::Component(policy) => policy.sha256(),
            Evaluator::Native => crate::policy::embedded_sha256(),
        };
        // The strings come from the component, which may be anyone's (--policy).
        let quote = |text: &str| {
            let mut quoted = String::from('"');
            for c in text.chars() {
                match c {
                    '"' | '\\' => quoted.extend(['\\', c]),
                    c if c < ' ' => quoted.push_str(&format!("\\u{:04x}", c as u32)),
                    c => quoted.push(c),
                }
            }
            quoted + "\""
        };
        Ok(format!(r#"{{"version":{},"rules":{},"sha256":{}}}"#, quote(&info.version), quote(&info.rules), quote(&sha256)))
    }
}

/// One instance of the rules, holding organisations and listings.
pub enum Instance {
    Component(Box<Components>),
    Native(NativeInstance),
}

/// The policy component in a sandbox, and the formats component in one of
/// its own once a scenario is read or written.
pub struct Components {
    policy: Policy,
    engine: Sandbox,
    formats: Option<Sandbox<scenario::Guest>>,
}

impl Components {
    /// A call into the formats component (started on first use). A failed
    /// call poisons only that component's store: the next call starts a new one.
    fn formats<T>(
        &mut self,
        what: &str,
        f: impl FnOnce(&mut wasmtime::Store<crate::policy::Host>, &scenario::Guest) -> wasmtime::Result<T>,
    ) -> Result<T> {
        let formats = match &mut self.formats {
            Some(formats) => formats,
            None => self.formats.insert(self.policy.instantiate_formats()?),
        };
        formats.call(what, f).inspect_err(|_| self.formats = None)
    }
}

/// The natively linked rules' organisations and loaders, by handle.
#[derive(Default)]
pub struct NativeInstance {
    orgs: Vec<Option<turnstile_policy::Org>>,
    loaders: Vec<Option<turnstile_policy::state::Loader>>,
}

/// An organisation inside an [`Instance`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrgId(Handle);

/// An organisation being loaded in pieces inside an [`Instance`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoaderId(Handle);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Handle {
    Component(ResourceAny),
    Native(usize),
}

/// Moves a value between the host's types and the rules crate's.
pub(crate) fn bridge<A: Serialize + ?Sized, B: DeserializeOwned>(value: &A) -> Result<B> {
    let bytes = postcard::to_allocvec(value).map_err(|e| Error::policy(format!("encoding a value: {e}")))?;
    postcard::from_bytes(&bytes).map_err(|e| Error::policy(format!("decoding a value: {e}")))
}

/// An event in the rules crate's types (for its names and helpers).
pub fn native_event(event: &Event) -> Result<turnstile_policy::model::Event> {
    bridge(event)
}

/// A population in the host's types: the same columns, moved.
pub fn host_population(p: turnstile_policy::model::Population) -> Population {
    Population {
        text: p.text,
        ends: p.ends,
        standard: p.standard,
        inspections: p.inspections,
        external: p.external,
        temporary_since: p.temporary_since,
        last_sync: p.last_sync,
        assigned_at: p.assigned_at,
    }
}

/// A population in the rules crate's types (see [`host_population`]).
pub fn native_population(p: Population) -> turnstile_policy::model::Population {
    turnstile_policy::model::Population {
        text: p.text,
        ends: p.ends,
        standard: p.standard,
        inspections: p.inspections,
        external: p.external,
        temporary_since: p.temporary_since,
        last_sync: p.last_sync,
        assigned_at: p.assigned_at,
    }
}

/// The rules crate's outcomes as the contract's record: rules named once.
fn outcomes(batch: impl IntoIterator<Item = turnstile_policy::Outcome>) -> Outcomes {
    let mut rules: Vec<String> = Vec::new();
    let items = batch
        .into_iter()
        .map(|o| {
            let rule = match rules.iter().position(|r| r == o.rule) {
                Some(i) => i,
                None => {
                    rules.push(o.rule.to_string());
                    rules.len() - 1
                }
            };
            Outcome { allow: o.allow, code: host_code(o.code), rule: rule as u16, license: o.license.map(host_license) }
        })
        .collect();
    Outcomes { rules, items }
}

/// The host's code for the rules crate's (a table built once).
fn host_code(code: turnstile_policy::model::Code) -> Code {
    use turnstile_policy::model::Named;
    static CODES: std::sync::OnceLock<Vec<Code>> = std::sync::OnceLock::new();
    CODES.get_or_init(|| turnstile_policy::model::Code::ALL.iter().map(bridge_enum).collect())[code as usize]
}

fn host_license(license: turnstile_policy::model::GrantedLicense) -> GrantedLicense {
    use turnstile_policy::model::Named;
    static LICENSES: std::sync::OnceLock<Vec<GrantedLicense>> = std::sync::OnceLock::new();
    LICENSES.get_or_init(|| turnstile_policy::model::GrantedLicense::ALL.iter().map(bridge_enum).collect())
        [license as usize]
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

    fn loader(&mut self, id: LoaderId) -> Result<&mut turnstile_policy::state::Loader> {
        match id.0 {
            Handle::Native(i) => self.loaders.get_mut(i).and_then(Option::as_mut),
            Handle::Component(_) => None,
        }
        .ok_or_else(|| Error::policy("no such loader in this instance"))
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
            Instance::Component(c) => c.engine.call("asking for its version", |s, e| e.call_info(s)),
            Instance::Native(_) => bridge(&turnstile_policy::info()),
        }
    }

    // -------------------------------------------------------------- scenarios

    /// Reads a scenario; a bad one is an input error with every problem placed.
    pub fn parse_scenario(&mut self, text: &str, source: &str) -> Result<Scenario> {
        let parsed = match self {
            Instance::Component(c) => {
                c.formats(&format!("reading {source}"), |s, f| f.call_parse(s, text, source))?
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
            Instance::Component(c) => c.formats(&format!("reading {source}"), |s, f| f.call_parse_org(s, text, source, sets))?,
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
            Instance::Component(c) => c.formats(&format!("writing decision {index}"), |s, f| f.call_render_decision(s, index, event, decision)),
            Instance::Native(_) => {
                Ok(turnstile_policy::scenario::render_decision(index, &bridge(event)?, &bridge(decision)?))
            }
        }
    }

    /// [`Instance::render_decision`] with a denial's remedies (`--explain`).
    pub fn render_explained(&mut self, index: u32, event: &Event, decision: &Decision, remedies: &[Remedy]) -> Result<String> {
        match self {
            Instance::Component(c) => c.formats(&format!("writing decision {index}"), |s, f| {
                f.call_render_explained(s, index, event, decision, remedies)
            }),
            Instance::Native(_) => Ok(turnstile_policy::scenario::render_explained(
                index,
                &bridge(event)?,
                &bridge(decision)?,
                &bridge::<_, Vec<turnstile_policy::model::Remedy>>(remedies)?,
            )),
        }
    }

    /// A state as a scenario without events.
    pub fn render_state(&mut self, state: &OrgState) -> Result<String> {
        match self {
            Instance::Component(c) => {
                c.formats("writing the state", |s, f| f.call_render_state(s, state))
            }
            Instance::Native(_) => Ok(turnstile_policy::scenario::render_state(&bridge(state)?)),
        }
    }

    // -------------------------------------------------------------- organisations

    /// Loads a state; an inconsistent one is an input error naming every
    /// problem (fields as the engine names them, `source` as their file).
    pub fn load(&mut self, state: &OrgState, source: &str) -> Result<OrgId> {
        let loaded = match self {
            Instance::Component(c) => c
                .engine
                .call(&format!("loading {source}"), |s, e| e.org().call_load(s, state))?
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
            Instance::Component(c) => {
                let r = resource(org.0)?;
                c.engine.call("deciding", |s, e| e.org().call_decide(s, r, event))
            }
            Instance::Native(n) => {
                let event = bridge(event)?;
                bridge(&n.org(org)?.decide(&event))
            }
        }
    }

    pub fn step(&mut self, org: OrgId, event: &Event) -> Result<Decision> {
        match self {
            Instance::Component(c) => {
                let r = resource(org.0)?;
                c.engine.call("deciding", |s, e| e.org().call_step(s, r, event))
            }
            Instance::Native(n) => {
                let event = bridge(event)?;
                bridge(&n.org(org)?.step(&event))
            }
        }
    }

    /// What would let `event` through if it is denied now, smallest first,
    /// each remedy tried by the engine and rolled back. Changes nothing.
    pub fn explain(&mut self, org: OrgId, event: &Event) -> Result<Vec<Remedy>> {
        match self {
            Instance::Component(c) => {
                let r = resource(org.0)?;
                c.engine.call("explaining", |s, e| e.org().call_explain(s, r, event))
            }
            Instance::Native(n) => {
                let event = bridge(event)?;
                bridge(&n.org(org)?.explain(&event))
            }
        }
    }

    /// Performs effects, all or nothing; `Ok(Err(problem))` when refused.
    pub fn apply(&mut self, org: OrgId, effects: &[Effect]) -> Result<std::result::Result<(), Problem>> {
        match self {
            Instance::Component(c) => {
                let r = resource(org.0)?;
                c.engine.call("applying effects", |s, e| e.org().call_apply(s, r, effects))
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
            Instance::Component(c) => {
                let r = resource(org.0)?;
                c.engine.call("taking a snapshot", |s, e| e.org().call_snapshot(s, r))
            }
            Instance::Native(n) => bridge(&n.org(org)?.snapshot()),
        }
    }

    /// `step` each event, keeping only the outcomes.
    pub fn step_batch(&mut self, org: OrgId, events: &[Event]) -> Result<Outcomes> {
        match self {
            Instance::Component(c) => {
                let r = resource(org.0)?;
                c.engine.call("deciding a batch", |s, e| e.org().call_step_batch(s, r, events))
            }
            Instance::Native(n) => {
                let events: Vec<turnstile_policy::model::Event> = bridge(events)?;
                let org = n.org(org)?;
                Ok(outcomes(events.iter().map(|e| org.step_outcome(e))))
            }
        }
    }

    /// Users `first..first + count` sync once each at `at`, in order.
    pub fn sync_users(&mut self, org: OrgId, at: Instant, channel: Channel, first: u32, count: u32) -> Result<Outcomes> {
        match self {
            Instance::Component(c) => {
                let r = resource(org.0)?;
                c.engine.call(&format!("deciding the syncs of rows {} to {}", first + 1, first + count), |s, e| {
                    e.org().call_sync_users(s, r, at, channel, first, count)
                })
            }
            Instance::Native(n) => {
                let channel = bridge_enum(&channel);
                Ok(outcomes(n.org(org)?.sync_users(at, channel, first, count)))
            }
        }
    }

    pub fn user_count(&mut self, org: OrgId) -> Result<u32> {
        match self {
            Instance::Component(c) => {
                let r = resource(org.0)?;
                c.engine.call("counting users", |s, e| e.org().call_user_count(s, r))
            }
            Instance::Native(n) => Ok(n.org(org)?.state().users().len() as u32),
        }
    }

    pub fn user_names(&mut self, org: OrgId, positions: &[u32]) -> Result<Vec<UserName>> {
        match self {
            Instance::Component(c) => {
                let r = resource(org.0)?;
                c.engine.call("reading user names", |s, e| e.org().call_user_names(s, r, positions))
            }
            Instance::Native(n) => bridge(&n.org(org)?.user_names(positions)),
        }
    }

    /// What the organisation uses at `at` (O2).
    pub fn usage(&mut self, org: OrgId, at: Instant) -> Result<Usage> {
        match self {
            Instance::Component(c) => {
                let r = resource(org.0)?;
                c.engine.call("asking for usage", |s, e| e.org().call_usage(s, r, at))
            }
            Instance::Native(n) => bridge(&n.org(org)?.usage(at)),
        }
    }

    /// Every open session at `at`, with its idle time and liveness (O3).
    pub fn sessions(&mut self, org: OrgId, at: Instant) -> Result<Vec<SessionStatus>> {
        match self {
            Instance::Component(c) => {
                let r = resource(org.0)?;
                c.engine.call("asking for sessions", |s, e| e.org().call_sessions(s, r, at))
            }
            Instance::Native(n) => bridge(&n.org(org)?.sessions(at)),
        }
    }

    // -------------------------------------------------------------- loading in pieces

    /// A loader: an organisation built from pieces (see the WIT's `loader`).
    pub fn loader(&mut self, settings: &Settings) -> Result<LoaderId> {
        match self {
            Instance::Component(c) => c
                .engine
                .call("starting a loader", |s, e| e.loader().call_constructor(s, settings))
                .map(|r| LoaderId(Handle::Component(r))),
            Instance::Native(n) => {
                n.loaders.push(Some(turnstile_policy::state::Loader::new(bridge(settings)?)));
                Ok(LoaderId(Handle::Native(n.loaders.len() - 1)))
            }
        }
    }

    /// About how many users a loader will get, with how many bytes of texts.
    pub fn expect(&mut self, loader: LoaderId, users: u32, text_bytes: u64) -> Result<()> {
        match self {
            Instance::Component(c) => {
                let r = resource(loader.0)?;
                c.engine.call("loading users", |s, e| e.loader().call_expect(s, r, users, text_bytes))
            }
            Instance::Native(n) => {
                n.loader(loader)?.reserve(users as usize, text_bytes as usize);
                Ok(())
            }
        }
    }

    /// More users for a loader, in columns (the rules crate's type: the
    /// native path takes it as it is).
    pub fn add_native_population(&mut self, loader: LoaderId, users: turnstile_policy::model::Population) -> Result<()> {
        match self {
            Instance::Component(_) => self.add_population(loader, &host_population(users)),
            Instance::Native(n) => {
                n.loader(loader)?.add_population(&users);
                Ok(())
            }
        }
    }

    /// More users for a loader, in columns.
    pub fn add_population(&mut self, loader: LoaderId, users: &Population) -> Result<()> {
        match self {
            Instance::Component(c) => {
                let r = resource(loader.0)?;
                c.engine.call("loading users", |s, e| e.loader().call_add_population(s, r, users))
            }
            Instance::Native(n) => {
                n.loader(loader)?.add_population(&native_population(users.clone()));
                Ok(())
            }
        }
    }

    /// The loader's organisation, or every problem (`Ok(Err(..))`) with the
    /// engine's fields, for the caller to place.
    pub fn finish_loader(&mut self, loader: LoaderId) -> Result<std::result::Result<OrgId, Vec<Problem>>> {
        match self {
            Instance::Component(c) => {
                let r = resource(loader.0)?;
                let finished = c.engine.call("loading users", |s, e| e.loader().call_finish(s, r))?;
                Ok(finished.map(|r| OrgId(Handle::Component(r))))
            }
            Instance::Native(n) => {
                let Handle::Native(i) = loader.0 else { return Err(Error::policy("a component handle")) };
                let l = n.loaders.get_mut(i).and_then(Option::take).ok_or_else(|| Error::policy("no such loader"))?;
                match l.finish() {
                    Ok(state) => Ok(Ok(n.add_org(turnstile_policy::Org::from_state(state)))),
                    Err(problems) => Ok(Err(bridge(&problems)?)),
                }
            }
        }
    }

    /// Users of `org` from position `first`, in columns.
    pub fn population(&mut self, org: OrgId, first: u32, count: u32) -> Result<Population> {
        match self {
            Instance::Component(c) => {
                let r = resource(org.0)?;
                c.engine.call("reading users", |s, e| e.org().call_population(s, r, first, count))
            }
            Instance::Native(n) => Ok(host_population(n.org(org)?.population(first, count))),
        }
    }
}
