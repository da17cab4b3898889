//! The policy component on wasmtime: compiled once (and cached between
//! runs), instantiated in a store of its own for each organisation, every
//! call bounded by a deadline and every store by a memory cap.
//!
//! [`Policy`] is the compiled component: cheap to clone and safe to share
//! across threads. [`Policy::instantiate`] gives a [`Sandbox`], one store with
//! the component in it; [`crate::Instance`] is the interface the rest of the
//! host uses, over a sandbox or the natively linked rules.
//!
//! The sandbox (see `docs/sandbox.md`):
//! - a wall-clock deadline on every call, through epoch interruption: a
//!   ticker thread advances the engine's epoch every [`TICK`], and each call
//!   may run for [`Limits::deadline`] worth of ticks;
//! - a memory cap on each store ([`Limits::max_memory`]), through a resource
//!   limiter that refuses growth past it and remembers that it did, so the
//!   error names the limit rather than the trap it causes;
//! - the data a call may hand back is bounded by the same cap (wasmtime's
//!   hostcall fuel), so a large but legitimate value is not mistaken for an
//!   attack.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::{Config, Engine, ResourceLimiter, Store, Trap};

use crate::cache;
use crate::error::{Error, Result};

/// Bindings for every interface of the package (world `all`), so the two
/// components share one family of types: a scenario the formats component
/// reads is loaded into the engine as it is.
pub(crate) mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "all",
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
    });
}

pub(crate) use bindings::exports::turnstile::policy::{engine, scenario};

/// The policy component built from `guest/` by `build.rs`.
pub static EMBEDDED_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/turnstile.wasm"));

/// The formats component built from `guest/` by `build.rs`
/// (`wit/formats.wit`): the scenario reader and writer every host uses, and
/// the CSV reader this crate links natively (`turnstile component --formats`
/// writes it for other hosts).
pub static FORMATS_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/turnstile-formats.wasm"));

/// How often the epoch advances: the resolution of deadlines.
pub const TICK: Duration = Duration::from_millis(10);

/// The bounds of every call into the component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time one call may take.
    pub deadline: Duration,
    /// Bytes of linear memory one store may grow to (and one call may hand back).
    pub max_memory: usize,
}

impl Limits {
    pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);
    pub const DEFAULT_MAX_MEMORY: usize = 1 << 30;
}

impl Default for Limits {
    fn default() -> Self {
        Limits { deadline: Limits::DEFAULT_DEADLINE, max_memory: Limits::DEFAULT_MAX_MEMORY }
    }
}

/// How a policy component is found and compiled.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub limits: Limits,
    /// Keep compiled components between runs (see [`crate::cache`]).
    pub cache: bool,
    /// Refuse a component whose SHA-256 differs (hex).
    pub expect_sha256: Option<String>,
}

/// A compiled policy component, ready to instantiate: cheap to clone, safe
/// to share across threads.
#[derive(Clone)]
pub struct Policy {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    pre: InstancePre<Host>,
    exports: engine::GuestIndices,
    /// The formats component, compiled when first asked for.
    formats: OnceLock<std::result::Result<Formats, String>>,
    cache: bool,
    limits: Limits,
    name: String,
    sha256: [u8; 32],
    /// The component file itself, as loaded.
    bytes: Vec<u8>,
}

/// The formats component, ready to instantiate.
struct Formats {
    pre: InstancePre<Host>,
    exports: scenario::GuestIndices,
}

/// What a store carries: its memory limiter.
pub struct Host {
    limiter: Limiter,
}

