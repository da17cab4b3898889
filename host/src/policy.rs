//! The policy component, loaded with wasmtime, and the native rules behind
//! the same interface.
//!
//! [`Policy`] is a compiled component (the embedded one, or `--policy FILE`);
//! [`Evaluator`] picks the component or the natively linked rules, and
//! [`LoadedOrg`] is one organisation's state inside either.
//!
//! The component's bindings (`bindings::...`) and the native types
//! (`turnstile_policy::model`) are generated from the same WIT, so they have
//! the same serde shape: [`bridge`] moves values across by transcoding
//! through postcard instead of a hand-written field-by-field copy.

use std::path::Path;

use serde::{Serialize, de::DeserializeOwned};
use turnstile_policy::model::{Decision, Effect, Event, OrgState, Problem};
use wasmtime::component::{Component, Linker, ResourceAny};
use wasmtime::{Config, Engine, Store};

use crate::error::{Error, Result};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "policy",
        additional_derives: [serde::Serialize, serde::Deserialize],
    });
}

use bindings::exports::turnstile::policy::engine as wit;

/// The component built from `guest/` by `build.rs`.
pub static EMBEDDED_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/turnstile.wasm"));

/// A compiled policy component, ready to instantiate.
pub struct Policy {
    engine: Engine,
    pre: bindings::PolicyPre<()>,
}

impl Policy {
    /// The component embedded in this binary.
    pub fn embedded() -> Result<Policy> {
        Policy::from_bytes(EMBEDDED_COMPONENT, "the embedded policy component")
    }

    /// A component file, e.g. one written by `turnstile component --out`.
    pub fn from_file(path: &Path) -> Result<Policy> {
        let bytes = std::fs::read(path).map_err(|e| Error::input(path.display(), e))?;
        Policy::from_bytes(&bytes, &path.display().to_string())
    }

    /// `bytes` must be a component exporting `turnstile:policy/engine` with
    /// the types this host was built against, and importing nothing.
    pub fn from_bytes(bytes: &[u8], name: &str) -> Result<Policy> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        let engine = Engine::new(&config).map_err(|e| Error::policy(format!("starting wasmtime: {e}")))?;
        let component = Component::new(&engine, bytes)
            .map_err(|e| Error::input(name, format!("not a WebAssembly component: {e:#}")))?;
        let linker = Linker::new(&engine);
        let pre = linker
            .instantiate_pre(&component)
            .and_then(bindings::PolicyPre::new)
            .map_err(|e| Error::input(name, format!("not a compatible Turnstile policy component: {e:#}")))?;
        Ok(Policy { engine, pre })
    }

    /// Loads a state into a fresh instance. `Ok(Err(problems))` when the
    /// state is inconsistent.
    pub fn load(&self, state: &OrgState) -> Result<Result<ComponentOrg, Vec<Problem>>> {
        let mut store = Store::new(&self.engine, ());
        let instance = self.pre.instantiate(&mut store).map_err(trap)?;
        let state: wit::OrgState = bridge(state)?;
        let loaded = instance.turnstile_policy_engine().org().call_load(&mut store, &state).map_err(trap)?;
        Ok(match loaded {
            Ok(org) => Ok(ComponentOrg { store, instance, org }),
            Err(problems) => Err(bridge(&problems)?),
        })
    }
}

/// One organisation inside its own component instance.
///
/// A trap poisons an instance: after an error from here, drop this value and
/// load the state again.
pub struct ComponentOrg {
    store: Store<()>,
    instance: bindings::Policy,
    org: ResourceAny,
}

impl ComponentOrg {
    pub fn decide(&mut self, event: &Event) -> Result<Decision> {
        let event: wit::Event = bridge(event)?;
        let (org, store, this) = self.parts();
        let d = org.call_decide(store, this, &event).map_err(trap)?;
        bridge(&d)
    }

    pub fn step(&mut self, event: &Event) -> Result<Decision> {
        let event: wit::Event = bridge(event)?;
        let (org, store, this) = self.parts();
        let d = org.call_step(store, this, &event).map_err(trap)?;
        bridge(&d)
    }

    pub fn apply(&mut self, effects: &[Effect]) -> Result<Result<(), Problem>> {
        let effects: Vec<wit::Effect> = bridge(effects)?;
        let (org, store, this) = self.parts();
        let applied = org.call_apply(store, this, &effects).map_err(trap)?;
        Ok(match applied {
            Ok(()) => Ok(()),
            Err(problem) => Err(bridge(&problem)?),
        })
    }

    pub fn snapshot(&mut self) -> Result<OrgState> {
        let (org, store, this) = self.parts();
        let state = org.call_snapshot(store, this).map_err(trap)?;
        bridge(&state)
    }

    /// The resource's methods, the store to call them in, and this org.
    fn parts(&mut self) -> (wit::GuestOrg<'_>, &mut Store<()>, ResourceAny) {
        (self.instance.turnstile_policy_engine().org(), &mut self.store, self.org)
    }
}

/// Where decisions are made: the component (the product) or the same rules
/// linked natively (for comparison, tests and benchmarks).
pub enum Evaluator {
    Component(Policy),
    Native,
}

impl Evaluator {
    pub fn load(&self, state: &OrgState) -> Result<Result<LoadedOrg, Vec<Problem>>> {
        Ok(match self {
            Evaluator::Component(policy) => policy.load(state)?.map(LoadedOrg::Component),
            Evaluator::Native => turnstile_policy::Org::load(state.clone()).map(LoadedOrg::Native),
        })
    }
}

/// One organisation's state, in the component or native.
pub enum LoadedOrg {
    Component(ComponentOrg),
    Native(turnstile_policy::Org),
}

impl LoadedOrg {
    pub fn decide(&mut self, event: &Event) -> Result<Decision> {
        match self {
            LoadedOrg::Component(org) => org.decide(event),
            LoadedOrg::Native(org) => Ok(org.decide(event)),
        }
    }

    pub fn step(&mut self, event: &Event) -> Result<Decision> {
        match self {
            LoadedOrg::Component(org) => org.step(event),
            LoadedOrg::Native(org) => Ok(org.step(event)),
        }
    }

    pub fn apply(&mut self, effects: &[Effect]) -> Result<Result<(), Problem>> {
        match self {
            LoadedOrg::Component(org) => org.apply(effects),
            LoadedOrg::Native(org) => Ok(org.apply(effects)),
        }
    }

    pub fn snapshot(&mut self) -> Result<OrgState> {
        match self {
            LoadedOrg::Component(org) => org.snapshot(),
            LoadedOrg::Native(org) => Ok(org.snapshot()),
        }
    }
}

/// Moves a value between the component's bindings and the native types.
fn bridge<A: Serialize + ?Sized, B: DeserializeOwned>(value: &A) -> Result<B> {
    let bytes = postcard::to_allocvec(value).map_err(|e| Error::policy(format!("encoding a value for the component: {e}")))?;
    postcard::from_bytes(&bytes).map_err(|e| Error::policy(format!("decoding a value from the component: {e}")))
}

fn trap(e: wasmtime::Error) -> Error {
    Error::policy(format!("the policy component failed: {e:#}"))
}
