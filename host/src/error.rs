//! The host's one error type. Every error says where: the diagnostics of an
//! input (each with its file, line, column and path), or the call into the
//! policy that failed, naming the organisation and the event.

use std::fmt;

use crate::model::{Diagnostic, Severity};

/// What went wrong, and so which exit status the CLI gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input can't be used (a scenario, a CSV file, a flag, a policy
    /// file), or an output can't be written.
    Input,
    /// The policy component failed (a trap): a defect in the component.
    Policy,
    /// A call into the policy reached a sandbox limit (its deadline or its
    /// memory): the message names the limit and how to raise it.
    Limit,
    /// The reader of an output went away (a closed pipe): stop quietly.
    Closed,
}

#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    /// The problems, when the error is about an input's content.
    diagnostics: Vec<Diagnostic>,
    /// Everything else: what failed and where.
    message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Bad input at `place` (`FILE`, `--set KEY=VALUE`, `--at`).
    pub fn input(place: impl fmt::Display, message: impl fmt::Display) -> Error {
        Error { kind: ErrorKind::Input, diagnostics: Vec::new(), message: format!("{place}: {message}") }
    }

    /// An input's problems, each placed by its diagnostic.
    pub fn diagnostics(diagnostics: Vec<Diagnostic>) -> Error {
        Error { kind: ErrorKind::Input, diagnostics, message: String::new() }
    }

    /// Writing `place` failed: a closed pipe is [`ErrorKind::Closed`], any
    /// other failure (a full disk) an error.
    pub fn output(place: impl fmt::Display, e: std::io::Error) -> Error {
        let kind = if e.kind() == std::io::ErrorKind::BrokenPipe { ErrorKind::Closed } else { ErrorKind::Input };
        Error { kind, diagnostics: Vec::new(), message: format!("writing {place}: {e}") }
    }

    pub fn policy(message: impl fmt::Display) -> Error {
        Error { kind: ErrorKind::Policy, diagnostics: Vec::new(), message: message.to_string() }
    }

    pub fn limit(message: impl fmt::Display) -> Error {
        Error { kind: ErrorKind::Limit, diagnostics: Vec::new(), message: message.to_string() }
    }

    /// The same error, its message prefixed with where it happened.
    pub fn context(mut self, context: impl fmt::Display) -> Error {
        self.message = if self.message.is_empty() { context.to_string() } else { format!("{context}: {}", self.message) };
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn input_diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The process exit status for this error (see `turnstile --help`).
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            ErrorKind::Closed => 0,
            ErrorKind::Input => 2,
            ErrorKind::Policy => 3,
            ErrorKind::Limit => 4,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        if !self.message.is_empty() {
            f.write_str(&self.message)?;
            first = false;
        }
        for d in &self.diagnostics {
            if !first {
                f.write_str("\n")?;
            }
            first = false;
            write!(f, "{}", Line(d))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// A diagnostic as one line, `FILE:LINE:COLUMN: path: message`: the same
/// text every host prints, written by the policy crate's own formatter.
pub struct Line<'a>(pub &'a Diagnostic);

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        let native = turnstile_policy::model::Diagnostic {
            source: d.source.clone(),
            line: d.line,
            column: d.column,
            path: d.path.clone(),
            severity: match d.severity {
                Severity::Error => turnstile_policy::model::Severity::Error,
                Severity::Warning => turnstile_policy::model::Severity::Warning,
                Severity::Note => turnstile_policy::model::Severity::Note,
            },
            message: d.message.clone(),
        };
        f.write_str(&turnstile_policy::scenario::diagnostic_line(&native))
    }
}
