//! Cost of one decision: the component (wasmtime) against the same rules
//! compiled natively, and the cost of loading an organisation.
//!
//! Run: `cargo bench -p turnstile --bench decisions` (release build). The
//! figures in the README come from this. It is a plain bench binary: each
//! measurement repeats a pure `decide` on a fixed state and reports the
//! median of several rounds.

use std::hint::black_box;
use std::time::{Duration, Instant};

use turnstile::{Evaluator, LoadedOrg, Policy};
use turnstile_policy::model::{Channel, Event, EventKind, LicenseType, OrgState, Selector, Settings, SyncEvent, User};

const T: i64 = 1_795_341_600; // 2026-11-22T10:00:00Z

fn organisation(users: usize) -> OrgState {
    let mut settings = Settings::default();
    settings.licenses.standard = (users / 2) as u32;
    settings.auto_assign = true;
    settings.auto_free = true;
    let users = (0..users)
        .map(|i| {
            let mut u = User::new(format!("user-{i:07}"));
            if i % 2 == 0 {
                u.standard = Selector::Assigned;
                u.last_sync = Some(T - (i as i64 % 365) * 86_400);
            }
            u
        })
        .collect();
    OrgState { settings, users, groups: Vec::new(), sessions: Vec::new() }
}

fn sync(user: &str) -> Event {
    Event { at: T, kind: EventKind::Sync(SyncEvent { user: user.into(), channel: Channel::Mobile }) }
}

/// Median time per call of `f` over `rounds` rounds of `calls` calls.
fn per_call(rounds: usize, calls: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls {
                f();
            }
            start.elapsed() / calls as u32
        })
        .collect();
    times.sort();
    times[rounds / 2]
}

fn main() {
    let policy = Policy::embedded().expect("the embedded component loads");
    let component = Evaluator::Component(policy);
    let native = Evaluator::Native;
    let state = organisation(1_000);
    println!("{:<52} {:>12} {:>12}", "measurement", "component", "native");

    let load = |e: &Evaluator| -> LoadedOrg { e.load(&state).unwrap().unwrap() };
    let (mut c, mut n) = (load(&component), load(&native));
    for (label, user) in [
        ("decide: sync, licence held (L4)", "user-0000000"),
        ("decide: sync, auto-free an inactive holder (L7)", "user-0000001"),
    ] {
        let event = sync(user);
        let tc = per_call(7, 20_000, || {
            black_box(c.decide(&event).unwrap());
        });
        let tn = per_call(7, 20_000, || {
            black_box(n.decide(&event).unwrap());
        });
        println!("{label:<52} {:>10.2}µs {:>10.2}µs", micros(tc), micros(tn));
    }
    let event = Event {
        at: T,
        kind: EventKind::Assign(turnstile_policy::model::LicenseEvent {
            user: "user-0000003".into(),
            license: LicenseType::Inspections,
        }),
    };
    let tc = per_call(7, 20_000, || {
        black_box(c.decide(&event).unwrap());
    });
    let tn = per_call(7, 20_000, || {
        black_box(n.decide(&event).unwrap());
    });
    println!("{:<52} {:>10.2}µs {:>10.2}µs", "decide: admin assign (L10)", micros(tc), micros(tn));

    for users in [1_000, 100_000] {
        let state = organisation(users);
        let tc = per_call(3, 1, || {
            black_box(component.load(&state).unwrap().unwrap());
        });
        let tn = per_call(3, 1, || {
            black_box(native.load(&state).unwrap().unwrap());
        });
        let label = format!("load an organisation of {users} users");
        println!("{label:<52} {:>10.2}ms {:>10.2}ms", millis(tc), millis(tn));
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
