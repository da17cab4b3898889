//! Plans, per-user features, calls, SMS and presentation (rules F1–F7, seed 004).
//!
//! Plans are data (`Settings::plans`: `basic`, `reach`, `record` by default,
//! plus any an organisation defines); nothing here names a plan. What a user
//! can actually do is their *effective configuration* (F2): the plan AND the
//! administrator's features AND the phone's app toggles, computed in one place
//! ([`effective_config`]).
//!
//! - F1 `save_features`: the administrator saves a user's features; anything
//!   the plan lacks is refused with nothing saved (`FEATURE_NOT_IN_PLAN`).
//! - F2 `set_app_toggle`: the user flips recording / CRM overlay on the phone.
//! - F3 `call`, F4 `sms`: first failing check wins, in the order of rules.md.
//! - F5 numbers (see [`crate::numbers`]): a number that doesn't parse is
//!   `INVALID_NUMBER`, decided under rule `F5`.
//! - F6 `set_plan`: lists every user whose effective configuration changes.
//! - F7 presentation: what the other party of an allowed outbound call or
//!   SMS is shown (`presented_as`), checked when a user is created or edited.
//!
//! Every decision that changes a user's effective configuration carries a
//! `config_changed` effect with the new configuration (one per user, in user
//! order, after the effect that changes the state), so a host can push it to
//! the phone at once, as the vendor's panel does over its WebSocket.

use crate::decision::{Decision, Effect, Effects};
use crate::model::{AccountState, AppToggles, Code, CountryFilter, Direction, EffectiveConfig, FeatureSet, Features, Named, Plan};
use crate::numbers::{self, Number};
use crate::state::State;
use crate::users::UserRef;

/// The organisation's current plan. `None` only for a state whose `plan` is
/// not among its `plans`, which `State::load` refuses: it then offers nothing.
pub fn current_plan(state: &State) -> Option<&Plan> {
    let settings = state.settings();
    settings.plans.iter().find(|p| p.name == settings.plan)
}

fn has_calls(set: FeatureSet) -> bool {
    matches!(set, FeatureSet::Calls | FeatureSet::Both)
}

fn has_sms(set: FeatureSet) -> bool {
    matches!(set, FeatureSet::Sms | FeatureSet::Both)
}

fn offers(plan: Option<&Plan>, set: FeatureSet) -> bool {
    plan.is_some_and(|p| p.feature_sets.contains(&set))
}

/// Rule F2: what `u` can actually do under `plan`: plan AND administrator AND
/// app toggle.
///
/// - A feature set the plan doesn't offer gives neither calls nor SMS (after
///   a downgrade from `both` to `basic` the administrator must pick one).
/// - Recording needs the plan, the administrator and the app toggle, and calls.
/// - The CRM overlay is in every plan: administrator AND app toggle.
/// - The country filter is in force when the plan has filtering and the
///   administrator enabled it; only then are `allowed_countries` listed.
///
/// The account's state is not part of it: blocked and deleted accounts are
/// judged by F3/F4 (A5, A6).
pub fn effective_config(plan: Option<&Plan>, f: &Features, app: AppToggles) -> EffectiveConfig {
    let in_plan = offers(plan, f.feature_set);
    let calls = in_plan && has_calls(f.feature_set);
    let country_filter = plan.is_some_and(|p| p.country_filter) && f.country_filter.enabled;
    EffectiveConfig {
        calls,
        sms: in_plan && has_sms(f.feature_set),
        recording: calls && plan.is_some_and(|p| p.recording) && f.recording && app.recording,
        crm_overlay: f.crm_overlay && app.crm_overlay,
        country_filter,
        allowed_countries: if country_filter { f.country_filter.allowed.clone() } else { Vec::new() },
    }
}

/// `u` in the current plan.
fn config_now(state: &State, u: UserRef) -> EffectiveConfig {
    effective_config(current_plan(state), u.features(), u.app())
}

fn config_changed(u: UserRef, config: EffectiveConfig) -> Effect {
    Effect::ConfigChanged { user: u.ix, config: Box::new(config) }
}

