//! Where the property tests' generators take their choices from: numbers
//! recorded by proptest (and shrunk by it: an exhausted or zero draw is
//! always the plainest choice, no, the first option, the smallest count, so
//! a failure shrinks to a small organisation and few events), or a seeded
//! xorshift64* stream for the tests that measure coverage over many
//! scenarios at once. Shared by `invariants.rs` and `explain.rs`.

pub enum Draws {
    Recorded { values: Vec<u64>, next: usize },
    Seeded(u64),
}

/// The generators' name for their source of choices.
pub type Rng = Draws;

// Each test file uses what it needs of these.
#[allow(dead_code)]
impl Draws {
    pub fn recorded(values: Vec<u64>) -> Draws {
        Draws::Recorded { values, next: 0 }
    }

    pub fn next(&mut self) -> u64 {
        match self {
            // Past the end, every choice is the plainest one.
            Draws::Recorded { values, next } => {
                let value = values.get(*next).copied().unwrap_or(0);
                *next += 1;
                value
            }
            Draws::Seeded(state) => {
                *state ^= *state >> 12;
                *state ^= *state << 25;
                *state ^= *state >> 27;
                state.wrapping_mul(0x2545_F491_4F6C_DD1D)
            }
        }
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True `percent` times in a hundred; a zero draw says no.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) >= 100 - percent
    }

    pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize].clone()
    }
}
