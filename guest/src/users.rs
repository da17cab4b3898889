//! The organisation's users, stored compactly and addressed by a dense index.
//!
//! A million users must fit in a few hundred megabytes and a sync must not
//! hash or copy strings, so the state keeps users in one vector and names
//! each by its position there ([`UserIx`]):
//!
//! - ids are interned once, as shared [`Id`]s: the record, the id index and
//!   the auto-free index hold the same allocation, never a copy;
//! - the fields the licence and seat rules read on every decision live in a
//!   small `Copy` struct ([`Core`]: selectors, flags, instants in 8 bytes
//!   each), so changing them copies 32 bytes, not a record;
//! - what only the account, group and phone rules read (groups, SIP account,
//!   features, app toggles, business number, presentation) sits in an
//!   optional boxed [`Profile`]: absent while every one of them is at its
//!   default, as for most users of a licence listing.
//!
//! Users are never removed (a deleted account stays, in state `deleted`), so
//! an index stays valid for the state's whole life.

use std::hash::Hasher;
use std::sync::Arc;

use hashbrown::HashTable;

use crate::model::{AccountState, AppToggles, CountryFilter, FeatureSet, Features, Instant, LicenseType, Selector, User};

/// A user's position in the state's user vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserIx(pub u32);

impl UserIx {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// An interned user id, shared (not copied) by every index that names the user.
pub type Id = Arc<str>;

/// An optional instant in 8 bytes: `i64::MIN` is none (RFC 3339 text can't
/// reach it: years run 0000 to 9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct At(i64);

impl At {
    const NONE: At = At(i64::MIN);

    fn from(at: Option<Instant>) -> At {
        at.map_or(At::NONE, At)
    }

    fn get(self) -> Option<Instant> {
        (self != At::NONE).then_some(self.0)
    }
}

/// What the licence and seat rules read: selectors, account state and the
/// instants, in 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Core {
    pub standard: Selector,
    pub inspections: Selector,
    pub account: AccountState,
    pub external: bool,
    pub has_password: bool,
    pub main_admin: bool,
    temporary_since: At,
    last_sync: At,
    assigned_at: At,
}

impl Core {
    pub fn temporary_since(&self) -> Option<Instant> {
        self.temporary_since.get()
    }

    pub fn last_sync(&self) -> Option<Instant> {
        self.last_sync.get()
    }

    pub fn assigned_at(&self) -> Option<Instant> {
        self.assigned_at.get()
    }

    pub fn set_temporary_since(&mut self, at: Option<Instant>) {
        self.temporary_since = At::from(at);
    }

    pub fn set_last_sync(&mut self, at: Option<Instant>) {
        self.last_sync = At::from(at);
    }

    pub fn set_assigned_at(&mut self, at: Option<Instant>) {
        self.assigned_at = At::from(at);
    }

    /// The selector of one licence type.
    pub fn selector(&self, license: LicenseType) -> Selector {
        match license {
            LicenseType::Standard => self.standard,
            LicenseType::Inspections => self.inspections,
        }
    }

    pub fn selector_mut(&mut self, license: LicenseType) -> &mut Selector {
        match license {
            LicenseType::Standard => &mut self.standard,
            LicenseType::Inspections => &mut self.inspections,
        }
    }

    /// The licence type held, if any (at most one: an invariant).
    pub fn held_license(&self) -> Option<LicenseType> {
        if self.inspections == Selector::Assigned {
            Some(LicenseType::Inspections)
        } else if self.standard == Selector::Assigned {
            Some(LicenseType::Standard)
        } else {
            None
        }
    }

    /// The instant auto-free measures inactivity from (L7): the last sync,
    /// else when the licence was assigned. `None`: never a candidate.
    pub fn inactivity_instant(&self) -> Option<Instant> {
        self.last_sync().or(self.assigned_at())
    }
}

/// What the account, group and phone rules read; most users have none of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub permission_group: Option<String>,
    pub groups: Vec<String>,
    pub sip: Option<String>,
    pub features: Features,
    pub app: AppToggles,
}

/// The profile of a user with every field at its default.
pub static DEFAULT_PROFILE: Profile = Profile {
    permission_group: None,
    groups: Vec::new(),
    sip: None,
    features: Features {
        feature_set: FeatureSet::Both,
        recording: false,
        crm_overlay: false,
        country_filter: CountryFilter { enabled: false, allowed: Vec::new() },
    },
    app: AppToggles { recording: true, crm_overlay: true },
};

/// One stored user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: Id,
    pub name: Box<str>,
    pub email: Box<str>,
    pub core: Core,
    profile: Option<Box<Profile>>,
}