/// What changed between two effective configurations, in words:
/// `loses recording, country filter`.
fn describe_change(before: &EffectiveConfig, after: &EffectiveConfig) -> String {
    let flags = [
        ("calls", before.calls, after.calls),
        ("SMS", before.sms, after.sms),
        ("recording", before.recording, after.recording),
        ("CRM overlay", before.crm_overlay, after.crm_overlay),
        ("country filter", before.country_filter, after.country_filter),
    ];
    let lost: Vec<&str> = flags.iter().filter(|f| f.1 && !f.2).map(|f| f.0).collect();
    let gained: Vec<&str> = flags.iter().filter(|f| !f.1 && f.2).map(|f| f.0).collect();
    let mut parts = Vec::new();
    if !lost.is_empty() {
        parts.push(format!("loses {}", lost.join(", ")));
    }
    if !gained.is_empty() {
        parts.push(format!("gains {}", gained.join(", ")));
    }
    if parts.is_empty() {
        parts.push(format!("allowed countries now {}", codes_list(&after.allowed_countries)));
    }
    parts.join("; ")
}

fn codes_list(codes: &[String]) -> String {
    if codes.is_empty() {
        "none".into()
    } else {
        codes.iter().map(|c| format!("+{c}")).collect::<Vec<_>>().join(", ")
    }
}

fn plan_name(plan: Option<&Plan>) -> &str {
    plan.map_or("(none)", |p| p.name.as_str())
}

fn offered_sets(plan: Option<&Plan>) -> String {
    let sets: Vec<&str> = plan.map(|p| p.feature_sets.iter().map(|s| s.name()).collect()).unwrap_or_default();
    if sets.is_empty() { "none".into() } else { sets.join(", ") }
}

fn who(u: UserRef) -> String {
    if u.name().is_empty() { format!("`{}`", u.id()) } else { format!("`{}` ({})", u.id(), u.name()) }
}

/// Rule F1: the administrator saves `u`'s features. Anything the current
/// plan lacks (the feature set, recording, country filtering) is refused,
/// every lack listed in `violations`, nothing saved. Allowed calling codes
/// must be assigned E.164 country calling codes (`+48` is taken as `48`;
/// repeats are dropped); otherwise `INVALID_NUMBER`, nothing saved.
pub fn save_features(state: &State, u: UserRef, features: &Features) -> Decision {
    if u.account == AccountState::Deleted {
        return Decision::deny(Code::AccountDeleted, "F1", "the user is deleted: their features can't be changed");
    }
    let plan = current_plan(state);
    let mut lacking = Vec::new();
    if !offers(plan, features.feature_set) {
        lacking.push(format!(
            "feature set `{}` (the plan offers: {})",
            features.feature_set.name(),
            offered_sets(plan)
        ));
    }
    if features.recording && !plan.is_some_and(|p| p.recording) {
        lacking.push("call recording".to_string());
    }
    if features.country_filter.enabled && !plan.is_some_and(|p| p.country_filter) {
        lacking.push("country code filtering".to_string());
    }
    if !lacking.is_empty() {
        let mut d = Decision::deny(
            Code::FeatureNotInPlan,
            "F1",
            format!("plan `{}` lacks {}: nothing saved", plan_name(plan), lacking.join(", ")),
        );
        d.violations = lacking;
        return d;
    }

    let mut allowed: Vec<String> = Vec::new();
    let mut bad = Vec::new();
    for entry in &features.country_filter.allowed {
        let trimmed = entry.trim();
        let code = trimmed.strip_prefix('+').unwrap_or(trimmed);
        if numbers::is_calling_code(code) {
            if !allowed.iter().any(|a| a == code) {
                allowed.push(code.to_string());
            }
        } else {
            bad.push(match numbers::calling_code(code).filter(|_| code.bytes().all(|b| b.is_ascii_digit())) {
                Some((within, area)) => format!(
                    "`{entry}` is not a country calling code: those numbers have calling code `{within}` ({area})"
                ),
                None => format!("`{entry}` is not an assigned ITU-T E.164 country calling code"),
            });
        }
    }
    if !bad.is_empty() {
        let mut d = Decision::deny(
            Code::InvalidNumber,
            "F1",
            format!("allowed country codes must be ITU-T E.164 calling codes: {}; nothing saved", bad.join("; ")),
        );
        d.violations = bad;
        return d;
    }

    let features = Features {
        country_filter: CountryFilter { enabled: features.country_filter.enabled, allowed },
        ..features.clone()
    };
    if features == *u.features() {
        return Decision::allow("F1", "features unchanged");
    }
    let before = config_now(state, u);
    let app = u.app();
    let after = effective_config(plan, &features, app);
    let off_in_app: Vec<&str> = [
        ("recording", after.calls && plan.is_some_and(|p| p.recording) && features.recording && !app.recording),
        ("the CRM overlay", features.crm_overlay && !app.crm_overlay),
    ]
    .iter()
    .filter(|(_, off)| *off)
    .map(|(name, _)| *name)
    .collect();
    let mut effects = Effects::from_iter([Effect::SaveFeatures { user: u.ix, features: Box::new(features) }]);
    let mut message = if before == after {
        "features saved; the effective configuration is unchanged".to_string()
    } else {
        let change = describe_change(&before, &after);
        effects.push(config_changed(u, after.clone()));
        format!("features saved; the user {change}")
    };
    // The user's own switch wins over the administrator's (F2): say so.
    if !off_in_app.is_empty() {
        let (verb, it) = if off_in_app.len() == 1 { ("stays", "it") } else { ("stay", "them") };
        message = format!("{message} ({} {verb} off: the user switched {it} off in the app)", off_in_app.join(" and "));
    }
    let mut d = Decision::allow("F1", message).with_effects(effects);
    if after.country_filter && after.allowed_countries.is_empty() && (after.calls || after.sms) {
        let home = &state.settings().home_country_code;
        d = d.with_detail(format!(
            "the country filter is on with no allowed codes: only numbers in the home country (+{home}) can be reached"
        ));
    }
    d
}

