//! Users, passwords, groups and permissions (rules A1–A8, seed 003).
//!
//! - A1 `set_password`: at least 8 characters, a lower-case letter, an
//!   upper-case letter, a digit, one of `!@*$&`, and a matching confirmation;
//!   every broken rule is listed in `violations`.
//! - A2 `create_user`: a name, a well-formed e-mail (the login) unique among
//!   users, an own SIP account, exactly one permission group, and membership
//!   of the built-in Position group; every problem is listed.
//! - A3 `delete_group`: permission groups are the main administrator's; a
//!   group goes only while nobody is in it or its subgroups; Position never.
//! - A4 acting on other users needs `manage_users` (or the main administrator).
//! - A5 `block_user` / `unblock_user`: a blocked user has no panel login.
//! - A6 `delete_user`: the account is gone for good; billing stops at the
//!   start of the next billing period (`billing_ends_at`).
//! - A7 `edit_user`: a user's details and user-group membership change, and
//!   the result must pass A2.
//! - A8 `create_group` / `edit_group`: permission groups are the main
//!   administrator's, user groups need `manage_users`; parents are user
//!   groups and never form a cycle (`INVALID_GROUP`).
//!
//! A blocked or deleted actor has no permissions at all. Nobody blocks or
//! deletes themself or the main administrator.

use crate::calendar::next_billing_start;
use crate::decision::{Decision, Effect, Effects, deleted};
use crate::model::{
    AccountState, Code, EditGroupEvent, EditUserEvent, Group, GroupKind, Instant, Named, POSITION_GROUP, Selector,
    User, UserDetails,
};
use crate::state::State;
use crate::users::{UserIx, UserRef};
use crate::{features, seats};

/// The permission that lets a user manage other users (A4).
pub const MANAGE_USERS: &str = "manage_users";

/// The special characters a password needs one of (A1).
pub const PASSWORD_SPECIALS: &str = "!@*$&";

/// The shortest password, in characters (A1).
pub const PASSWORD_MIN_CHARS: usize = 8;

/// Rule A1: the broken password rules, in a fixed order (length, lower,
/// upper, digit, special, confirmation); empty when the password is good.
/// Characters are Unicode scalar values: `ż` is one character and a
/// lower-case letter; digits are `0`–`9`.
pub fn password_violations(password: &str, confirm: &str) -> Vec<String> {
    let chars = password.chars().count();
    let checks = [
        (chars >= PASSWORD_MIN_CHARS, format!("needs at least {PASSWORD_MIN_CHARS} characters (has {chars})")),
        (password.chars().any(char::is_lowercase), "needs a lower-case letter".to_string()),
        (password.chars().any(char::is_uppercase), "needs an upper-case letter".to_string()),
        (password.chars().any(|c| c.is_ascii_digit()), "needs a digit".to_string()),
        (
            password.chars().any(|c| PASSWORD_SPECIALS.contains(c)),
            format!("needs a special character, one of {PASSWORD_SPECIALS}"),
        ),
        (password == confirm, "the confirmation does not match".to_string()),
    ];
    checks.into_iter().filter(|(ok, _)| !ok).map(|(_, broken)| broken).collect()
}

/// Rule A1: `u` (or an administrator for `u`) sets a new password. The
/// engine keeps no password, only that there is one (`set_password`).
pub fn set_password(u: UserRef, password: &str, confirm: &str) -> Decision {
    if u.account == AccountState::Deleted {
        return deleted("A6");
    }
    let violations = password_violations(password, confirm);
    if violations.is_empty() {
        return Decision::allow("A1", "password set").with_effects([Effect::SetPassword { user: u.ix }]);
    }
    let mut d = Decision::deny(Code::PasswordTooWeak, "A1", format!("password too weak: {}", violations.join("; ")));
    d.violations = violations;
    d
}

/// Rule A2 (with A4, A1 and S1): `actor` creates `user`, optionally with
/// the password typed twice (`password`: the password and its
/// confirmation). The actor needs `manage_users` (A4); every problem with
/// the record is listed, the password's A1 violations after the A2 problems
/// (`PASSWORD_TOO_WEAK` when they are the only ones, else `INVALID_USER`); a
/// new active account takes a seat and needs a password (S1). With a good
/// password the new user has one. A licence marked assigned without
/// `assigned_at` is assigned `now`.
pub fn create_user(state: &State, actor: UserRef, user: &User, password: Option<(&str, &str)>, now: Instant) -> Decision {
    if let Some(refusal) = may_manage_users(state, actor, "create users") {
        return refusal;
    }
    let mut problems = user_problems(state, user);
    let weak = password.map(|(p, c)| password_violations(p, c)).unwrap_or_default();
    if !problems.is_empty() || !weak.is_empty() {
        let code = if problems.is_empty() { Code::PasswordTooWeak } else { Code::InvalidUser };
        problems.extend(weak.into_iter().map(|v| format!("password: {v}")));
        let n = problems.len();
        let mut d = Decision::deny(
            code,
            "A2",
            format!("user `{}` cannot be created: {n} problem{}: {}", user.id, plural(n), problems.join("; ")),
        );
        d.violations = problems;
        return d;
    }
    let has_password = user.has_password || password.is_some();
    if user.account == AccountState::Active {
        if let Some(refusal) = seats::activation_refusal(state, has_password) {
            return refusal;
        }
    }
    let mut record = user.clone();
    record.has_password = has_password;
    if record.held_license().is_some() && record.assigned_at.is_none() {
        record.assigned_at = Some(now);
    }
    let message = format!("user `{}` created ({})", user.id, user.account.name());
    Decision::allow("A2", message).with_effects([Effect::AddUser(Box::new(record))])
}

