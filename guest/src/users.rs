//! The organisation's users, stored compactly and addressed by a dense index.
//!
//! A million users must fit in a few hundred megabytes and a sync must not
//! hash or copy strings, so the state keeps users in one vector and names
//! each by its position there ([`UserIx`]):
//!
//! - every user's id, name and e-mail sit in one string, each record holding
//!   where its own are: no allocation per user, and the id index and the
//!   auto-free queue name users by position, never by a copy of the id;
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

use hashbrown::HashTable;

use crate::model::{AccountState, AppToggles, CountryFilter, FeatureSet, Features, Instant, LicenseType, Population, Selector, User};

/// A user's position in the state's user vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserIx(pub u32);

impl UserIx {
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// An optional instant in 8 bytes: `i64::MIN` is none (RFC 3339 text can't
/// reach it: years run 0000 to 9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct At(i64);

impl At {
    const NONE: At = At(i64::MIN);

    fn from(at: Option<Instant>) -> At {
        at.map_or(At::NONE, At)
    }

    #[inline]
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
    /// A new user's fields (`User::new`): selectors grey, active, a password.
    pub const NEW: Core = Core {
        standard: Selector::Unassigned,
        inspections: Selector::Unassigned,
        account: AccountState::Active,
        external: false,
        has_password: true,
        main_admin: false,
        temporary_since: At::NONE,
        last_sync: At::NONE,
        assigned_at: At::NONE,
    };

    #[inline]
    pub fn temporary_since(&self) -> Option<Instant> {
        self.temporary_since.get()
    }

    #[inline]
    pub fn last_sync(&self) -> Option<Instant> {
        self.last_sync.get()
    }

    #[inline]
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
    #[inline]
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
    #[inline]
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
    /// The business phone number (A2) and what the other party is shown (F7).
    pub business_number: Option<String>,
    pub call_presentation: Option<String>,
    pub sms_presentation: Option<String>,
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
    business_number: None,
    call_presentation: None,
    sms_presentation: None,
};

/// One stored user: where its id, name and e-mail are in the users' text,
/// its licence and account fields, and its profile when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Offsets in [`Users`]'s text: id `span[0]..span[1]`, name
    /// `span[1]..span[2]`, e-mail `span[2]..span[3]`.
    span: [u32; 4],
    pub core: Core,
    profile: Option<Box<Profile>>,
}

impl Record {
    pub fn profile(&self) -> &Profile {
        self.profile.as_deref().unwrap_or(&DEFAULT_PROFILE)
    }

    /// Stores `profile`, or nothing when it is the default one.
    pub fn set_profile(&mut self, profile: Profile) {
        self.profile = (profile != DEFAULT_PROFILE).then(|| Box::new(profile));
    }
}

/// A user of the contract as the store keeps it: its texts, core and profile.
pub fn parts(user: User) -> (String, String, String, Core, Profile) {
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
        business_number,
        call_presentation,
        sms_presentation,
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
    let profile =
        Profile { permission_group, groups, sip, features, app, business_number, call_presentation, sms_presentation };
    (id, name, email, core, profile)
}

/// A stored user as the rules read it: its position (for effects) and its record.
#[derive(Debug, Clone, Copy)]
pub struct UserRef<'a> {
    pub ix: UserIx,
    pub record: &'a Record,
    text: &'a str,
}

impl<'a> UserRef<'a> {
    #[inline]
    fn part(&self, i: usize) -> &'a str {
        let s = self.record.span;
        &self.text[s[i] as usize..s[i + 1] as usize]
    }

    #[inline]
    pub fn id(&self) -> &'a str {
        self.part(0)
    }

    pub fn name(&self) -> &'a str {
        self.part(1)
    }

    pub fn email(&self) -> &'a str {
        self.part(2)
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

    pub fn profile(&self) -> &'a Profile {
        self.record.profile()
    }

    /// The user as the contract spells it.
    pub fn to_user(&self) -> User {
        let p = self.record.profile();
        let c = &self.record.core;
        User {
            id: self.id().to_string(),
            name: self.name().to_string(),
            email: self.email().to_string(),
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
            business_number: p.business_number.clone(),
            call_presentation: p.call_presentation.clone(),
            sms_presentation: p.sms_presentation.clone(),
        }
    }
}

impl UserRef<'_> {
    fn core(&self) -> &Core {
        &self.record.core
    }
}

impl std::ops::Deref for UserRef<'_> {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.record.core
    }
}

/// The users, their texts in one string, and an index from id to position.
/// Ids are unique.
#[derive(Debug, Clone, Default)]
pub struct Users {
    /// Every user's id, name and e-mail, one after the other (texts replaced
    /// by an edit stay behind, unreferenced).
    text: String,
    records: Vec<Record>,
    index: HashTable<UserIx>,
}

