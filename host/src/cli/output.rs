//! Standard output for results: buffered, every write checked. A reader
//! that went away (a closed pipe) ends the command quietly, as Unix tools
//! do; any other failure (a full disk) is an error exit.
//!
//! Standard error, for warnings and errors, through [`note!`]: a line that
//! can't be written there (a full disk, a closed pipe) is dropped, as there
//! is nowhere left to say so; `eprintln!` would panic instead.

use std::io::{self, BufWriter, StdoutLock, Write};

use turnstile::{Error, Result};

pub struct Stdout {
    out: BufWriter<StdoutLock<'static>>,
}

impl Stdout {
    pub fn new() -> Stdout {
        Stdout { out: BufWriter::with_capacity(1 << 16, io::stdout().lock()) }
    }

    pub fn line(&mut self, line: &str) -> Result<()> {
        self.out.write_all(line.as_bytes()).and_then(|()| self.out.write_all(b"\n")).map_err(failed)
    }

    /// Everything written so far, out: call before the command ends.
    pub fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(failed)
    }

    pub fn writer(&mut self) -> &mut dyn Write {
        &mut self.out
    }
}

fn failed(e: io::Error) -> Error {
    Error::output("standard output", e)
}

/// `eprintln!` that never panics: a line standard error can't take is dropped.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use note;