/// Rule A2: everything wrong with a new user record, in a fixed order
/// (id, name, e-mail, SIP, permission group, groups, Position, account,
/// licences). E-mail and SIP account must not be held by another user who
/// is not deleted (A6 frees them).
pub fn user_problems(state: &State, user: &User) -> Vec<String> {
    let mut problems = Vec::new();
    if user.id.trim().is_empty() {
        problems.push("an id is required".to_string());
    } else if state.user(&user.id).is_some() {
        problems.push(format!("id `{}` is already in use", user.id));
    }
    problems.extend(details_problems(state, &details_of(user), None));
    if user.account == AccountState::Deleted {
        problems.push("a new user cannot be deleted".to_string());
    }
    if user.main_admin {
        problems.push("a new user cannot be the main administrator".to_string());
    }
    if user.standard == Selector::Assigned && user.inspections == Selector::Assigned {
        problems.push("a user holds one licence type at most (Inspections includes Standard)".to_string());
    } else if let Some(license) = user.held_license() {
        if user.external {
            // L10: only the organisation's External licence serves external users.
            problems.push(format!("an external user holds no {} licence: the External licence serves them", license.name()));
        } else if state.free(license) == 0 {
            problems.push(format!("no free {} licence to assign", license.name()));
        }
    }
    problems
}

/// What A7 can change about `user`.
fn details_of(user: &User) -> UserDetails {
    UserDetails {
        user: user.id.clone(),
        name: user.name.clone(),
        email: user.email.clone(),
        sip: user.sip.clone(),
        business_number: user.business_number.clone(),
        call_presentation: user.call_presentation.clone(),
        sms_presentation: user.sms_presentation.clone(),
        permission_group: user.permission_group.clone(),
        groups: user.groups.clone(),
    }
}

/// Rule A2 on a user's details (name, e-mail, SIP, permission group,
/// groups, Position, then business number and presentations, F7), for a
/// new user or, `me` given, an existing one whose own e-mail and SIP
/// account don't count as taken.
fn details_problems(state: &State, user: &UserDetails, me: Option<UserIx>) -> Vec<String> {
    let mut problems = Vec::new();
    let others = || state.users().iter().filter(move |u| u.account != AccountState::Deleted && Some(u.ix) != me);
    if user.name.trim().is_empty() {
        problems.push("a name is required".to_string());
    }
    if user.email.is_empty() {
        problems.push("an e-mail address is required (it is the login)".to_string());
    } else if !is_well_formed_email(&user.email) {
        problems.push(format!("e-mail `{}` is not well-formed (expected local@domain.tld)", user.email));
    } else if let Some(holder) = others().find(|u| u.email().eq_ignore_ascii_case(&user.email)) {
        problems.push(format!("e-mail `{}` is already the login of user `{}`", user.email, holder.id()));
    }
    match user.sip.as_deref().map(str::trim) {
        None | Some("") => problems.push("a SIP account is required".to_string()),
        Some(sip) => {
            if let Some(holder) = others().find(|u| u.sip() == Some(sip)) {
                problems.push(format!("SIP account `{sip}` is already held by user `{}`", holder.id()));
            }
        }
    }
    match user.permission_group.as_deref() {
        None => problems.push("exactly one permission group is required".to_string()),
        Some(id) => match state.group(id) {
            None => problems.push(format!("permission group `{id}` does not exist")),
            Some(g) if g.kind != GroupKind::Permission => {
                problems.push(format!("`{id}` is a user group, not a permission group"))
            }
            Some(_) => {}
        },
    }
    for (i, id) in user.groups.iter().enumerate() {
        match state.group(id) {
            None => problems.push(format!("group `{id}` does not exist")),
            Some(g) if g.kind != GroupKind::User => problems
                .push(format!("`{id}` is a permission group; a user has exactly one, given as permission_group")),
            Some(_) if user.groups[..i].contains(id) => problems.push(format!("group `{id}` is listed twice")),
            Some(_) => {}
        }
    }
    if !user.groups.iter().any(|g| state.is_within(g, POSITION_GROUP)) {
        problems.push(format!("the user must be in the Position group (`{POSITION_GROUP}`) or one of its subgroups"));
    }
    problems.extend(features::presentation_problems(
        state,
        user.business_number.as_deref(),
        user.call_presentation.as_deref(),
        user.sms_presentation.as_deref(),
    ));
    problems
}

/// Rule A7 (with A4 and A2): `actor` edits `u`. Each field the event gives
/// replaces the user's (an empty business number or presentation clears
/// it); `groups` replaces the whole user-group membership, which changes
/// only here. The actor needs `manage_users`, and only the main
/// administrator edits the main administrator; a deleted user can't be
/// edited; the result must pass A2 (`INVALID_USER`, every problem listed).
/// An edit that changes nothing is allowed with no effects.
pub fn edit_user(state: &State, actor: UserRef, u: UserRef, e: &EditUserEvent) -> Decision {
    if let Some(refusal) = may_manage_users(state, actor, "edit users") {
        return refusal;
    }
    if u.main_admin && !actor.main_admin {
        return Decision::deny(Code::NotPermitted, "A4", "only the main administrator edits the main administrator");
    }
    if u.account == AccountState::Deleted {
        return Decision::deny(Code::AccountDeleted, "A7", format!("user `{}` is deleted and can't be edited", u.id()));
    }
    let before = details_of(&u.to_user());
    let cleared = |new: &Option<String>, old: &Option<String>| match new.as_deref() {
        None => old.clone(),
        Some("") => None,
        Some(v) => Some(v.to_string()),
    };
    let after = UserDetails {
        user: before.user.clone(),
        name: e.name.clone().unwrap_or_else(|| before.name.clone()),
        email: e.email.clone().unwrap_or_else(|| before.email.clone()),
        sip: e.sip.clone().or_else(|| before.sip.clone()),
        business_number: cleared(&e.business_number, &before.business_number),
        call_presentation: cleared(&e.call_presentation, &before.call_presentation),
        sms_presentation: cleared(&e.sms_presentation, &before.sms_presentation),
        permission_group: e.permission_group.clone().or_else(|| before.permission_group.clone()),
        groups: e.groups.clone().unwrap_or_else(|| before.groups.clone()),
    };
    if after == before {
        return Decision::allow("A7", format!("user `{}` unchanged", u.id()));
    }
    let problems = details_problems(state, &after, Some(u.ix));
    if !problems.is_empty() {
        let n = problems.len();
        let mut d = Decision::deny(
            Code::InvalidUser,
            "A7",
            format!("user `{}` cannot be saved: {n} problem{}: {}", u.id(), plural(n), problems.join("; ")),
        );
        d.violations = problems;
        return d;
    }
    let changed = changed_fields(&before, &after);
    Decision::allow("A7", format!("user `{}` saved: {}", u.id(), changed.join(", ")))
        .with_effects([Effect::EditUser { user: u.ix, details: Box::new(after) }])
}

