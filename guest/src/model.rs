//! The contract's types (the `types` interface of `wit/policy.wit`) and their defaults.
//!
//! The defaults are the ones of `rules.md`; where rules.md names none, the
//! choice is written down in the README ("Decisions where the spec is silent").

pub use crate::exports::turnstile::policy::types::{
    AccountState, ActivityAt, ActivityEvent, AppToggleEvent, AppToggles, Assignment, CallEvent,
    Channel, Code, CountryFilter, CreateGroupEvent, CreateUserEvent, Decision, Diagnostic, Direction, EditGroupEvent,
    EditUserEvent, EffectiveConfig, Effect, Event, EventKind, FeatureSet, Features, GrantedLicense, Group, GroupAction,
    GroupKind, Instant, LicenseChange, LicenseEvent, LicenseType, LicenseUsage, Licenses, OrgState, PasswordEvent, Plan,
    PolicyInfo, Population, Problem, Remedy, SaveFeaturesEvent, Selector, Session, SessionStatus, Settings, SettingsChange,
    Severity, SmsEvent, StateChange, SyncEvent, Usage, User, UserAction, UserAppToggles, UserConfig, UserDetails,
    UserFeatures, UserInstant, UserName, Scenario,
};

/// A `set_settings` change (O1) that changes nothing yet: callers set the
/// fields they change (`SettingsChange { auto_free: Some(true), ..no_change() }`).
pub fn no_change() -> SettingsChange {
    SettingsChange {
        trial: None,
        standard_licenses: None,
        inspections_licenses: None,
        external_license: None,
        inspections_enabled: None,
        auto_assign: None,
        auto_free: None,
        temporary_days: None,
        inactive_days: None,
        max_active_users: None,
        idle_logout_minutes: None,
        home_country_code: None,
        billing_day: None,
    }
}

/// Seconds in a day and in a minute, for the day- and minute-valued settings.
pub const DAY: Instant = 86_400;
pub const MINUTE: Instant = 60;

/// The id of the built-in Position user group (A2, A3).
pub const POSITION_GROUP: &str = "position";

/// The earliest and latest instants the engine takes or gives (O1): years
/// 1970 to 9999, the years RFC 3339 can write from the epoch on.
pub const FIRST_INSTANT: Instant = 0;
pub const LAST_INSTANT: Instant = 253_402_300_799; // 9999-12-31T23:59:59Z

/// An instant the engine computed, kept within [`FIRST_INSTANT`]..=[`LAST_INSTANT`].
pub fn clamp_instant(at: Instant) -> Instant {
    at.clamp(FIRST_INSTANT, LAST_INSTANT)
}

/// The ranges O1 gives the day- and minute-valued settings.
pub const DAYS_RANGE: std::ops::RangeInclusive<u32> = 1..=3_650;
pub const IDLE_MINUTES_RANGE: std::ops::RangeInclusive<u32> = 1..=1_440;
pub const BILLING_DAY_RANGE: std::ops::RangeInclusive<u8> = 1..=31;

/// The plans every organisation knows (F: `basic`, `reach`, `record`).
pub fn default_plans() -> Vec<Plan> {
    vec![
        Plan {
            name: "basic".into(),
            feature_sets: vec![FeatureSet::Calls, FeatureSet::Sms],
            country_filter: false,
            recording: false,
        },
        Plan {
            name: "reach".into(),
            feature_sets: vec![FeatureSet::Calls, FeatureSet::Sms, FeatureSet::Both],
            country_filter: true,
            recording: false,
        },
        Plan {
            name: "record".into(),
            feature_sets: vec![FeatureSet::Calls, FeatureSet::Sms, FeatureSet::Both],
            country_filter: true,
            recording: true,
        },
    ]
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            trial: false,
            licenses: Licenses { standard: 0, inspections: 0, external: false },
            inspections_enabled: false,
            auto_assign: false,
            auto_free: false,
            temporary_days: 14,
            inactive_days: 90,
            // No seat limit unless the organisation sets one.
            max_active_users: None,
            idle_logout_minutes: 30,
            plan: "record".into(),
            plans: default_plans(),
            home_country_code: "48".into(),
            billing_day: 1,
        }
    }
}

impl Default for Features {
    fn default() -> Self {
        Features {
            feature_set: FeatureSet::Both,
            recording: false,
            crm_overlay: false,
            country_filter: CountryFilter { enabled: false, allowed: Vec::new() },
        }
    }
}