/// A set of ids in one text arena, each with its position: what a reader
/// needs to find a duplicate without keeping whole users (45 bytes or so
/// an id of 36 characters, where [`Users`] takes twice that).
#[derive(Debug, Default)]
pub struct Ids {
    text: String,
    ends: Vec<u32>,
    index: HashTable<u32>,
}

impl Ids {
    pub fn reserve(&mut self, ids: usize, text: usize) {
        self.text.reserve(text);
        self.ends.reserve(ids);
        self.index.reserve(ids, |_| 0);
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The id at position `i`.
    pub fn get(&self, i: u32) -> &str {
        Ids::at(&self.text, &self.ends, i)
    }

    fn at<'a>(text: &'a str, ends: &[u32], i: u32) -> &'a str {
        let start = if i == 0 { 0 } else { ends[i as usize - 1] as usize };
        &text[start..ends[i as usize] as usize]
    }

    /// Adds `id` at the next position; `Err` with the position it already
    /// has (nothing added). Positions past `u32` are refused as taken (0).
    pub fn insert(&mut self, id: &str) -> Result<u32, u32> {
        let (Ok(at), Ok(end)) = (u32::try_from(self.ends.len()), u32::try_from(self.text.len() + id.len())) else {
            return Err(0);
        };
        let (text, ends) = (&self.text, &self.ends);
        let entry = self.index.entry(hash(id), |&i| Ids::at(text, ends, i) == id, |&i| hash(Ids::at(text, ends, i)));
        match entry {
            hashbrown::hash_table::Entry::Occupied(taken) => Err(*taken.get()),
            hashbrown::hash_table::Entry::Vacant(slot) => {
                slot.insert(at);
                self.text.push_str(id);
                self.ends.push(end);
                Ok(at)
            }
        }
    }
}

/// A fast hash with no random seed: the same on every host and every run.
#[inline]
fn hash(id: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(id.as_bytes());
    h.finish()
}

impl Users {
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Bytes of ids, names and e-mails kept.
    pub fn text_bytes(&self) -> usize {
        self.text.len()
    }

    /// Makes room for `users` more users with about `text` bytes of texts.
    pub fn reserve(&mut self, users: usize, text: usize) {
        self.records.reserve(users);
        self.text.reserve(text);
        let (records, all) = (&self.records, &self.text);
        self.index.reserve(users, |&ix| hash(id_of(all, &records[ix.index()])));
    }

    /// The position of user `id`.
    pub fn find(&self, id: &str) -> Option<UserIx> {
        self.index.find(hash(id), |&ix| id_of(&self.text, &self.records[ix.index()]) == id).copied()
    }

