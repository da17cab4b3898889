//! The host's one error type. Every error says where: a file and a JSON path
//! or line and column, or the component that failed.

use std::fmt;

/// What went wrong, and so which exit status the CLI gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input can't be used: a scenario, a CSV file, a flag, a policy file.
    Input,
    /// The policy component failed while deciding (a trap): a defect.
    Policy,
}

#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Bad input at `place` (`FILE`, `FILE:LINE:COLUMN`, `FILE: users[2].id`).
    pub fn input(place: impl fmt::Display, message: impl fmt::Display) -> Error {
        Error { kind: ErrorKind::Input, message: format!("{place}: {message}") }
    }

    pub fn policy(message: impl fmt::Display) -> Error {
        Error { kind: ErrorKind::Policy, message: message.to_string() }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The process exit status for this error (see `turnstile --help`).
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Input => 2,
            ErrorKind::Policy => 3,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
