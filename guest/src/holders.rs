//! The holders of one licence type in the order auto-free takes them (L7):
//! oldest inactivity instant first, ties by smallest id.
//!
//! A binary min-heap of (instant, user) with each user's place in it, so the
//! oldest holder is found in constant time and a holder is added, moved or
//! removed in logarithmic time, with no rescan of the population. Ids are
//! compared through the users' records, never copied.

use crate::model::Instant;
use crate::users::{UserIx, Users};

const ABSENT: u32 = u32::MAX;

/// The first eight bytes of `id`, big-endian, zero-padded: ordered as the ids
/// are, except that ids equal in them need a full comparison.
#[inline]
fn prefix(id: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let n = id.len().min(8);
    bytes[..n].copy_from_slice(&id.as_bytes()[..n]);
    u64::from_be_bytes(bytes)
}

#[derive(Debug, Clone, Default)]
pub struct Holders {
    /// (inactive since, the id's first eight bytes, user): ties on the
    /// instant are mostly settled by the prefix, without reading the records.
    heap: Vec<(Instant, u64, UserIx)>,
    /// Each user's index in `heap`, or [`ABSENT`].
    place: Vec<u32>,
}

impl Holders {
    /// The oldest holder and its inactivity instant.
    pub fn first(&self) -> Option<(Instant, UserIx)> {
        self.heap.first().map(|&(at, _, user)| (at, user))
    }

    /// Adds `user`, inactive since `since` (not already here).
    pub fn insert(&mut self, users: &Users, since: Instant, user: UserIx) {
        if self.place.len() <= user.index() {
            self.place.resize(user.index() + 1, ABSENT);
        }
        self.heap.push((since, prefix(users.get(user).id()), user));
        self.place[user.index()] = (self.heap.len() - 1) as u32;
        self.up(users, self.heap.len() - 1);
    }

    /// Moves `user` (here) to a new inactivity instant: one sift, not a
    /// removal and an insertion (a sync touches every holder it serves).
    pub fn update(&mut self, users: &Users, since: Instant, user: UserIx) {
        let Some(&at) = self.place.get(user.index()).filter(|&&at| at != ABSENT) else {
            return self.insert(users, since, user);
        };
        let at = at as usize;
        self.heap[at].0 = since;
        self.down(users, at);
        self.up(users, at);
    }

    /// Removes `user`, if here.
    pub fn remove(&mut self, users: &Users, user: UserIx) {
        let Some(&at) = self.place.get(user.index()).filter(|&&at| at != ABSENT) else { return };
        let at = at as usize;
        let last = self.heap.len() - 1;
        self.swap(at, last);
        self.heap.pop();
        self.place[user.index()] = ABSENT;
        if at < self.heap.len() {
            self.down(users, at);
            self.up(users, at);
        }
    }

    /// Whether the entry at `a` goes before the one at `b`: older first, then smaller id.
    #[inline]
    fn before(&self, users: &Users, a: usize, b: usize) -> bool {
        let ((ta, pa, ua), (tb, pb, ub)) = (self.heap[a], self.heap[b]);
        if (ta, pa) != (tb, pb) {
            return (ta, pa) < (tb, pb);
        }
        users.get(ua).id() < users.get(ub).id()
    }

    #[inline]
    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.place[self.heap[a].2.index()] = a as u32;
        self.place[self.heap[b].2.index()] = b as u32;
    }

    fn up(&mut self, users: &Users, mut at: usize) {
        while at > 0 {
            let parent = (at - 1) / 2;
            if !self.before(users, at, parent) {
                break;
            }
            self.swap(at, parent);
            at = parent;
        }
    }

    fn down(&mut self, users: &Users, mut at: usize) {
        loop {
            let (left, right) = (2 * at + 1, 2 * at + 2);
            let mut first = at;
            if left < self.heap.len() && self.before(users, left, first) {
                first = left;
            }
            if right < self.heap.len() && self.before(users, right, first) {
                first = right;
            }
            if first == at {
                break;
            }
            self.swap(at, first);
            at = first;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::Core;

    #[test]
    fn the_oldest_comes_first_then_the_smallest_id() {
        let mut users = Users::default();
        let ids = ["d", "b", "c", "a", "e"];
        let ix: Vec<UserIx> = ids
            .iter()
            .map(|id| users.add(id, "", "", Core::NEW, None).unwrap())
            .collect();
        let mut h = Holders::default();
        for (i, &u) in ix.iter().enumerate() {
            h.insert(&users, [30, 10, 10, 20, 10][i], u);
        }
        // 10: b, c, e; 20: a; 30: d.
        let mut order = Vec::new();
        while let Some((at, u)) = h.first() {
            order.push((at, users.get(u).id().to_string()));
            h.remove(&users, u);
        }
        let want: Vec<(i64, String)> =
            [(10, "b"), (10, "c"), (10, "e"), (20, "a"), (30, "d")].iter().map(|(t, id)| (*t, id.to_string())).collect();
        assert_eq!(order, want);
        // Removing from the middle keeps the order.
        for (i, &u) in ix.iter().enumerate() {
            h.insert(&users, i as i64, u);
        }
        h.remove(&users, ix[2]);
        h.remove(&users, ix[0]);
        h.remove(&users, ix[0]);
        assert_eq!(h.first().map(|(_, u)| u), Some(ix[1]));
    }
}
