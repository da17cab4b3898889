//! Compiled components, kept between runs so that a start costs a file read,
//! not a compilation.
//!
//! An entry is keyed by the component's SHA-256 and the wasmtime engine's
//! compatibility hash (its version and settings), and written atomically as
//! a small header, the SHA-256 of the compiled bytes, then the bytes. An
//! entry whose header or checksum doesn't match is stale or corrupt: it is
//! compiled again and rewritten, never loaded.
//!
//! The directory is `$TURNSTILE_CACHE_DIR`, else `$XDG_CACHE_HOME/turnstile`,
//! else `$HOME/.cache/turnstile`. `TURNSTILE_NO_CACHE=1` (or the CLI's
//! `--no-cache`) turns the cache off.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The first bytes of an entry: what it is, in which layout.
const MAGIC: &[u8; 16] = b"turnstile-cwasm1";

/// The cache directory, if the cache is on and a directory can be named.
pub fn directory() -> Option<PathBuf> {
    if std::env::var_os("TURNSTILE_NO_CACHE").is_some_and(|v| !v.is_empty() && v != "0") {
        return None;
    }
    let from = |var: &str| std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from);
    from("TURNSTILE_CACHE_DIR")
        .or_else(|| from("XDG_CACHE_HOME").map(|d| d.join("turnstile")))
        .or_else(|| from("HOME").map(|d| d.join(".cache").join("turnstile")))
}

/// Where the entry for `component` (its SHA-256) compiled by `engine` lives.
pub fn entry(dir: &Path, engine: &Engine, component_sha256: &[u8; 32]) -> PathBuf {
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    dir.join(format!("{}-{:016x}.cwasm", hex(component_sha256), h.finish()))
}

/// The component from the entry at `path`, if the entry is whole and was
/// written for these bytes; `None` for anything else (missing, stale, corrupt).
pub fn load(engine: &Engine, path: &Path) -> Option<Component> {
    let bytes = std::fs::read(path).ok()?;
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    let (checksum, compiled) = rest.split_at_checked(32)?;
    if Sha256::digest(compiled).as_slice() != checksum {
        return None;
    }
    // SAFETY: the bytes are an entry this module wrote with
    // `Engine::precompile_component` (checked by its checksum), for an engine
    // with the same compatibility hash (checked by the entry's name); wasmtime
    // checks the version and settings in the bytes again.
    unsafe { Component::deserialize(engine, compiled) }.ok()
}

/// Compiles `wasm` and stores it at `path` (written beside and renamed,
/// never half-written). A cache that can't be written is not an error: the
/// compiled component is returned either way.
pub fn compile_and_store(engine: &Engine, wasm: &[u8], path: &Path) -> wasmtime::Result<Component> {
    let compiled = engine.precompile_component(wasm)?;
    let _ = store(path, &compiled);
    // SAFETY: `compiled` was produced just now by this engine.
    unsafe { Component::deserialize(engine, &compiled) }
}

fn store(path: &Path, compiled: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(MAGIC)?;
    file.write_all(&Sha256::digest(compiled))?;
    file.write_all(compiled)?;
    file.as_file().sync_all()?;
    file.persist(path)?;
    Ok(())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