impl Default for AppToggles {
    fn default() -> Self {
        AppToggles { recording: true, crm_overlay: true }
    }
}

impl User {
    /// A user with every field at its default (scenario.md): selectors
    /// unassigned, account active, a password, no groups.
    pub fn new(id: impl Into<String>) -> User {
        User {
            id: id.into(),
            name: String::new(),
            email: String::new(),
            external: false,
            standard: Selector::Unassigned,
            inspections: Selector::Unassigned,
            temporary_since: None,
            last_sync: None,
            assigned_at: None,
            account: AccountState::Active,
            has_password: true,
            main_admin: false,
            permission_group: None,
            groups: Vec::new(),
            sip: None,
            features: Features::default(),
            app: AppToggles::default(),
            business_number: None,
            call_presentation: None,
            sms_presentation: None,
        }
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

    /// The licence type this user holds, if any (at most one: an invariant).
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
        self.last_sync.or(self.assigned_at)
    }
}

impl LicenseType {
    pub const ALL: [LicenseType; 2] = [LicenseType::Standard, LicenseType::Inspections];

    /// Position in per-type arrays.
    pub fn index(self) -> usize {
        match self {
            LicenseType::Standard => 0,
            LicenseType::Inspections => 1,
        }
    }

    pub fn other(self) -> LicenseType {
        match self {
            LicenseType::Standard => LicenseType::Inspections,
            LicenseType::Inspections => LicenseType::Standard,
        }
    }

}

impl Licenses {
    /// Purchased licences of one type.
    pub fn purchased(&self, license: LicenseType) -> u32 {
        match license {
            LicenseType::Standard => self.standard,
            LicenseType::Inspections => self.inspections,
        }
    }
}

impl EventKind {
    /// The event kind as scenario.md spells it.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Sync(_) => "sync",
            EventKind::Assign(_) => "assign",
            EventKind::Unassign(_) => "unassign",
            EventKind::Disable(_) => "disable",
            EventKind::Activate(_) => "activate",
            EventKind::Deactivate(_) => "deactivate",
            EventKind::Login(_) => "login",
            EventKind::Logout(_) => "logout",
            EventKind::Activity(_) => "activity",
            EventKind::CloseSession(_) => "close_session",
            EventKind::SetPassword(_) => "set_password",
            EventKind::CreateUser(_) => "create_user",
            EventKind::BlockUser(_) => "block_user",
            EventKind::UnblockUser(_) => "unblock_user",
            EventKind::DeleteUser(_) => "delete_user",
            EventKind::DeleteGroup(_) => "delete_group",
            EventKind::SaveFeatures(_) => "save_features",
            EventKind::SetAppToggle(_) => "set_app_toggle",
            EventKind::SetPlan(_) => "set_plan",
            EventKind::Call(_) => "call",
            EventKind::Sms(_) => "sms",
            EventKind::RemoveMobileUser(_) => "remove_mobile_user",
            EventKind::EditUser(_) => "edit_user",
            EventKind::CreateGroup(_) => "create_group",
            EventKind::EditGroup(_) => "edit_group",
            EventKind::SetSettings(_) => "set_settings",
        }
    }

    /// The group the event is about, if any: written on its decision line.
    pub fn group(&self) -> Option<&str> {
        match self {
            EventKind::DeleteGroup(e) => Some(&e.group),
            EventKind::CreateGroup(e) => Some(&e.group.id),
            EventKind::EditGroup(e) => Some(&e.group),
            _ => None,
        }
    }

    /// The user the event is about: the subject of a decision line. A
    /// `create_user` is about the new user; `set_plan` about nobody.
    pub fn subject(&self) -> Option<&str> {
        match self {
            EventKind::CreateUser(e) => Some(&e.user.id),
            EventKind::SetPlan(_)
            | EventKind::SetSettings(_)
            | EventKind::DeleteGroup(_)
            | EventKind::CreateGroup(_)
            | EventKind::EditGroup(_) => None,
            other => other.users().first().map(|&(_, id)| id),
        }
    }

    /// The existing users this event names, as (field, id), subject first:
    /// a `create_user`'s new user is not among them.
    pub fn users<'a>(&'a self) -> Vec<(&'static str, &'a str)> {
        let user = |id: &'a str| vec![("user", id)];
        match self {
            EventKind::Sync(e) => user(&e.user),
            EventKind::Assign(e) | EventKind::Unassign(e) | EventKind::Disable(e) => user(&e.user),
            EventKind::Activate(id)
            | EventKind::Deactivate(id)
            | EventKind::Login(id)
            | EventKind::Logout(id)
            | EventKind::CloseSession(id)
            | EventKind::RemoveMobileUser(id) => user(id),
            EventKind::Activity(e) => user(&e.user),
            EventKind::SetPassword(e) => user(&e.user),
            EventKind::CreateUser(e) => vec![("actor", &e.actor)],
            EventKind::BlockUser(e) | EventKind::UnblockUser(e) | EventKind::DeleteUser(e) => {
                vec![("user", &e.user), ("actor", &e.actor)]
            }
            EventKind::DeleteGroup(e) => vec![("actor", &e.actor)],
            EventKind::SaveFeatures(e) => user(&e.user),
            EventKind::SetAppToggle(e) => user(&e.user),
            EventKind::SetPlan(_) | EventKind::SetSettings(_) => vec![],
            EventKind::Call(e) => user(&e.user),
            EventKind::Sms(e) => user(&e.user),
            EventKind::EditUser(e) => vec![("user", &e.user), ("actor", &e.actor)],
            EventKind::CreateGroup(e) => {
                let mut named = vec![("actor", e.actor.as_str())];
                named.extend(e.members.iter().map(|m| ("members", m.as_str())));
                named
            }
            EventKind::EditGroup(e) => vec![("actor", &e.actor)],
        }
    }
}