/// The names of the fields that differ between two details, in order.
fn changed_fields(before: &UserDetails, after: &UserDetails) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |name: &str, differs: bool| {
        if differs {
            out.push(name.to_string());
        }
    };
    field("name", before.name != after.name);
    field("email", before.email != after.email);
    field("sip", before.sip != after.sip);
    field("business_number", before.business_number != after.business_number);
    field("call_presentation", before.call_presentation != after.call_presentation);
    field("sms_presentation", before.sms_presentation != after.sms_presentation);
    field("permission_group", before.permission_group != after.permission_group);
    if before.groups != after.groups {
        let left: Vec<&str> = before.groups.iter().filter(|g| !after.groups.contains(g)).map(String::as_str).collect();
        let joined: Vec<&str> = after.groups.iter().filter(|g| !before.groups.contains(g)).map(String::as_str).collect();
        let mut moves = Vec::new();
        if !left.is_empty() {
            moves.push(format!("leaves {}", left.join(", ")));
        }
        if !joined.is_empty() {
            moves.push(format!("joins {}", joined.join(", ")));
        }
        if moves.is_empty() {
            moves.push("groups reordered".to_string());
        }
        out.push(format!("groups ({})", moves.join("; ")));
    }
    out
}

/// Who may create or edit a group of `kind` (A8): permission groups are the
/// main administrator's (A3), user groups need `manage_users` (A4).
fn may_manage_groups(state: &State, actor: UserRef, kind: GroupKind, verb: &str) -> Option<Decision> {
    if let Some(refusal) = actor_refusal(actor) {
        return Some(refusal);
    }
    match kind {
        GroupKind::Permission if !actor.main_admin => Some(Decision::deny(
            Code::NotPermitted,
            "A8",
            format!("only the main administrator {verb} permission groups"),
        )),
        GroupKind::Permission => None,
        GroupKind::User => may_manage_users(state, actor, &format!("{verb} user groups")),
    }
}

/// Rule A8: a group's parent, if any: an existing user group, and no cycle
/// through `id`. Problems are pushed to `problems`.
fn parent_problems(state: &State, id: &str, kind: GroupKind, parent: Option<&str>, problems: &mut Vec<String>) {
    let Some(parent) = parent else { return };
    if parent == id {
        problems.push(format!("group `{id}` can't be its own parent"));
        return;
    }
    match state.group(parent) {
        None => problems.push(format!("parent group `{parent}` does not exist")),
        Some(p) if p.kind != GroupKind::User => {
            problems.push(format!("parent `{parent}` is a permission group; a parent is a user group"))
        }
        Some(_) if kind == GroupKind::Permission => {
            problems.push("a permission group has no parent; subgroups are user groups".to_string())
        }
        Some(_) if state.is_within(parent, id) => {
            let chain: Vec<&str> = state.ancestors(parent).map(|g| g.id.as_str()).take_while(|g| *g != id).collect();
            // Each arrow points from a group to its parent.
            problems.push(format!(
                "parents would form a cycle: `{id}` → {} → `{id}`",
                chain.iter().map(|g| format!("`{g}`")).collect::<Vec<_>>().join(" → ")
            ));
        }
        Some(_) => {}
    }
}

fn invalid_group(id: &str, verb: &str, problems: Vec<String>) -> Decision {
    let n = problems.len();
    let mut d = Decision::deny(
        Code::InvalidGroup,
        "A8",
        format!("group `{id}` cannot be {verb}: {n} problem{}: {}", plural(n), problems.join("; ")),
    );
    d.violations = problems;
    d
}