    #[inline]
    pub fn get(&self, ix: UserIx) -> UserRef<'_> {
        UserRef { ix, record: &self.records[ix.index()], text: &self.text }
    }

    #[inline]
    pub fn core_mut(&mut self, ix: UserIx) -> &mut Core {
        &mut self.records[ix.index()].core
    }

    /// Puts `record` at `ix` (a changed copy of the one there); the old one.
    pub fn replace(&mut self, ix: UserIx, record: Record) -> Record {
        std::mem::replace(&mut self.records[ix.index()], record)
    }

    /// Adds a user at the end (`profile`: `None` for the default one); `Err`
    /// gives the profile back when `id` is taken (nothing added).
    pub fn add(
        &mut self,
        id: &str,
        name: &str,
        email: &str,
        core: Core,
        profile: Option<Profile>,
    ) -> Result<UserIx, Option<Profile>> {
        let Ok(ix) = u32::try_from(self.records.len()).map(UserIx) else { return Err(profile) };
        let start = self.text.len();
        let Ok(end) = u32::try_from(start + id.len() + name.len() + email.len()) else { return Err(profile) };
        let (records, text) = (&self.records, &self.text);
        // One probe finds a taken id or the free slot.
        let entry = self.index.entry(hash(id), |&i| id_of(text, &records[i.index()]) == id, |&i| {
            hash(id_of(text, &records[i.index()]))
        });
        let hashbrown::hash_table::Entry::Vacant(slot) = entry else { return Err(profile) };
        slot.insert(ix);
        self.text.push_str(id);
        self.text.push_str(name);
        self.text.push_str(email);
        let start = start as u32;
        let span = [start, start + id.len() as u32, start + (id.len() + name.len()) as u32, end];
        let mut record = Record { span, core, profile: None };
        if let Some(profile) = profile {
            record.set_profile(profile);
        }
        self.records.push(record);
        Ok(ix)
    }

    /// A copy of user `ix`'s record with `name` and `email` as its texts
    /// (an edit, A7): the texts are appended, the old ones stay behind.
    pub fn renamed(&mut self, ix: UserIx, name: &str, email: &str) -> Record {
        let mut record = self.records[ix.index()].clone();
        let id = id_of(&self.text, &record).to_string();
        let start = self.text.len() as u32;
        self.text.push_str(&id);
        self.text.push_str(name);
        self.text.push_str(email);
        let (i, n) = (id.len() as u32, name.len() as u32);
        record.span = [start, start + i, start + i + n, self.text.len() as u32];
        record
    }

    /// Removes the last user (undoing an `add`).
    pub fn pop(&mut self) {
        let Some(record) = self.records.pop() else { return };
        let ix = UserIx(self.records.len() as u32);
        let id = &self.text[record.span[0] as usize..record.span[1] as usize];
        if let Ok(entry) = self.index.find_entry(hash(id), |&i| i == ix) {
            entry.remove();
        }
        // Its texts go too, when nothing was written after them.
        if record.span[3] as usize == self.text.len() {
            self.text.truncate(record.span[0] as usize);
        }
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = UserRef<'_>> + ExactSizeIterator {
        self.records.iter().enumerate().map(|(i, record)| UserRef { ix: UserIx(i as u32), record, text: &self.text })
    }

    // -------------------------------------------------------------- populations

    /// Users `first..first + count` (fewer at the end) as a population.
    pub fn population(&self, first: u32, count: u32) -> Population {
        let end = (first as usize).saturating_add(count as usize).min(self.len());
        let range = (first as usize).min(end)..end;
        let mut p = empty_population();
        for u in range.map(|i| self.get(UserIx(i as u32))) {
            push_row(&mut p, u.id(), u.name(), u.email(), u.core());
        }
        p
    }
}

/// A population of nobody.
pub fn empty_population() -> Population {
    Population {
        text: String::new(),
        ends: Vec::new(),
        standard: Vec::new(),
        inspections: Vec::new(),
        external: Vec::new(),
        temporary_since: Vec::new(),
        last_sync: Vec::new(),
        assigned_at: Vec::new(),
    }
}

/// Appends one user to a population.
pub fn push_row(p: &mut Population, id: &str, name: &str, email: &str, core: &Core) {
    for part in [id, name, email] {
        p.text.push_str(part);
        p.ends.push(p.text.len() as u32);
    }
    p.standard.push(selector_code(core.standard));
    p.inspections.push(selector_code(core.inspections));
    p.external.push(u8::from(core.external));
    p.temporary_since.push(core.temporary_since.0);
    p.last_sync.push(core.last_sync.0);
    p.assigned_at.push(core.assigned_at.0);
}

/// A selector as a population column holds it: its position in the enum.
pub fn selector_code(s: Selector) -> u8 {
    match s {
        Selector::Unassigned => 0,
        Selector::Assigned => 1,
        Selector::Disabled => 2,
    }
}

fn selector_of(code: u8) -> Selector {
    match code {
        1 => Selector::Assigned,
        2 => Selector::Disabled,
        _ => Selector::Unassigned,
    }
}

/// Row `i` of a population: its id, name and e-mail, and its licence fields.
/// A text `ends` doesn't reach is empty; a missing column entry is the default.
pub fn population_row(p: &Population, i: usize) -> (&str, &str, &str, Core) {
    let end = |at: usize| p.ends.get(at).map_or(0, |&e| e as usize);
    let start = if i == 0 { 0 } else { end(i * 3 - 1) };
    let (id_end, name_end, email_end) = (end(i * 3), end(i * 3 + 1), end(i * 3 + 2));
    let part = |from: usize, to: usize| p.text.get(from..to).unwrap_or("");
    let instant = |column: &[i64]| At(column.get(i).copied().unwrap_or(At::NONE.0));
    let mut core = Core::NEW;
    core.standard = selector_of(p.standard.get(i).copied().unwrap_or(0));
    core.inspections = selector_of(p.inspections.get(i).copied().unwrap_or(0));
    core.external = p.external.get(i).is_some_and(|&e| e != 0);
    core.temporary_since = instant(&p.temporary_since);
    core.last_sync = instant(&p.last_sync);
    core.assigned_at = instant(&p.assigned_at);
    (part(start, id_end), part(id_end, name_end), part(name_end, email_end), core)
}

#[inline]
fn id_of<'a>(text: &'a str, record: &Record) -> &'a str {
    &text[record.span[0] as usize..record.span[1] as usize]
}
