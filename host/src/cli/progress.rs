//! A one-line progress display on standard error, drawn only when standard
//! error is a terminal, at most ten times a second.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use turnstile::whatif::Progress;

pub struct Display {
    on: bool,
    last: Mutex<Option<Instant>>,
}

impl Display {
    pub fn new() -> Display {
        Display { on: std::io::stderr().is_terminal(), last: Mutex::new(None) }
    }

    pub fn show(&self, p: Progress) {
        if !self.on {
            return;
        }
        let Ok(mut last) = self.last.lock() else { return };
        if last.is_some_and(|t| t.elapsed() < Duration::from_millis(100)) {
            return;
        }
        *last = Some(Instant::now());
        let percent = if p.total > 0 { p.done * 100 / p.total } else { 0 };
        let _ = write!(std::io::stderr(), "\r\x1b[K{:>6} {:<8} {percent:>3}%", p.side, p.phase);
    }

    pub fn clear(&self) {
        if self.on {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}