/// Rule F2: the user switches recording and/or the CRM overlay on the phone
/// (`None` leaves a switch as it is). The switch is saved either way; a user
/// can only narrow what the plan and the administrator allow, so switching
/// on what they left off changes nothing effective (the message says why).
pub fn set_app_toggle(state: &State, u: UserRef, recording: Option<bool>, crm_overlay: Option<bool>) -> Decision {
    if u.account == AccountState::Deleted {
        return Decision::deny(Code::AccountDeleted, "F2", "the user is deleted: their app settings can't be changed");
    }
    let old = u.app();
    let app = AppToggles {
        recording: recording.unwrap_or(old.recording),
        crm_overlay: crm_overlay.unwrap_or(old.crm_overlay),
    };
    if app == old {
        return Decision::allow("F2", "app toggles unchanged");
    }
    let plan = current_plan(state);
    let before = effective_config(plan, u.features(), old);
    let after = effective_config(plan, u.features(), app);

    let mut notes = Vec::new();
    if app.recording && !old.recording && !after.recording {
        let why = if !before.calls {
            "the user has no calls".to_string()
        } else if !plan.is_some_and(|p| p.recording) {
            format!("plan `{}` has no call recording", plan_name(plan))
        } else {
            "the administrator has switched it off".to_string()
        };
        notes.push(format!("recording stays off: {why}"));
    }
    if app.crm_overlay && !old.crm_overlay && !after.crm_overlay {
        notes.push("the CRM overlay stays off: the administrator has switched it off".to_string());
    }

    let mut effects = Effects::from_iter([Effect::SetAppToggles { user: u.ix, app }]);
    let mut message = if before == after {
        "app toggles saved; the effective configuration is unchanged".to_string()
    } else {
        let change = describe_change(&before, &after);
        effects.push(config_changed(u, after));
        format!("app toggles saved; the user {change}")
    };
    if !notes.is_empty() {
        message = format!("{message} ({})", notes.join("; "));
    }
    Decision::allow("F2", message).with_effects(effects)
}

