//! Reading inputs with a bound and writing outputs whole.
//!
//! - Text inputs (scenarios, organisation files) are read up to
//!   [`MAX_TEXT`], policy component files up to [`MAX_COMPONENT`]; a larger
//!   one, or an endless one like `/dev/zero`, is an error naming the limit.
//!   `-` is standard input; FIFOs are read as they come.
//! - Licence files are streamed in [`CHUNK`]s: memory grows with what the
//!   reader keeps, not with the file; the reader says when to stop.
//! - Output files are written beside their target and renamed into place
//!   ([`write_atomically`]): a new file is created exclusively with a fresh
//!   name and the permissions a plain create would give it (0666 less the
//!   umask), a replaced file keeps its permissions, a symlink at the target
//!   is replaced rather than followed, and a stray file is never touched.

use std::io::{self, Read, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// The most a scenario or organisation file may hold.
pub const MAX_TEXT: u64 = 256 << 20;

/// The most a policy component file (`--policy`) may hold: the real one is
/// a few hundred KiB.
pub const MAX_COMPONENT: u64 = 64 << 20;

/// How much of a licence file is read and handed over at once.
pub const CHUNK: usize = 1 << 20;

/// The text of `file` (`-`: standard input), at most `max` bytes, and its
/// name for messages.
pub fn read_text(file: &str, max: u64) -> Result<(String, String)> {
    let (reader, name): (Box<dyn Read>, String) = if file == "-" {
        (Box::new(io::stdin().lock()), "<stdin>".into())
    } else {
        let f = std::fs::File::open(file).map_err(|e| Error::input(file, e))?;
        (Box::new(f), file.into())
    };
    let bytes = read_bounded(reader, &name, max, "a text input")?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
        Error::input(format!("{name}:{line}"), "not UTF-8 text")
    })?;
    Ok((text, name))
}

/// The bytes of the file at `path`, at most `max` of them; `what` names
/// such a file in the error ("a policy component file").
pub fn read_bytes(path: &Path, max: u64, what: &str) -> Result<Vec<u8>> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::input(&name, e))?;
    read_bounded(file, &name, max, what)
}

/// Everything `reader` gives, unless that is more than `max` bytes: an
/// endless input (`/dev/zero`) stops at the bound. The buffer grows by
/// doubling but never past the bound (`read_to_end` would double a buffer
/// of `max` bytes to twice that to find the byte too many).
fn read_bounded(mut reader: impl Read, name: &str, max: u64, what: &str) -> Result<Vec<u8>> {
    let limit = usize::try_from(max).unwrap_or(usize::MAX - 1) + 1;
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    while bytes.len() < limit {
        let want = chunk.len().min(limit - bytes.len());
        let n = match reader.read(&mut chunk[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::input(name, e)),
        };
        if bytes.len() + n > bytes.capacity() {
            let grown = (bytes.capacity() * 2).max(bytes.len() + n).min(limit);
            bytes.try_reserve_exact(grown - bytes.len()).map_err(|e| Error::input(name, e))?;
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
    if bytes.len() as u64 > max {
        return Err(Error::input(name, format!("larger than {} MiB, the most {what} may hold", max >> 20)));
    }
    Ok(bytes)
}

/// Streams `path` to `each` in [`CHUNK`]s until the file ends or `each`
/// returns `false`.
pub fn stream(path: &Path, mut each: impl FnMut(&[u8]) -> Result<bool>) -> Result<()> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::input(path.display(), e))?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::input(path.display(), e)),
        };
        if !each(&buf[..n])? {
            return Ok(());
        }
    }
}

/// Writes `path` whole or not at all: `write` fills a new file beside it,
/// which then replaces `path` (keeping the permissions of a file it
/// replaces). On any error the target is untouched and the new file removed.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let fail = |e: io::Error| Error::input(path.display(), without_temporary_path(e));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".turnstile-").suffix(".partial");
    // Created exclusively (O_EXCL, never through a symlink) with the mode a
    // plain create has: 0666 less the umask, not tempfile's 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut file = builder.tempfile_in(dir).map_err(fail)?;
    {
        let mut out = io::BufWriter::new(file.as_file_mut());
        write(&mut out)?;
        out.flush().map_err(fail)?;
    }
    // A replaced file keeps its permissions (a symlink is replaced, not followed).
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.file_type().is_file() {
            std::fs::set_permissions(file.path(), meta.permissions()).map_err(fail)?;
        }
    }
    file.as_file().sync_all().map_err(fail)?;
    file.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// The error without the temporary file's name, which tempfile adds (`...
/// at path "DIR/.turnstile-XXXXXX.partial"`) and which means nothing to
/// whoever asked for the target.
fn without_temporary_path(e: io::Error) -> String {
    let message = e.to_string();
    match message.find(" at path \"") {
        Some(i) if e.raw_os_error().is_none() => message[..i].to_string(),
        _ => message,
    }
}
