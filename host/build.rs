//! Builds the two components the host embeds, both from the guest crate.
//!
//! 1. Compiles the guest crate (`../guest`) for `wasm32-unknown-unknown` with
//!    the workspace's `guest` profile, in a nested cargo with its own target
//!    directory (sharing the outer one would deadlock on its lock).
//! 2. Encodes the core module as a component with wit-component: the module
//!    imports nothing, so the component imports nothing either.
//! 3. Writes `$OUT_DIR/turnstile.wasm`, which `src/policy.rs` embeds.
//!
//! Then the same again with the guest's `formats` feature: the formats
//! component (`wit/formats.wit`: the scenario and CSV readers and writers),
//! written to `$OUT_DIR/turnstile-formats.wasm` and embedded by
//! `src/policy.rs`. The feature swaps the engine's exports for the
//! formats', so neither component carries the other's code.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

const TARGET: &str = "wasm32-unknown-unknown";

fn main() {
    // A plain message, not an error's backtrace: the fix is one command.
    if let Err(e) = build() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn build() -> Result<()> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest_dir.parent().context("host/ has a parent")?.to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    for watched in ["guest/src", "guest/Cargo.toml", "wit", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    require_wasm_target()?;

    // <target>/<profile>/build/<crate>-<hash>/out: keep the guest's own build
    // beside the outer profiles, so debug and release builds share it.
    let guest_target = out_dir.ancestors().nth(4).unwrap_or(&out_dir).join("turnstile-guest");
    component(&root, &guest_target, &out_dir, None, "turnstile")?;
    component(&root, &guest_target, &out_dir, Some("formats"), "turnstile-formats")
}

/// Builds the guest (with `feature`, if any) and writes its component to
/// `$OUT_DIR/{name}.wasm`.
fn component(root: &Path, guest_target: &Path, out_dir: &Path, feature: Option<&str>, name: &str) -> Result<()> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .args(["build", "--lib", "--locked", "--profile", "guest", "--target", TARGET])
        .arg("--manifest-path")
        .arg(root.join("guest/Cargo.toml"))
        .arg("--target-dir")
        .arg(guest_target);
    if let Some(feature) = feature {
        build.args(["--features", feature]);
    }
    // The outer build's settings are for the host, not for the guest.
    for (key, _) in env::vars() {
        let outer = matches!(
            key.as_str(),
            "RUSTFLAGS" | "CARGO_ENCODED_RUSTFLAGS" | "RUSTC_WRAPPER" | "RUSTC_WORKSPACE_WRAPPER" | "CARGO_TARGET_DIR"
        ) || key.starts_with("CARGO_BUILD_")
            || key.starts_with("CARGO_PROFILE_");
        if outer {
            build.env_remove(&key);
        }
    }
    let status = build.status().context("running cargo to build the guest")?;
    if !status.success() {
        bail!("building the policy guest for {TARGET} failed ({status}); see the errors above");
    }

    // Each feature set links its own turnstile_policy.wasm: take it before the next build replaces it.
    let core = guest_target.join(TARGET).join("guest").join("turnstile_policy.wasm");
    let module = optimize(&core, &out_dir.join(format!("{name}.opt.wasm")))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .context("reading the guest's component type section")?
        .validate(true)
        .encode()
        .with_context(|| format!("encoding the guest as the {name} component"))?;
    let component = without_custom_section(&component, "component-name")?;
    let out = out_dir.join(format!("{name}.wasm"));
    std::fs::write(&out, component).with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

/// The guest's core module, made smaller and faster by binaryen's `wasm-opt` when
/// it is installed (CI installs it; see README "Building"). Without it the
/// component works the same and is larger; `tests/component.rs` holds the
/// size budget, so a build that ships must have it.
fn optimize(core: &Path, optimized: &Path) -> Result<Vec<u8>> {
    // The features rustc uses for wasm32-unknown-unknown; binaryen must accept them.
    let features = [
        "--enable-bulk-memory",
        "--enable-sign-ext",
        "--enable-mutable-globals",
        "--enable-nontrapping-float-to-int",
        "--enable-multivalue",
        "--enable-reference-types",
    ];
    // -O3, not -Oz: as small within 2% (the guest is compiled for size
    // already) and a quarter faster, its small functions inlined again.
    // --merge-similar-functions: functions that differ only in constants
    // become one; the exports of `decide` and `step` are such a pair (each
    // lowers a whole decision, 12 KB; guest/src/component.rs).
    let ran = Command::new("wasm-opt")
        .arg("-O3")
        .arg("--merge-similar-functions")
        .args(features)
        .arg(core)
        .arg("-o")
        .arg(optimized)
        .status();
    let path = match ran {
        Ok(status) if status.success() => optimized,
        Ok(status) => bail!("wasm-opt failed on {} ({status})", core.display()),
        Err(_) => {
            println!("cargo:warning=wasm-opt (binaryen) not found: the components are built without size optimization");
            core
        }
    };
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// Makes sure the wasm target's standard library is installed: when it
/// isn't and rustup is there, installs it (what the README's first command
/// needs on a fresh machine); otherwise stops with the command that fixes it.
fn require_wasm_target() -> Result<()> {
    if wasm_target_installed()? {
        return Ok(());
    }
    println!("cargo:warning=installing the Rust target {TARGET} with rustup (the policy component is built for it)");
    let added = Command::new("rustup").args(["target", "add", TARGET]).status();
    if matches!(added, Ok(status) if status.success()) && wasm_target_installed()? {
        return Ok(());
    }
    bail!(
        "the Rust target {TARGET} is not installed and rustup could not add it; the policy component is built for it.\n\
         Install it with:\n\n    rustup target add {TARGET}\n"
    )
}

/// Whether the target's standard library is there (once `rustup target add` ran).
fn wasm_target_installed() -> Result<bool> {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let output = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .context("asking rustc where the wasm32 standard library lives")?;
    let libdir = String::from_utf8_lossy(&output.stdout).trim().to_string();
    Ok(output.status.success()
        && std::fs::read_dir(&libdir)
            .map(|dir| dir.flatten().any(|e| e.file_name().to_string_lossy().starts_with("libcore-")))
            .unwrap_or(false))
}

/// `wasm` with its top-level custom section `name` left out. The encoder
/// names every instance and function of the component's own wiring for
/// debuggers: 4 KB that no host reads (exports keep their names).
fn without_custom_section(wasm: &[u8], name: &str) -> Result<Vec<u8>> {
    fn leb128(bytes: &[u8], at: &mut usize) -> Result<usize> {
        let (mut value, mut shift) = (0usize, 0);
        loop {
            let byte = *bytes.get(*at).context("a section runs past the end of the component")?;
            *at += 1;
            value |= usize::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
            shift += 7;
        }
    }
    let mut out = wasm.get(..8).context("the component has no header")?.to_vec();
    let mut at = 8;
    while at < wasm.len() {
        let start = at;
        let id = wasm[at];
        at += 1;
        let size = leb128(wasm, &mut at)?;
        let (body, end) = (at, at + size);
        let section = wasm.get(start..end).context("a section runs past the end of the component")?;
        at = end;
        if id == 0 {
            let mut name_at = body;
            let len = leb128(wasm, &mut name_at)?;
            if wasm.get(name_at..name_at + len) == Some(name.as_bytes()) {
                continue;
            }
        }
        out.extend_from_slice(section);
    }
    Ok(out)
}