/// Rule F6: the organisation moves to plan `name`. Every user whose
/// effective configuration changes gets a `config_changed` effect, in user
/// order, and the detail says what each loses or gains, so `decide` shows
/// a downgrade's cost before `apply` makes it. Deleted users are not
/// listed. An unknown plan is refused (`FEATURE_NOT_IN_PLAN`).
pub fn set_plan(state: &State, name: &str) -> Decision {
    let settings = state.settings();
    let Some(plan) = settings.plans.iter().find(|p| p.name == name) else {
        let known: Vec<&str> = settings.plans.iter().map(|p| p.name.as_str()).collect();
        return Decision::deny(
            Code::FeatureNotInPlan,
            "F6",
            format!("there is no plan `{name}` (known plans: {})", known.join(", ")),
        );
    };
    if settings.plan == name {
        return Decision::allow("F6", format!("`{name}` is already the plan"));
    }
    let old = current_plan(state);
    let mut effects = Effects::from_iter([Effect::SetPlan(name.into())]);
    let mut changes = Vec::new();
    for u in state.users().iter().filter(|u| u.account != AccountState::Deleted) {
        let (before, after) = (effective_config(old, u.features(), u.app()), effective_config(Some(plan), u.features(), u.app()));
        if before != after {
            changes.push(format!("{}: {}", who(u), describe_change(&before, &after)));
            effects.push(config_changed(u, after));
        }
    }
    let from = plan_name(old);
    let d = match changes.len() {
        0 => Decision::allow("F6", format!("plan `{from}` changed to `{name}`; no user's configuration changes")),
        1 => Decision::allow("F6", format!("plan `{from}` changed to `{name}`; 1 user's configuration changes")),
        n => Decision::allow("F6", format!("plan `{from}` changed to `{name}`; {n} users' configurations change")),
    };
    let d = d.with_effects(effects);
    if changes.is_empty() { d } else { d.with_detail(changes.join("; ")) }
}

/// `FEATURE_NOT_IN_PLAN` when the plan doesn't offer the user's feature set
/// (after a downgrade), else `FEATURE_DISABLED` (the administrator's choice).
fn feature_denial(state: &State, u: UserRef, rule: &'static str, what: &str) -> Decision {
    let plan = current_plan(state);
    let set = u.features().feature_set.name();
    if !offers(plan, u.features().feature_set) {
        Decision::deny(
            Code::FeatureNotInPlan,
            rule,
            format!(
                "no {what}: the user's feature set `{set}` is not in plan `{}` (it offers: {})",
                plan_name(plan),
                offered_sets(plan)
            ),
        )
    } else {
        Decision::deny(Code::FeatureDisabled, rule, format!("{what} are switched off for this user (feature set `{set}`)"))
    }
}

/// Rule F5 inside F3/F4: the number `to`, in the organisation's home code.
fn number(state: &State, to: &str) -> Result<Number, numbers::NumberError> {
    numbers::parse(to, &state.settings().home_country_code)
}

/// Rule F5: the `INVALID_NUMBER` denial.
fn invalid_number(to: &str, e: numbers::NumberError) -> Decision {
    Decision::deny(Code::InvalidNumber, "F5", format!("`{to}` is not a phone number: {e}"))
}

/// The filter check of F3/F4: `Some(denial)` when the filter is in force and
/// the number's calling code is neither the home country's nor allowed. The
/// filter stops international traffic (seed 004): the home country always
/// passes, and the refusal names it first among what the user may reach.
fn filtered(state: &State, config: &EffectiveConfig, n: &Number, rule: &'static str, what: &str) -> Option<Decision> {
    let home = state.settings().home_country_code.as_str();
    if !config.country_filter || n.calling_code == home || config.allowed_countries.iter().any(|c| c == n.calling_code) {
        return None;
    }
    let mut reach = vec![home.to_string()];
    reach.extend(config.allowed_countries.iter().filter(|c| *c != home).cloned());
    let mut d = Decision::deny(
        Code::CountryNotAllowed,
        rule,
        format!("{what} to +{} ({}) not allowed: this user may reach {} only", n.calling_code, n.area, codes_list(&reach)),
    );
    d.calling_code = Some(n.calling_code);
    Some(d)
}