/// Rule A8 (with A3 and A4): `actor` creates `group`; for a permission
/// group, `members` move into it, each leaving their old permission group.
/// The id is new and not empty, a parent exists and is a user group, a
/// user group has no permissions and no members listed, members are listed
/// once and not deleted (`INVALID_GROUP`, every problem listed).
pub fn create_group(state: &State, actor: UserRef, group: &Group, members: &[UserRef]) -> Decision {
    if let Some(refusal) = may_manage_groups(state, actor, group.kind, "creates") {
        return refusal;
    }
    let id = group.id.as_str();
    let mut problems = Vec::new();
    if id.trim().is_empty() {
        problems.push("a group needs an id".to_string());
    } else if state.group(id).is_some() {
        problems.push(format!("id `{id}` is already a group"));
    }
    if group.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        problems.push("a group's name can't be empty".to_string());
    }
    parent_problems(state, id, group.kind, group.parent.as_deref(), &mut problems);
    if group.kind == GroupKind::User {
        if !group.permissions.is_empty() {
            problems.push("a user group has no permissions; permissions belong to permission groups".to_string());
        }
        if !members.is_empty() {
            problems.push("members are chosen for permission groups; users join user groups by edit_user".to_string());
        }
    }
    for (i, m) in members.iter().enumerate() {
        if members[..i].iter().any(|o| o.ix == m.ix) {
            problems.push(format!("member `{}` is listed twice", m.id()));
        } else if m.account == AccountState::Deleted {
            problems.push(format!("member `{}` is deleted", m.id()));
        }
    }
    if !problems.is_empty() {
        return invalid_group(id, "created", problems);
    }
    let mut effects: Effects = Effects::from_iter([Effect::AddGroup(Box::new(group.clone()))]);
    for m in members {
        let mut details = details_of(&m.to_user());
        details.permission_group = Some(id.to_string());
        effects.push(Effect::EditUser { user: m.ix, details: Box::new(details) });
    }
    let kind = if group.kind == GroupKind::Permission { "permission group" } else { "user group" };
    let message = match members.len() {
        0 => format!("{kind} `{id}` created"),
        n => format!("{kind} `{id}` created; {n} user{} moved into it", plural(n)),
    };
    Decision::allow("A8", message).with_effects(effects)
}

/// Rule A8 (with A3 and A4): `actor` edits group `e.group`: its name,
/// parent (an empty one makes it top-level) and permissions. The Position
/// group is never renamed or given a parent; a new parent must be a user
/// group and must not make a cycle (`INVALID_GROUP`, every problem listed).
/// An edit that changes nothing is allowed with no effects.
pub fn edit_group(state: &State, actor: UserRef, e: &EditGroupEvent) -> Decision {
    let id = e.group.as_str();
    let Some(old) = state.group(id) else {
        return invalid_group(id, "edited", vec![format!("no group `{id}`")]);
    };
    if let Some(refusal) = may_manage_groups(state, actor, old.kind, "edits") {
        return refusal;
    }
    let mut new = old.clone();
    let mut problems = Vec::new();
    if let Some(name) = &e.name {
        if name.trim().is_empty() {
            problems.push("a group's name can't be empty".to_string());
        }
        new.name = Some(name.clone());
    }
    if let Some(parent) = &e.parent {
        new.parent = (!parent.is_empty()).then(|| parent.clone());
        if new.parent != old.parent {
            parent_problems(state, id, old.kind, new.parent.as_deref(), &mut problems);
        }
    }
    if let Some(permissions) = &e.permissions {
        new.permissions = permissions.clone();
        if old.kind == GroupKind::User && !permissions.is_empty() {
            problems.push("a user group has no permissions; permissions belong to permission groups".to_string());
        }
    }
    if id == POSITION_GROUP {
        if new.name != old.name {
            problems.push("the Position group is built in: it is never renamed".to_string());
        }
        if new.parent.is_some() {
            problems.push("the Position group is built in: it never gets a parent".to_string());
        }
    }
    if !problems.is_empty() {
        return invalid_group(id, "edited", problems);
    }
    if new == *old {
        return Decision::allow("A8", format!("group `{id}` unchanged"));
    }
    Decision::allow("A8", format!("group `{id}` saved")).with_effects([Effect::UpdateGroup(Box::new(new))])
}

/// Rule A2's e-mail check, deliberately strict: `local@domain.tld` with one
/// `@`, at most 254 characters, no spaces. The local part: ASCII letters,
/// digits and `. _ % + -`, not starting or ending with a dot, no two dots in
/// a row. The domain: two or more dot-separated labels of ASCII letters,
/// digits and inner hyphens (1–63 characters each), the last one (the
/// top-level domain) letters only, at least two.
pub fn is_well_formed_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    if email.len() > 254 || domain.contains('@') {
        return false;
    }
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.bytes().all(|b| b.is_ascii_alphanumeric() || b"._%+-".contains(&b))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let tld_ok = labels.last().is_some_and(|t| t.len() >= 2 && t.bytes().all(|b| b.is_ascii_alphabetic()));
    local_ok && labels.len() >= 2 && labels.iter().all(|l| label_ok(l)) && tld_ok
}

/// Rules A4 and A5: `actor` blocks `u`. The account loses its panel login
/// (its open session ends) and its seat; its SIP account keeps working.
pub fn block_user(state: &State, actor: UserRef, u: UserRef) -> Decision {
    if let Some(refusal) = may_act_on(state, actor, u, "block", "blocked") {
        return refusal;
    }
    match u.account {
        AccountState::Deleted => deleted("A6"),
        AccountState::Blocked => Decision::allow("A5", format!("user `{}` is already blocked", u.id())),
        AccountState::Active | AccountState::Inactive => {
            let mut effects = end_session(state, u);
            effects.push(set_state(u, AccountState::Blocked));
            let ended = if effects.len() > 1 { "; the open session was ended" } else { "" };
            Decision::allow(
                "A5",
                format!("user `{}` blocked: no panel login or SMS; calls over the SIP account still work{ended}", u.id()),
            )
            .with_effects(effects)
        }
    }
}

/// Rules A4 and A5: `actor` unblocks `u`. The account becomes active
/// again when S1 allows (a free seat and a password); otherwise it becomes
/// inactive, and the administrator activates it once S1 allows. Unblocking
/// itself is never refused for a seat.
pub fn unblock_user(state: &State, actor: UserRef, u: UserRef) -> Decision {
    if let Some(refusal) = may_manage_users(state, actor, "unblock users") {
        return refusal;
    }
    match u.account {
        AccountState::Deleted => deleted("A6"),
        AccountState::Active | AccountState::Inactive => {
            Decision::allow("A5", format!("user `{}` is not blocked", u.id()))
        }
        AccountState::Blocked => match seats::activation_refusal(state, u.has_password) {
            None => Decision::allow("A5", format!("user `{}` unblocked: the account is active again", u.id()))
                .with_effects([set_state(u, AccountState::Active)]),
            Some(why) => {
                Decision::allow("A5", format!("user `{}` unblocked but left inactive: {}", u.id(), why.message))
                    .with_effects([set_state(u, AccountState::Inactive)])
            }
        },
    }
}