/// Refuses memory growth past the cap and remembers that it did.
struct Limiter {
    max_memory: usize,
    refused: Option<usize>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max_memory {
            self.refused = Some(desired);
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// The SHA-256 of the component embedded in this binary, in hex.
pub fn embedded_sha256() -> String {
    cache::hex(&Sha256::digest(EMBEDDED_COMPONENT))
}

impl Policy {
    /// The component embedded in this binary.
    pub fn embedded(options: &Options) -> Result<Policy> {
        Policy::from_bytes(EMBEDDED_COMPONENT, "the embedded policy component", options)
    }

    /// A component file, e.g. one written by `turnstile component --out`.
    pub fn from_file(path: &Path, options: &Options) -> Result<Policy> {
        let bytes = crate::files::read_bytes(path, crate::files::MAX_COMPONENT, "a policy component file")?;
        Policy::from_bytes(&bytes, &path.display().to_string(), options)
    }

    /// `bytes` must be a component exporting this host's interfaces with the
    /// types it was built against, and importing nothing.
    pub fn from_bytes(bytes: &[u8], name: &str, options: &Options) -> Result<Policy> {
        let sha256: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(expected) = &options.expect_sha256 {
            let actual = cache::hex(&sha256);
            if !actual.eq_ignore_ascii_case(expected.trim()) {
                return Err(Error::input(name, format!("SHA-256 is {actual}, not the expected {expected}")));
            }
        }
        let mut config = Config::new();
        config.wasm_component_model(true).epoch_interruption(true);
        // `perf record` names the component's functions with this (README, "Profiling").
        if std::env::var_os("TURNSTILE_PERFMAP").is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config).map_err(|e| Error::policy(format!("starting wasmtime: {e}")))?;
        let component = compile(&engine, bytes, &sha256, options.cache)
            .map_err(|e| Error::input(name, format!("not a WebAssembly component: {e:#}")))?;
        let (pre, exports) = instantiate_pre(&engine, &component, engine::GuestIndices::new)
            .map_err(|e| Error::input(name, format!("not a compatible Turnstile policy component: {e:#}")))?;
        start_ticker(&engine);
        let inner = Inner {
            engine,
            pre,
            exports,
            formats: OnceLock::new(),
            cache: options.cache,
            limits: options.limits,
            name: name.to_string(),
            sha256,
            bytes: bytes.to_vec(),
        };
        Ok(Policy { inner: Arc::new(inner) })
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The component's SHA-256, in hex.
    pub fn sha256(&self) -> String {
        cache::hex(&self.inner.sha256)
    }

    /// The component's size in bytes.
    pub fn size(&self) -> usize {
        self.inner.bytes.len()
    }

    /// The component file, as loaded (what `turnstile component --out` writes).
    pub fn bytes(&self) -> &[u8] {
        &self.inner.bytes
    }

    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// A new store with the component instantiated in it, bounded by the
    /// policy's limits (instantiation included: a start function that loops
    /// or grows memory forever is stopped too).
    pub fn instantiate(&self) -> Result<Sandbox> {
        let inner = &self.inner;
        Sandbox::start(&inner.engine, &inner.pre, inner.limits, "starting the policy component", |store, instance| {
            inner.exports.load(store, instance)
        })
    }

    /// A new store with the formats component (the embedded one; it decides
    /// nothing, so `--policy` never replaces it) under the same limits.
    pub fn instantiate_formats(&self) -> Result<Sandbox<scenario::Guest>> {
        let inner = &self.inner;
        let formats = inner.formats.get_or_init(|| {
            let sha256: [u8; 32] = Sha256::digest(FORMATS_COMPONENT).into();
            compile(&inner.engine, FORMATS_COMPONENT, &sha256, inner.cache)
                .and_then(|component| instantiate_pre(&inner.engine, &component, scenario::GuestIndices::new))
                .map(|(pre, exports)| Formats { pre, exports })
                .map_err(|e| format!("the embedded formats component can't be used: {e:#}"))
        });
        let formats = formats.as_ref().map_err(|e| Error::policy(e.clone()))?;
        Sandbox::start(&inner.engine, &formats.pre, inner.limits, "starting the formats component", |store, instance| {
            formats.exports.load(store, instance)
        })
    }
}

/// A component's instantiation checked once (it imports nothing) and the
/// interface it must export, found by `exports`.
fn instantiate_pre<I>(
    engine: &Engine,
    component: &Component,
    exports: impl FnOnce(&InstancePre<Host>) -> wasmtime::Result<I>,
) -> wasmtime::Result<(InstancePre<Host>, I)> {
    let pre = Linker::new(engine).instantiate_pre(component)?;
    let exports = exports(&pre)?;
    Ok((pre, exports))
}

/// Compiles `bytes`, through the cache when it is on.
fn compile(engine: &Engine, bytes: &[u8], sha256: &[u8; 32], use_cache: bool) -> wasmtime::Result<Component> {
    let Some(dir) = cache::directory().filter(|_| use_cache) else {
        return Component::new(engine, bytes);
    };
    let path = cache::entry(&dir, engine, sha256);
    match cache::load(engine, &path) {
        Some(component) => Ok(component),
        None => cache::compile_and_store(engine, bytes, &path),
    }
}

/// Advances `engine`'s epoch every [`TICK`] while the engine lives (the
/// thread holds only a weak reference, and stops when the engine is gone).
fn start_ticker(engine: &Engine) {
    let weak = engine.weak();
    let _ = std::thread::Builder::new().name("turnstile-epoch".into()).spawn(move || {
        while let Some(engine) = weak.upgrade() {
            engine.increment_epoch();
            drop(engine);
            std::thread::sleep(TICK);
        }
    });
}

/// The epoch ticks `deadline` lasts (at least one whole tick). A deadline
/// of centuries is as good as none, and must not overflow the epoch.
fn ticks(deadline: Duration) -> u64 {
    let ticks = (deadline.as_millis() / TICK.as_millis()).max(1) + 1;
    u64::try_from(ticks).unwrap_or(u64::MAX).min(u64::MAX / 4)
}

/// One store with a component instantiated in it, and the interface of it
/// the host calls (`G`: the engine, or the scenario format). A trap poisons
/// it: after an error from a call, drop it and start again.
pub struct Sandbox<G = engine::Guest> {
    pub(crate) store: Store<Host>,
    pub(crate) exports: G,
    limits: Limits,
}

impl<G> Sandbox<G> {
    /// A new store bounded by `limits` (instantiation included: a start
    /// function that loops or grows memory forever is stopped too), the
    /// component of `pre` instantiated in it and its interface loaded.
    fn start(
        engine: &Engine,
        pre: &InstancePre<Host>,
        limits: Limits,
        what: &str,
        load: impl FnOnce(&mut Store<Host>, &wasmtime::component::Instance) -> wasmtime::Result<G>,
    ) -> Result<Sandbox<G>> {
        let host = Host { limiter: Limiter { max_memory: limits.max_memory, refused: None } };
        let mut store = Store::new(engine, host);
        store.limiter(|h| &mut h.limiter);
        store.set_hostcall_fuel(limits.max_memory);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(ticks(limits.deadline));
        let exports = pre
            .instantiate(&mut store)
            .and_then(|instance| load(&mut store, &instance))
            .map_err(|e| failure(e, &store, limits, what))?;
        Ok(Sandbox { store, exports, limits })
    }

    /// Calls into the component with a fresh deadline; `what` names the call
    /// in errors ("deciding event 3 of org.json").
    pub(crate) fn call<T>(&mut self, what: &str, f: impl FnOnce(&mut Store<Host>, &G) -> wasmtime::Result<T>) -> Result<T> {
        self.store.set_epoch_deadline(ticks(self.limits.deadline));
        // A growth refused before this call (and survived) is not this call's failure.
        self.store.data_mut().limiter.refused = None;
        f(&mut self.store, &self.exports).map_err(|e| failure(e, &self.store, self.limits, what))
    }
}

/// An error from wasmtime as the host reports it: a breached limit names
/// the limit and how to raise it; anything else is a defect of the component.
fn failure(e: wasmtime::Error, store: &Store<Host>, limits: Limits, what: &str) -> Error {
    if let Some(desired) = store.data().limiter.refused {
        return Error::limit(format!(
            "{what}: the policy component needed more than its memory limit of {} (it asked for {}); \
             raise it with --max-memory",
            megabytes(limits.max_memory),
            megabytes(desired),
        ));
    }
    if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
        return Error::limit(format!(
            "{what}: the policy component ran past its deadline of {:.1} s per call; raise it with --deadline",
            limits.deadline.as_secs_f64()
        ));
    }
    let trap = e.downcast_ref::<Trap>().map_or_else(|| format!("{e:#}"), |t| t.to_string());
    Error::policy(format!("{what}: the policy component failed ({trap})"))
}

fn megabytes(bytes: usize) -> String {
    format!("{} MiB", bytes.div_ceil(1 << 20))
}