/// Rule F3: may `u` make (outbound) or take (inbound) a call with `to`?
/// In order: `ACCOUNT_DELETED` (A6); `NO_SIP_ACCOUNT`; no calls in the
/// effective configuration (`FEATURE_NOT_IN_PLAN` / `FEATURE_DISABLED`);
/// `INVALID_NUMBER` (F5); outbound only, the country filter
/// (`COUNTRY_NOT_ALLOWED`). Allowed calls say whether they are `record`ed
/// and the `calling_code`. Blocked users still call over their SIP account
/// (A5); inactive ones too (activation is about panel seats).
pub fn call(state: &State, u: UserRef, to: &str, direction: Direction) -> Decision {
    if u.account == AccountState::Deleted {
        return Decision::deny(Code::AccountDeleted, "F3", "the account is deleted: no calls");
    }
    if u.sip().is_none() {
        return Decision::deny(Code::NoSipAccount, "F3", "the user has no SIP account to call over");
    }
    let config = config_now(state, u);
    if !config.calls {
        return feature_denial(state, u, "F3", "calls");
    }
    let n = match number(state, to) {
        Ok(n) => n,
        Err(e) => return invalid_number(to, e),
    };
    // Inbound calls skip the country filter.
    let denial = match direction {
        Direction::Outbound => filtered(state, &config, &n, "F3", "outbound call"),
        Direction::Inbound => None,
    };
    if let Some(denial) = denial {
        return denial;
    }
    let what = match direction {
        Direction::Outbound => "outbound call to",
        Direction::Inbound => "inbound call from",
    };
    let recorded = if config.recording { "recorded" } else { "not recorded" };
    let mut d = Decision::allow("F3", format!("{what} {} ({}) allowed, {recorded}", n.international(), n.area));
    d.record = Some(config.recording);
    d.calling_code = Some(n.calling_code);
    if direction == Direction::Outbound {
        d.presented_as = presented_as(state, u.profile().call_presentation.as_deref(), u);
    }
    d
}

/// Rule F7: what the other party of an allowed outbound call or SMS is
/// shown: the presentation set for it (`own`), else the business number,
/// else nothing (the carrier's default). Numbers are shown in international
/// form, an SMS sender as it was set.
fn presented_as(state: &State, own: Option<&str>, u: UserRef) -> Option<String> {
    let shown = own.or(u.profile().business_number.as_deref())?;
    Some(match number(state, shown) {
        Ok(n) => n.international(),
        Err(_) => shown.to_string(),
    })
}

/// The longest alphanumeric SMS sender, in characters (the GSM limit, F7).
pub const SENDER_MAX_CHARS: usize = 11;

/// Rule F7 (and A2's business number): what is wrong with a user's business
/// number and presentations, in that order, as A2 problems. Numbers are
/// numbers by F5; an SMS presentation may instead be an alphanumeric sender
/// of 1 to 11 ASCII letters, digits and spaces with at least one letter.
pub fn presentation_problems(state: &State, business: Option<&str>, call: Option<&str>, sms: Option<&str>) -> Vec<String> {
    let mut problems = Vec::new();
    for (what, value) in [("business number", business), ("call presentation", call)] {
        if let Some(Err(e)) = value.map(|v| number(state, v)) {
            problems.push(format!("{what} `{}` is not a phone number: {e}", value.unwrap_or_default()));
        }
    }
    if let Some(sender) = sms {
        let has_letter = sender.chars().any(|c| c.is_ascii_alphabetic());
        if has_letter {
            let chars = sender.chars().count();
            if !sender.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ') {
                problems.push(format!(
                    "SMS presentation `{sender}` is neither a phone number nor an alphanumeric sender (letters, digits and spaces only)"
                ));
            } else if chars > SENDER_MAX_CHARS {
                problems.push(format!(
                    "SMS presentation `{sender}` is too long for an alphanumeric sender: {chars} characters, at most {SENDER_MAX_CHARS}"
                ));
            }
        } else if let Err(e) = number(state, sender) {
            problems.push(format!("SMS presentation `{sender}` is not a phone number: {e}"));
        }
    }
    problems
}