/// Rules A4 and A6: `actor` deletes `u` at `now`. The open session ends, a
/// held licence is freed, the account leaves every group and frees its SIP
/// account and e-mail; billing stops at the start of the next billing period.
pub fn delete_user(state: &State, actor: UserRef, u: UserRef, now: Instant) -> Decision {
    if let Some(refusal) = may_act_on(state, actor, u, "delete", "deleted") {
        return refusal;
    }
    if u.account == AccountState::Deleted {
        return Decision::deny(Code::AccountDeleted, "A6", format!("user `{}` is already deleted", u.id()));
    }
    let mut effects = end_session(state, u);
    if let Some(license) = u.held_license() {
        effects.push(Effect::Unassign { user: u.ix, license });
    }
    effects.push(set_state(u, AccountState::Deleted));
    let billing_ends_at = next_billing_start(now, state.settings().billing_day);
    let mut d = Decision::allow("A6", format!("user `{}` deleted; billing stops at the next billing period", u.id()))
        .with_effects(effects);
    d.billing_ends_at = Some(billing_ends_at);
    // Deleting later, from the next period on, bills that period too.
    d.until(billing_ends_at)
}

/// Rule A3: `actor` deletes `group` and, with it, its (empty) subgroups.
/// The Position group is never deleted (checked first); permission groups
/// are the main administrator's, user groups need `manage_users`; a group
/// is deleted only while nobody is in it or its subgroups.
pub fn delete_group(state: &State, actor: UserRef, group: &str) -> Decision {
    if let Some(refusal) = actor_refusal(actor) {
        return refusal;
    }
    let Some(g) = state.group(group) else {
        return Decision::allow("A3", format!("no group `{group}`: nothing to delete"));
    };
    if g.id == POSITION_GROUP {
        return Decision::deny(
            Code::GroupProtected,
            "A3",
            "the Position group is built in and never deleted (its subgroups may be)",
        );
    }
    match g.kind {
        GroupKind::Permission if !actor.main_admin => {
            return Decision::deny(
                Code::NotPermitted,
                "A3",
                "only the main administrator creates, edits or deletes permission groups",
            );
        }
        GroupKind::User => {
            if let Some(refusal) = may_manage_users(state, actor, "delete user groups") {
                return refusal;
            }
        }
        GroupKind::Permission => {}
    }
    let members = state.members(group);
    if !members.is_empty() {
        let shown: Vec<String> = members.iter().take(5).map(|u| format!("`{}`", u.id())).collect();
        let more = if members.len() > 5 { format!(" and {} more", members.len() - 5) } else { String::new() };
        let n = members.len();
        return Decision::deny(
            Code::GroupNotEmpty,
            "A3",
            format!(
                "group `{group}` still has {n} user{} in it or its subgroups: {}{more}",
                plural(n),
                shown.join(", ")
            ),
        );
    }
    let subgroups = state.subgroups(group);
    let mut effects: Effects = subgroups.iter().map(|s| Effect::RemoveGroup(s.id.as_str().into())).collect();
    effects.push(Effect::RemoveGroup(group.into()));
    let message = match subgroups.len() {
        0 => format!("group `{group}` deleted"),
        n => format!("group `{group}` deleted with its {n} empty subgroup{}", plural(n)),
    };
    Decision::allow("A3", message).with_effects(effects)
}

// ------------------------------------------------------------ permissions

/// A blocked or deleted actor has no panel access, so no permissions.
fn actor_refusal(actor: UserRef) -> Option<Decision> {
    let state = match actor.account {
        AccountState::Blocked => "blocked",
        AccountState::Deleted => "deleted",
        AccountState::Active | AccountState::Inactive => return None,
    };
    Some(Decision::deny(Code::NotPermitted, "A4", format!("`{}` cannot act: their account is {state}", actor.id())))
}

/// Rule A4: the actor is the main administrator or has `manage_users`.
fn may_manage_users(state: &State, actor: UserRef, what: &str) -> Option<Decision> {
    if let Some(refusal) = actor_refusal(actor) {
        return Some(refusal);
    }
    if actor.main_admin || has_permission(state, actor, MANAGE_USERS) {
        return None;
    }
    Some(Decision::deny(
        Code::NotPermitted,
        "A4",
        format!("`{}` may not {what}: that needs the {MANAGE_USERS} permission", actor.id()),
    ))
}

/// Rule A4 for blocking and deleting: on another user, never on oneself or
/// the main administrator.
fn may_act_on(state: &State, actor: UserRef, u: UserRef, verb: &str, done: &str) -> Option<Decision> {
    if let Some(refusal) = may_manage_users(state, actor, &format!("{verb} users")) {
        return Some(refusal);
    }
    let why = if actor.ix == u.ix {
        format!("nobody may {verb} their own account; another administrator must")
    } else if u.main_admin {
        format!("the main administrator cannot be {done}")
    } else {
        return None;
    };
    Some(Decision::deny(Code::NotPermitted, "A4", why))
}

/// Whether `u`'s permission group (or a group it is a subgroup of) grants
/// `permission`.
pub fn has_permission(state: &State, u: UserRef, permission: &str) -> bool {
    let Some(id) = u.permission_group() else { return false };
    state
        .ancestors(id)
        .any(|g| g.kind == GroupKind::Permission && g.permissions.iter().any(|p| p == permission))
}

