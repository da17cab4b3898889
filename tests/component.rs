//! The component itself: what it imports and exports, and that a trap or a
//! bad file is reported, not a crash.

use turnstile::policy::EMBEDDED_COMPONENT;
use turnstile::{ErrorKind, Options, Policy};
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

fn component() -> (Engine, Component) {
    let mut config = Config::new();
    config.wasm_component_model(true);
    let engine = Engine::new(&config).unwrap();
    let component = Component::new(&engine, EMBEDDED_COMPONENT).unwrap();
    (engine, component)
}

#[test]
fn the_component_imports_nothing() {
    let (engine, component) = component();
    let imports: Vec<String> = component.component_type().imports(&engine).map(|(name, _)| name.to_string()).collect();
    assert_eq!(imports, Vec::<String>::new(), "no WASI, clock, randomness or logging");
}

#[test]
fn the_component_exports_the_engine_interface() {
    let (engine, component) = component();
    let exports: Vec<String> = component.component_type().exports(&engine).map(|(name, _)| name.to_string()).collect();
    assert_eq!(
        exports,
        ["turnstile:policy/types@0.3.0", "turnstile:policy/engine@0.3.0"]
    );
}

#[test]
fn a_core_module_is_not_a_policy() {
    // The smallest valid core module: magic and version.
    let err = Policy::from_bytes(b"\0asm\x01\0\0\0", "core.wasm", &Options::default()).err().expect("refused");
    assert_eq!(err.kind(), ErrorKind::Input);
    assert!(err.to_string().starts_with("core.wasm: "), "{err}");
}

#[test]
fn a_component_without_the_engine_is_not_a_policy() {
    // An empty component: valid, but exports nothing Turnstile needs.
    let err = Policy::from_bytes(b"\0asm\x0d\0\x01\0", "empty.wasm", &Options::default()).err().expect("refused");
    assert_eq!(err.kind(), ErrorKind::Input);
    assert!(err.to_string().contains("not a compatible Turnstile policy component"), "{err}");
}

/// The size budget: every host downloads this file (a web page too). The
/// rules and the engine only (the readers are the formats component's), the
/// guest profile (opt-level z, lto, strip, panic=abort) and `wasm-opt` keep
/// it small; a debug build or a heavy dependency slipping in fails here.
pub const SIZE_BUDGET: usize = 300 * 1024;

#[test]
fn the_embedded_component_stays_within_its_size_budget() {
    assert!(EMBEDDED_COMPONENT.len() <= SIZE_BUDGET, "{} bytes, over the budget of {SIZE_BUDGET}", EMBEDDED_COMPONENT.len());
}