impl Record {
    /// A user of the contract, stored.
    pub fn from_user(user: User) -> Record {
        let User {
            id,
            name,
            email,
            external,
            standard,
            inspections,
            temporary_since,
            last_sync,
            assigned_at,
            account,
            has_password,
            main_admin,
            permission_group,
            groups,
            sip,
            features,
            app,
        } = user;
        let core = Core {
            standard,
            inspections,
            account,
            external,
            has_password,
            main_admin,
            temporary_since: At::from(temporary_since),
            last_sync: At::from(last_sync),
            assigned_at: At::from(assigned_at),
        };
        let mut record = Record { id: Id::from(id), name: name.into(), email: email.into(), core, profile: None };
        record.set_profile(Profile { permission_group, groups, sip, features, app });
        record
    }

    /// The user as the contract spells it.
    pub fn to_user(&self) -> User {
        let p = self.profile();
        let c = &self.core;
        User {
            id: self.id.to_string(),
            name: self.name.to_string(),
            email: self.email.to_string(),
            external: c.external,
            standard: c.standard,
            inspections: c.inspections,
            temporary_since: c.temporary_since(),
            last_sync: c.last_sync(),
            assigned_at: c.assigned_at(),
            account: c.account,
            has_password: c.has_password,
            main_admin: c.main_admin,
            permission_group: p.permission_group.clone(),
            groups: p.groups.clone(),
            sip: p.sip.clone(),
            features: p.features.clone(),
            app: p.app,
        }
    }

    pub fn profile(&self) -> &Profile {
        self.profile.as_deref().unwrap_or(&DEFAULT_PROFILE)
    }

    /// Stores `profile`, or nothing when it is the default one.
    pub fn set_profile(&mut self, profile: Profile) {
        self.profile = (profile != DEFAULT_PROFILE).then(|| Box::new(profile));
    }
}

/// A stored user as the rules read it: its index (for effects) and its record.
#[derive(Debug, Clone, Copy)]
pub struct UserRef<'a> {
    pub ix: UserIx,
    pub record: &'a Record,
}

impl<'a> UserRef<'a> {
    pub fn id(&self) -> &'a str {
        &self.record.id
    }

    pub fn name(&self) -> &'a str {
        &self.record.name
    }

    pub fn email(&self) -> &'a str {
        &self.record.email
    }

    pub fn permission_group(&self) -> Option<&'a str> {
        self.record.profile().permission_group.as_deref()
    }

    pub fn groups(&self) -> &'a [String] {
        &self.record.profile().groups
    }

    /// The SIP account, `None` when absent or blank.
    pub fn sip(&self) -> Option<&'a str> {
        self.record.profile().sip.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }

    pub fn features(&self) -> &'a Features {
        &self.record.profile().features
    }

    pub fn app(&self) -> AppToggles {
        self.record.profile().app
    }
}

impl std::ops::Deref for UserRef<'_> {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.record.core
    }
}

/// The users and an index from id to position. Ids are unique.
#[derive(Debug, Clone, Default)]
pub struct Users {
    records: Vec<Record>,
    index: HashTable<UserIx>,
}

/// A fast hash with no random seed: the same on every host and every run.
fn hash(id: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(id.as_bytes());
    h.finish()
}

impl Users {
    pub fn with_capacity(n: usize) -> Users {
        Users { records: Vec::with_capacity(n), index: HashTable::with_capacity(n) }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn reserve(&mut self, additional: usize) {
        self.records.reserve(additional);
        let records = &self.records;
        self.index.reserve(additional, |&ix| hash(&records[ix.index()].id));
    }

    /// The position of user `id`.
    pub fn find(&self, id: &str) -> Option<UserIx> {
        self.index.find(hash(id), |&ix| &*self.records[ix.index()].id == id).copied()
    }

    pub fn get(&self, ix: UserIx) -> UserRef<'_> {
        UserRef { ix, record: &self.records[ix.index()] }
    }

    pub fn record_mut(&mut self, ix: UserIx) -> &mut Record {
        &mut self.records[ix.index()]
    }

    /// Adds a user at the end; `Err` gives it back when its id is taken.
    pub fn push(&mut self, record: Record) -> Result<UserIx, Record> {
        if self.find(&record.id).is_some() {
            return Err(record);
        }
        let ix = UserIx(u32::try_from(self.records.len()).expect("fewer than 2^32 users"));
        let records = &self.records;
        self.index.insert_unique(hash(&record.id), ix, |&i| hash(&records[i.index()].id));
        self.records.push(record);
        Ok(ix)
    }

    /// Removes the last user (undoing a `push`).
    pub fn pop(&mut self) -> Option<Record> {
        let record = self.records.pop()?;
        let ix = UserIx(self.records.len() as u32);
        if let Ok(entry) = self.index.find_entry(hash(&record.id), |&i| i == ix) {
            entry.remove();
        }
        Some(record)
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = UserRef<'_>> + ExactSizeIterator {
        self.records.iter().enumerate().map(|(i, record)| UserRef { ix: UserIx(i as u32), record })
    }
}