// ------------------------------------------------------------ helpers

fn end_session(state: &State, u: UserRef) -> Effects {
    state.session(u.ix).map(|_| Effect::EndSession { user: u.ix }).into_iter().collect()
}

fn set_state(u: UserRef, to: AccountState) -> Effect {
    Effect::SetState { user: u.ix, state: to }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{format_rfc3339, parse_rfc3339};
    use crate::decision::effect_records;
    use crate::model::{self, Group, OrgState, Settings, StateChange};

    fn at(text: &str) -> Instant {
        parse_rfc3339(text).expect("a valid instant")
    }

    fn group(id: &str, kind: GroupKind, parent: Option<&str>, permissions: &[&str]) -> Group {
        Group {
            id: id.into(),
            kind,
            name: None,
            parent: parent.map(Into::into),
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn person(id: &str, permission_group: &str, groups: &[&str], sip: &str) -> User {
        User {
            name: format!("User {id}"),
            email: format!("{id}@example.com"),
            permission_group: Some(permission_group.into()),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            sip: Some(sip.into()),
            ..User::new(id)
        }
    }

    /// boss (main admin), manager (manage_users), agent (no permission),
    /// gone (deleted, once held `old@example.com` and SIP 109).
    fn org() -> State {
        let groups = vec![
            group("admins", GroupKind::Permission, None, &[MANAGE_USERS]),
            group("agents", GroupKind::Permission, None, &[]),
            group("spare", GroupKind::Permission, None, &[]),
            group(POSITION_GROUP, GroupKind::User, None, &[]),
            group("position/consultant", GroupKind::User, Some(POSITION_GROUP), &[]),
            group("branches", GroupKind::User, None, &[]),
            group("branches/france", GroupKind::User, Some("branches"), &[]),
            group("branches/france/paris", GroupKind::User, Some("branches/france"), &[]),
            group("branches/usa", GroupKind::User, Some("branches"), &[]),
        ];
        let users = vec![
            User { main_admin: true, ..person("boss", "admins", &[POSITION_GROUP], "100") },
            person("manager", "admins", &[POSITION_GROUP], "101"),
            person("agent", "agents", &["position/consultant", "branches/france/paris"], "102"),
            User {
                account: AccountState::Deleted,
                email: "old@example.com".into(),
                sip: Some("109".into()),
                ..User::new("gone")
            },
        ];
        let settings = Settings { max_active_users: Some(4), billing_day: 1, ..Settings::default() };
        State::load(OrgState { settings, users, groups, sessions: vec![] }).expect("a consistent state")
    }

    fn u<'a>(s: &'a State, id: &str) -> UserRef<'a> {
        s.user(id).expect("user exists")
    }

    const NOW: &str = "2026-11-22T10:00:00Z";

    #[test]
    fn a1_every_broken_rule_in_order() {
        let all = password_violations("", "x");
        assert_eq!(
            all,
            vec![
                "needs at least 8 characters (has 0)",
                "needs a lower-case letter",
                "needs an upper-case letter",
                "needs a digit",
                "needs a special character, one of !@*$&",
                "the confirmation does not match",
            ]
        );
        assert!(password_violations("Abcdef1!", "Abcdef1!").is_empty(), "exactly 8 characters");
        assert_eq!(password_violations("Abcde1!", "Abcde1!"), vec!["needs at least 8 characters (has 7)"]);
        assert_eq!(password_violations("Abcdefg1#", "Abcdefg1#"), vec!["needs a special character, one of !@*$&"]);
        // Polish letters are letters, and one character each.
        assert!(password_violations("Zażółć1!", "Zażółć1!").is_empty());
        assert_eq!(password_violations("ŁÓDŹ1234$", "ŁÓDŹ1234$"), vec!["needs a lower-case letter"]);
    }

    #[test]
    fn a1_set_password_decisions() {
        let s = org();
        let d = set_password(u(&s, "agent"), "short", "short");
        assert_eq!((d.allow, d.code, d.rule), (false, Code::PasswordTooWeak, "A1"));
        assert_eq!(d.violations.len(), 4);
        assert!(d.effects.is_empty());
        let d = set_password(u(&s, "agent"), "Secret1!", "Secret1!");
        assert_eq!(effect_records(&d, &s), vec![model::Effect::SetPassword("agent".into())]);
        assert!(!d.message.contains("Secret1!"), "passwords never reach a decision");
        assert_eq!(set_password(u(&s, "gone"), "Secret1!", "Secret1!").code, Code::AccountDeleted);
    }

    #[test]
    fn a2_emails() {
        for good in ["a@b.co", "first.last+tag@sub.example.com", "x_y%z-1@a-b.pl"] {
            assert!(is_well_formed_email(good), "{good}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a@b@c.com",
            "a b@c.com",
            "a@b .com",
            ".a@b.com",
            "a.@b.com",
            "a..b@c.com",
            "a@-b.com",
            "a@b-.com",
            "a@b..com",
            "a@b.c",
            "a@b.c0m",
            "ä@b.com",
            "a@b.com ",
        ] {
            assert!(!is_well_formed_email(bad), "{bad}");
        }
    }

    #[test]
    fn a2_a_good_user_is_created() {
        let s = org();
        let new = User { standard: Selector::Unassigned, ..person("new", "agents", &["position/consultant"], "103") };
        let d = create_user(&s, u(&s, "manager"), &new, None, at(NOW));
        assert_eq!((d.allow, d.rule), (true, "A2"), "{d:?}");
        assert_eq!(effect_records(&d, &s), vec![model::Effect::AddUser(new.clone())]);
        // The deleted user's e-mail and SIP account are free again.
        let reuse = User { email: "OLD@example.com".into(), ..person("again", "agents", &[POSITION_GROUP], "109") };
        assert!(create_user(&s, u(&s, "boss"), &reuse, None, at(NOW)).allow);
    }

    #[test]
    fn a2_every_problem_is_listed() {
        let s = org();
        let bad = User {
            id: "agent".into(),
            email: "Agent@Example.com".into(),
            sip: Some("102".into()),
            permission_group: Some("branches".into()),
            groups: vec!["admins".into(), "nowhere".into(), "branches".into(), "branches".into()],
            main_admin: true,
            ..User::new("x")
        };
        let d = create_user(&s, u(&s, "boss"), &bad, None, at(NOW));
        assert_eq!((d.allow, d.code, d.rule), (false, Code::InvalidUser, "A2"));
        assert_eq!(
            d.violations,
            vec![
                "id `agent` is already in use",
                "a name is required",
                "e-mail `Agent@Example.com` is already the login of user `agent`",
                "SIP account `102` is already held by user `agent`",
                "`branches` is a user group, not a permission group",
                "`admins` is a permission group; a user has exactly one, given as permission_group",
                "group `nowhere` does not exist",
                "group `branches` is listed twice",
                "the user must be in the Position group (`position`) or one of its subgroups",
                "a new user cannot be the main administrator",
            ]
        );
        let empty = User::new("");
        let d = create_user(&s, u(&s, "boss"), &empty, None, at(NOW));
        assert_eq!(
            d.violations,
            vec![
                "an id is required",
                "a name is required",
                "an e-mail address is required (it is the login)",
                "a SIP account is required",
                "exactly one permission group is required",
                "the user must be in the Position group (`position`) or one of its subgroups",
            ]
        );
    }

    #[test]
    fn a2_licences_and_seats_of_a_new_user() {
        let s = org(); // no licences purchased, 3 of 4 seats taken
        let licensed = User { standard: Selector::Assigned, ..person("new", "agents", &[POSITION_GROUP], "103") };
        let d = create_user(&s, u(&s, "boss"), &licensed, None, at(NOW));
        assert_eq!(d.violations, vec!["no free standard licence to assign"]);
        let external = User { external: true, ..licensed.clone() };
        assert_eq!(
            create_user(&s, u(&s, "boss"), &external, None, at(NOW)).violations,
            vec!["an external user holds no standard licence: the External licence serves them"]
        );
        let nopass = User { has_password: false, ..person("new", "agents", &[POSITION_GROUP], "103") };
        assert_eq!(create_user(&s, u(&s, "boss"), &nopass, None, at(NOW)).code, Code::PasswordRequired);
        let inactive = User { account: AccountState::Inactive, ..nopass };
        assert!(create_user(&s, u(&s, "boss"), &inactive, None, at(NOW)).allow);

        let mut s = s;
        let fourth = person("fourth", "agents", &[POSITION_GROUP], "104");
        let d = create_user(&s, u(&s, "boss"), &fourth, None, at(NOW));
        s.apply(&d.effects).expect("applies");
        let fifth = person("fifth", "agents", &[POSITION_GROUP], "105");
        assert_eq!(create_user(&s, u(&s, "boss"), &fifth, None, at(NOW)).code, Code::SeatLimitReached);
    }

    #[test]
    fn a4_managing_users_needs_the_permission() {
        let s = org();
        let new = person("new", "agents", &[POSITION_GROUP], "103");
        for d in [
            create_user(&s, u(&s, "agent"), &new, None, at(NOW)),
            block_user(&s, u(&s, "agent"), u(&s, "manager")),
            unblock_user(&s, u(&s, "agent"), u(&s, "manager")),
            delete_user(&s, u(&s, "agent"), u(&s, "manager"), at(NOW)),
            block_user(&s, u(&s, "manager"), u(&s, "manager")),
            block_user(&s, u(&s, "manager"), u(&s, "boss")),
            delete_user(&s, u(&s, "boss"), u(&s, "boss"), at(NOW)),
            block_user(&s, u(&s, "gone"), u(&s, "agent")),
        ] {
            assert_eq!((d.allow, d.code, d.rule), (false, Code::NotPermitted, "A4"), "{d:?}");
        }
        assert!(block_user(&s, u(&s, "manager"), u(&s, "agent")).allow);
        assert!(block_user(&s, u(&s, "boss"), u(&s, "manager")).allow);
    }

    #[test]
    fn a5_block_ends_the_session_and_unblock_is_an_activation() {
        let mut s = org();
        s.apply(&crate::seats::login(&s, u(&s, "agent"), at(NOW)).effects).expect("login");
        let d = block_user(&s, u(&s, "boss"), u(&s, "agent"));
        assert_eq!(
            effect_records(&d, &s),
            vec![
                model::Effect::EndSession("agent".into()),
                model::Effect::SetState(StateChange { user: "agent".into(), state: AccountState::Blocked })
            ]
        );
        s.apply(&d.effects).expect("block");
        assert_eq!(s.active_accounts(), 2, "a blocked account holds no seat");
        assert_eq!(crate::seats::login(&s, u(&s, "agent"), at(NOW)).code, Code::AccountBlocked);
        assert!(block_user(&s, u(&s, "boss"), u(&s, "agent")).effects.is_empty());

        // Fill the seats, then unblocking waits for one.
        let d = create_user(&s, u(&s, "boss"), &person("n1", "agents", &[POSITION_GROUP], "201"), None, at(NOW));
        s.apply(&d.effects).expect("n1");
        let d = create_user(&s, u(&s, "boss"), &person("n2", "agents", &[POSITION_GROUP], "202"), None, at(NOW));
        s.apply(&d.effects).expect("n2");
        let d = unblock_user(&s, u(&s, "boss"), u(&s, "agent"));
        assert_eq!((d.allow, d.rule), (true, "A5"));
        assert_eq!(d.effects.as_slice(), [set_state(u(&s, "agent"), AccountState::Inactive)], "no free seat: inactive");
        assert_eq!(
            d.message,
            "user `agent` unblocked but left inactive: all 4 active user accounts are in use; deactivate an account first"
        );
        s.apply(&crate::seats::deactivate(&s, u(&s, "n2")).effects).expect("deactivate");
        s.apply(&block_user(&s, u(&s, "boss"), u(&s, "agent")).effects).expect("blocked again");
        let d = unblock_user(&s, u(&s, "boss"), u(&s, "agent"));
        assert_eq!(d.effects.as_slice(), [set_state(u(&s, "agent"), AccountState::Active)], "a free seat: active");
        assert!(unblock_user(&s, u(&s, "boss"), u(&s, "n2")).effects.is_empty(), "not blocked");
    }

    #[test]
    fn a6_delete_frees_everything_and_names_the_billing_end() {
        let mut s = org();
        s.apply(&crate::seats::login(&s, u(&s, "agent"), at(NOW)).effects).expect("login");
        let d = delete_user(&s, u(&s, "manager"), u(&s, "agent"), at(NOW));
        assert_eq!((d.allow, d.rule), (true, "A6"));
        assert_eq!(d.billing_ends_at.map(format_rfc3339).as_deref(), Some("2026-12-01T00:00:00Z"));
        assert_eq!(effect_records(&d, &s).first(), Some(&model::Effect::EndSession("agent".into())));
        s.apply(&d.effects).expect("delete");
        let gone = u(&s, "agent");
        assert_eq!((gone.account, gone.sip(), gone.groups().len()), (AccountState::Deleted, None, 0));
        assert_eq!(delete_user(&s, u(&s, "boss"), u(&s, "agent"), at(NOW)).code, Code::AccountDeleted);
        assert_eq!(crate::seats::login(&s, u(&s, "agent"), at(NOW)).code, Code::AccountDeleted);

        let december = delete_user(&s, u(&s, "boss"), u(&s, "manager"), at("2026-12-31T23:59:59Z"));
        assert_eq!(december.billing_ends_at.map(format_rfc3339).as_deref(), Some("2027-01-01T00:00:00Z"));
    }

    #[test]
    fn a6_delete_frees_a_held_licence() {
        let settings = Settings {
            licenses: crate::model::Licenses { standard: 1, inspections: 0, external: false },
            ..Settings::default()
        };
        let users = vec![
            User { main_admin: true, ..User::new("boss") },
            User { standard: Selector::Assigned, ..User::new("held") },
        ];
        let mut s = State::load(OrgState { settings, users, groups: vec![], sessions: vec![] }).expect("state");
        let d = delete_user(&s, u(&s, "boss"), u(&s, "held"), at(NOW));
        s.apply(&d.effects).expect("delete");
        assert_eq!(s.free(crate::model::LicenseType::Standard), 1);
    }

    #[test]
    fn a3_groups() {
        let mut s = org();
        let boss = s.clone();
        let boss = u(&boss, "boss");
        let manager = s.clone();
        let manager = u(&manager, "manager");
        let code = |d: Decision| (d.allow, d.code);
        assert_eq!(code(delete_group(&s, boss, POSITION_GROUP)), (false, Code::GroupProtected));
        assert_eq!(code(delete_group(&s, manager, "spare")), (false, Code::NotPermitted));
        assert_eq!(code(delete_group(&s, boss, "agents")), (false, Code::GroupNotEmpty));
        // `agent` is in branches/france/paris: counts for branches and branches/france.
        let d = delete_group(&s, manager, "branches");
        assert_eq!(code(d.clone()), (false, Code::GroupNotEmpty));
        assert_eq!(d.message, "group `branches` still has 1 user in it or its subgroups: `agent`");
        assert_eq!(code(delete_group(&s, u(&s, "agent"), "branches/usa")), (false, Code::NotPermitted));

        let d = delete_group(&s, boss, "spare");
        assert_eq!(d.effects.as_slice(), [Effect::RemoveGroup("spare".into())]);
        s.apply(&d.effects).expect("spare");
        assert!(delete_group(&s, boss, "spare").effects.is_empty(), "already gone");

        let d = delete_user(&s, boss, u(&s, "agent"), at(NOW));
        s.apply(&d.effects).expect("agent deleted");
        let d = delete_group(&s, manager, "branches");
        assert_eq!(
            d.effects.as_slice(),
            [
                Effect::RemoveGroup("branches/france/paris".into()),
                Effect::RemoveGroup("branches/france".into()),
                Effect::RemoveGroup("branches/usa".into()),
                Effect::RemoveGroup("branches".into()),
            ]
        );
        s.apply(&d.effects).expect("branches removed");
        assert!(s.group("branches/usa").is_none());
        assert!(delete_group(&s, boss, "position/consultant").allow, "Position's subgroups follow the usual rule");
    }

    #[test]
    fn a4_permissions_are_inherited_from_a_parent_permission_group() {
        let groups = vec![
            group("admins", GroupKind::Permission, None, &[MANAGE_USERS]),
            group("admins/junior", GroupKind::Permission, Some("admins"), &[]),
        ];
        let users = vec![User { permission_group: Some("admins/junior".into()), ..User::new("j") }];
        let s =
            State::load(OrgState { settings: Settings::default(), users, groups, sessions: vec![] }).expect("state");
        assert!(has_permission(&s, u(&s, "j"), MANAGE_USERS));
        assert!(!has_permission(&s, u(&s, "j"), "other"));
    }
}