/// An enum of the contract, spelled as rules.md and the JSON files spell it
/// (snake_case values, upper-case codes).
pub trait Named: Copy + 'static {
    /// Every value, in WIT order.
    const ALL: &'static [Self];
    fn name(self) -> &'static str;

    /// The value spelled `name`, if any.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }
}

macro_rules! named {
    ($ty:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        impl Named for $ty {
            const ALL: &'static [Self] = &[$($ty::$variant),*];
            fn name(self) -> &'static str {
                match self { $($ty::$variant => $name),* }
            }
        }
    };
}

named!(Selector { Unassigned => "unassigned", Assigned => "assigned", Disabled => "disabled" });
named!(LicenseType { Standard => "standard", Inspections => "inspections" });
named!(GrantedLicense {
    Trial => "trial", External => "external", Inspections => "inspections", Standard => "standard",
    Temporary => "temporary",
});
named!(AccountState { Active => "active", Inactive => "inactive", Blocked => "blocked", Deleted => "deleted" });
named!(Channel { Mobile => "mobile", Web => "web" });
named!(FeatureSet { Calls => "calls", Sms => "sms", Both => "both" });
named!(Direction { Outbound => "outbound", Inbound => "inbound" });
named!(GroupKind { Permission => "permission", User => "user" });
named!(Code {
    Ok => "OK",
    LicenseNotFound => "LICENSE_NOT_FOUND",
    LicenseExpired => "LICENSE_EXPIRED",
    NoLicenseAvailable => "NO_LICENSE_AVAILABLE",
    SeatLimitReached => "SEAT_LIMIT_REACHED",
    PasswordRequired => "PASSWORD_REQUIRED",
    AccountInactive => "ACCOUNT_INACTIVE",
    AccountBlocked => "ACCOUNT_BLOCKED",
    AccountDeleted => "ACCOUNT_DELETED",
    AlreadyLoggedIn => "ALREADY_LOGGED_IN",
    SessionInUse => "SESSION_IN_USE",
    NotPermitted => "NOT_PERMITTED",
    PasswordTooWeak => "PASSWORD_TOO_WEAK",
    InvalidUser => "INVALID_USER",
    GroupNotEmpty => "GROUP_NOT_EMPTY",
    GroupProtected => "GROUP_PROTECTED",
    NoSipAccount => "NO_SIP_ACCOUNT",
    FeatureNotInPlan => "FEATURE_NOT_IN_PLAN",
    FeatureDisabled => "FEATURE_DISABLED",
    CountryNotAllowed => "COUNTRY_NOT_ALLOWED",
    InvalidNumber => "INVALID_NUMBER",
    UnknownUser => "UNKNOWN_USER",
    NotAvailableInTrial => "NOT_AVAILABLE_IN_TRIAL",
    InvalidGroup => "INVALID_GROUP",
    InvalidSettings => "INVALID_SETTINGS",
});