/// Rule F4: may `u` send (outbound) or receive (inbound) an SMS with `to`?
/// In order: `ACCOUNT_DELETED` (A6); `ACCOUNT_BLOCKED` (A5: SMS live in the
/// panel, sent and read there); no SMS in the effective configuration
/// (`FEATURE_NOT_IN_PLAN` / `FEATURE_DISABLED`); `INVALID_NUMBER` (F5);
/// outbound only, the country filter (`COUNTRY_NOT_ALLOWED`). No SIP
/// account is needed. An SMS is never recorded (`record: false`); an
/// allowed outbound one says what it is `presented_as` (F7).
pub fn sms(state: &State, u: UserRef, to: &str, direction: Direction) -> Decision {
    match u.account {
        AccountState::Deleted => return Decision::deny(Code::AccountDeleted, "F4", "the account is deleted: no SMS"),
        AccountState::Blocked => {
            let why = match direction {
                Direction::Outbound => "the account is blocked: SMS are sent from the panel",
                Direction::Inbound => "the account is blocked: SMS are read in the panel",
            };
            return Decision::deny(Code::AccountBlocked, "F4", why);
        }
        AccountState::Active | AccountState::Inactive => {}
    }
    let config = config_now(state, u);
    if !config.sms {
        return feature_denial(state, u, "F4", "SMS");
    }
    let n = match number(state, to) {
        Ok(n) => n,
        Err(e) => return invalid_number(to, e),
    };
    if direction == Direction::Outbound {
        if let Some(denial) = filtered(state, &config, &n, "F4", "SMS") {
            return denial;
        }
    }
    let what = match direction {
        Direction::Outbound => "SMS to",
        Direction::Inbound => "inbound SMS from",
    };
    let mut d = Decision::allow("F4", format!("{what} {} ({}) allowed", n.international(), n.area));
    d.record = Some(false);
    d.calling_code = Some(n.calling_code);
    if direction == Direction::Outbound {
        d.presented_as = presented_as(state, u.profile().sms_presentation.as_deref(), u);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{self, Event, EventKind, OrgState, Settings, User};
    use crate::Org;

    type Decision = model::Decision;

    const ANA: &str = "ana";
    const BOB: &str = "bob";

    fn user(id: &str, set: FeatureSet, recording: bool, filter: Option<&[&str]>) -> User {
        let mut u = User::new(id);
        u.name = id.to_uppercase();
        u.sip = Some("101".into());
        u.features = Features {
            feature_set: set,
            recording,
            crm_overlay: true,
            country_filter: CountryFilter {
                enabled: filter.is_some(),
                allowed: filter.unwrap_or_default().iter().map(|c| c.to_string()).collect(),
            },
        };
        u
    }

    fn org(plan: &str, users: Vec<User>) -> Org {
        let settings = Settings { plan: plan.into(), ..Settings::default() };
        Org::load(OrgState { settings, users, groups: vec![], sessions: vec![] }).unwrap()
    }

    fn step(org: &mut Org, kind: EventKind) -> Decision {
        org.step(&Event { at: 0, kind })
    }

    fn call_to(org: &mut Org, id: &str, to: &str, direction: Direction) -> Decision {
        step(org, EventKind::Call(crate::model::CallEvent { user: id.into(), to: to.into(), direction }))
    }

    fn sms_to(org: &mut Org, id: &str, to: &str) -> Decision {
        step(org, EventKind::Sms(crate::model::SmsEvent { user: id.into(), to: to.into(), direction: Direction::Outbound }))
    }

    fn configs(d: &Decision) -> Vec<(&str, &EffectiveConfig)> {
        d.effects
            .iter()
            .filter_map(|e| match e {
                model::Effect::ConfigChanged(c) => Some((c.user.as_str(), &c.config)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn effective_config_is_plan_and_admin_and_app() {
        let plans = crate::model::default_plans();
        let [basic, reach, record] = [&plans[0], &plans[1], &plans[2]];
        let mut u = user(ANA, FeatureSet::Both, true, Some(&["48"]));
        let c = effective_config(Some(record), &u.features, u.app);
        assert!(c.calls && c.sms && c.recording && c.crm_overlay && c.country_filter);
        assert_eq!(c.allowed_countries, ["48"]);
        // Plan: reach has no recording; basic no `both`, no filter.
        assert!(!effective_config(Some(reach), &u.features, u.app).recording);
        let b = effective_config(Some(basic), &u.features, u.app);
        assert!(!b.calls && !b.sms && !b.recording && !b.country_filter && b.allowed_countries.is_empty());
        // App toggle: the user can switch recording off.
        u.app.recording = false;
        assert!(!effective_config(Some(record), &u.features, u.app).recording);
        // Admin: off means off whatever the app says.
        u.app.recording = true;
        u.features.recording = false;
        u.features.crm_overlay = false;
        let c = effective_config(Some(record), &u.features, u.app);
        assert!(!c.recording && !c.crm_overlay);
    }

    #[test]
    fn saving_what_the_plan_lacks_saves_nothing() {
        let mut org = org("basic", vec![user(ANA, FeatureSet::Calls, false, None)]);
        let before = org.snapshot();
        let wanted = user(ANA, FeatureSet::Both, true, Some(&["48"])).features;
        let d = step(&mut org, EventKind::SaveFeatures(crate::model::SaveFeaturesEvent { user: ANA.into(), features: wanted }));
        assert_eq!((d.allow, d.code, d.rule.as_str()), (false, Code::FeatureNotInPlan, "F1"));
        assert_eq!(d.violations.len(), 3, "{:?}", d.violations);
        assert!(d.effects.is_empty());
        assert_eq!(org.snapshot(), before);
    }

    #[test]
    fn saving_features_pushes_the_new_config() {
        let mut org = org("record", vec![user(ANA, FeatureSet::Calls, false, None)]);
        let wanted = user(ANA, FeatureSet::Both, true, Some(&["+48", "49", "48"])).features;
        let d = step(&mut org, EventKind::SaveFeatures(crate::model::SaveFeaturesEvent { user: ANA.into(), features: wanted }));
        assert!(d.allow, "{}", d.message);
        assert!(matches!(&d.effects[0], model::Effect::SaveFeatures(f) if f.features.country_filter.allowed == ["48", "49"]));
        let pushed = configs(&d);
        assert_eq!(pushed.len(), 1);
        assert!(pushed[0].1.sms && pushed[0].1.recording && pushed[0].1.allowed_countries == ["48", "49"]);
        // The same again changes nothing.
        let again = user(ANA, FeatureSet::Both, true, Some(&["48", "49"])).features;
        let d = step(&mut org, EventKind::SaveFeatures(crate::model::SaveFeaturesEvent { user: ANA.into(), features: again }));
        assert!(d.allow && d.effects.is_empty());
    }

    #[test]
    fn allowed_codes_must_be_calling_codes() {
        let mut org = org("record", vec![user(ANA, FeatureSet::Calls, false, None)]);
        let wanted = user(ANA, FeatureSet::Calls, false, Some(&["1242", "42", "abc"])).features;
        let d = step(&mut org, EventKind::SaveFeatures(crate::model::SaveFeaturesEvent { user: ANA.into(), features: wanted }));
        assert_eq!((d.code, d.rule.as_str()), (Code::InvalidNumber, "F1"));
        assert_eq!(d.violations.len(), 3);
        assert!(d.violations[0].contains("`1`"), "{}", d.violations[0]);
    }

    #[test]
    fn app_toggles_only_narrow() {
        let mut org = org("reach", vec![user(ANA, FeatureSet::Both, false, None)]);
        let toggle = |recording, crm_overlay| {
            EventKind::SetAppToggle(crate::model::AppToggleEvent { user: ANA.into(), recording, crm_overlay })
        };
        // Switching off the overlay the admin switched on: pushed.
        let d = step(&mut org, toggle(None, Some(false)));
        assert_eq!(d.rule.as_str(), "F2");
        assert_eq!(configs(&d).len(), 1);
        assert!(!configs(&d)[0].1.crm_overlay);
        // Recording off then on: the plan has none, so nothing effective changes.
        let d = step(&mut org, toggle(Some(false), None));
        assert!(d.allow && configs(&d).is_empty() && d.effects.len() == 1);
        let d = step(&mut org, toggle(Some(true), None));
        assert!(d.allow && configs(&d).is_empty() && d.message.contains("no call recording"), "{}", d.message);
        // Nothing to change.
        let d = step(&mut org, toggle(None, None));
        assert!(d.allow && d.effects.is_empty());
    }

    #[test]
    fn a_downgrade_lists_its_cost() {
        let users = vec![
            user(ANA, FeatureSet::Both, true, Some(&["48"])),
            user(BOB, FeatureSet::Calls, false, None),
            user("cid", FeatureSet::Sms, true, Some(&["48"])),
        ];
        let mut org = org("record", users);
        let preview = org.decide(&Event { at: 0, kind: EventKind::SetPlan("basic".into()) });
        let d = step(&mut org, EventKind::SetPlan("basic".into()));
        assert_eq!(preview, d, "decide shows the cost before step applies it");
        assert!(matches!(&d.effects[0], model::Effect::SetPlan(p) if p == "basic"));
        // ana loses everything (`both` not in basic), cid the filter; bob nothing.
        let users: Vec<&str> = configs(&d).iter().map(|c| c.0).collect();
        assert_eq!(users, [ANA, "cid"]);
        assert_eq!(org.state().settings().plan, "basic");
        // Calls now say why.
        let c = call_to(&mut org, ANA, "+48 22 113 14 15", Direction::Outbound);
        assert_eq!(c.code, Code::FeatureNotInPlan);
        let c = call_to(&mut org, "cid", "+48 22 113 14 15", Direction::Outbound);
        assert_eq!(c.code, Code::FeatureDisabled);
        // Unknown and current plans.
        let d = step(&mut org, EventKind::SetPlan("gold".into()));
        assert_eq!((d.allow, d.code), (false, Code::FeatureNotInPlan));
        let d = step(&mut org, EventKind::SetPlan("basic".into()));
        assert!(d.allow && d.effects.is_empty());
    }

    #[test]
    fn calls_follow_f3_in_order() {
        let mut nosip = user("nosip", FeatureSet::Both, false, None);
        nosip.sip = None;
        let mut gone = user("gone", FeatureSet::Both, false, None);
        gone.account = AccountState::Deleted;
        gone.sip = None;
        let mut blocked = user("blocked", FeatureSet::Both, true, None);
        blocked.account = AccountState::Blocked;
        let mut org = org(
            "record",
            vec![user(ANA, FeatureSet::Both, true, Some(&["48"])), nosip, gone, blocked],
        );
        let out = Direction::Outbound;
        let d = call_to(&mut org, "gone", "+48 22 113 14 15", out);
        assert_eq!((d.code, d.rule.as_str()), (Code::AccountDeleted, "F3"));
        let d = call_to(&mut org, "nosip", "not a number", out);
        assert_eq!(d.code, Code::NoSipAccount);
        let d = call_to(&mut org, ANA, "+48 22 x", out);
        assert_eq!((d.code, d.rule.as_str()), (Code::InvalidNumber, "F5"));
        let d = call_to(&mut org, ANA, "+49 30 123456", out);
        assert_eq!((d.code, d.calling_code.as_deref()), (Code::CountryNotAllowed, Some("49")));
        let d = call_to(&mut org, ANA, "+49 30 123456", Direction::Inbound);
        assert_eq!((d.allow, d.record, d.calling_code.as_deref()), (true, Some(true), Some("49")));
        let d = call_to(&mut org, ANA, "22 113 14 15", out);
        assert_eq!((d.allow, d.record, d.calling_code.as_deref()), (true, Some(true), Some("48")));
        assert!(d.effects.is_empty());
        // A5: blocked users still call, but send no SMS.
        let d = call_to(&mut org, "blocked", "+44 20 7946 0000", out);
        assert!(d.allow, "{}", d.message);
        let d = sms_to(&mut org, "blocked", "+44 20 7946 0000");
        assert_eq!((d.code, d.rule.as_str()), (Code::AccountBlocked, "F4"));
    }

    #[test]
    fn sms_follow_f4() {
        let mut nosip = user("nosip", FeatureSet::Sms, false, Some(&["48"]));
        nosip.sip = None;
        let mut org = org("reach", vec![nosip, user(BOB, FeatureSet::Calls, false, None)]);
        let d = sms_to(&mut org, "nosip", "600 700 800");
        assert_eq!((d.allow, d.record, d.calling_code.as_deref()), (true, Some(false), Some("48")));
        let d = sms_to(&mut org, "nosip", "+1 242 555 0100");
        assert_eq!((d.code, d.rule.as_str(), d.calling_code.as_deref()), (Code::CountryNotAllowed, "F4", Some("1")));
        let d = sms_to(&mut org, BOB, "600 700 800");
        assert_eq!((d.code, d.rule.as_str()), (Code::FeatureDisabled, "F4"));
        let d = call_to(&mut org, "nosip", "600 700 800", Direction::Outbound);
        assert_eq!(d.code, Code::NoSipAccount);
    }
}
