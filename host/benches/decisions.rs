//! What one decision, one load and one batch cost: the component on
//! wasmtime side by side with the same rules compiled natively, and the
//! licence reader against the csv crate merely parsing the same bytes.
//!
//! Run: `cargo bench -p turnstile --bench decisions` (criterion; results in
//! target/criterion). The README's performance table quotes these, with
//! `examples/bench_whatif.rs` for whole processes.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use turnstile::{Evaluator, Instance, Options, OrgId, Policy};
use turnstile_policy::listing::Listing;
use turnstile_policy::model::{
    Channel, Event, EventKind, Group, GroupAction, GroupKind, LicenseEvent, LicenseType, OrgState, Selector, Settings,
    SyncEvent, User,
};

const T: i64 = 1_795_341_600; // 2026-11-22T10:00:00Z

/// Half the users hold Standard, none free, with last syncs over a year:
/// auto-free finds an inactive holder for every newcomer.
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

/// A value in the host's types (the same WIT, the same serde shape).
fn host<A: serde::Serialize, B: serde::de::DeserializeOwned>(value: &A) -> B {
    postcard::from_bytes(&postcard::to_allocvec(value).unwrap()).unwrap()
}

fn sync(user: &str) -> Event {
    Event { at: T, kind: EventKind::Sync(SyncEvent { user: user.into(), channel: Channel::Mobile }) }
}

fn component() -> Evaluator {
    Evaluator::Component(Policy::embedded(&Options::default()).unwrap())
}

fn loaded(evaluator: &Evaluator, state: &OrgState) -> (Instance, OrgId) {
    let mut instance = evaluator.instance().unwrap();
    let org = instance.load(&host(state), "bench").unwrap();
    (instance, org)
}

fn decide(c: &mut Criterion) {
    let state = organisation(1_000);
    let (mut instance, org) = loaded(&component(), &state);
    let native = turnstile_policy::Org::load(state.clone()).unwrap();
    let assign = Event {
        at: T,
        kind: EventKind::Assign(LicenseEvent { user: "user-0000003".into(), license: LicenseType::Inspections }),
    };
    let mut group = c.benchmark_group("decide");
    for (name, event) in [
        ("sync, licence held (L4)", sync("user-0000000")),
        ("sync, auto-free an inactive holder (L7)", sync("user-0000001")),
        ("admin assign (L10)", assign),
    ] {
        let wit: turnstile::model::Event = host(&event);
        group.bench_with_input(BenchmarkId::new("component", name), &wit, |b, e| {
            b.iter(|| black_box(instance.decide(org, e).unwrap()))
        });
        group.bench_with_input(BenchmarkId::new("native", name), &event, |b, e| b.iter(|| black_box(native.decide(e))));
        // The rules alone, before the decision is spelled out for a host.
        group.bench_with_input(BenchmarkId::new("native rules only", name), &event, |b, e| {
            b.iter(|| black_box(native.judge(e)))
        });
    }
    group.finish();
}

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    let evaluator = component();
    for users in [1_000, 100_000] {
        let state = organisation(users);
        let wit: turnstile::model::OrgState = host(&state);
        group.throughput(Throughput::Elements(users as u64));
        let mut instance = evaluator.instance().unwrap();
        group.bench_with_input(BenchmarkId::new("component", users), &wit, |b, s| {
            b.iter(|| black_box(instance.load(s, "bench").unwrap()));
            // A fresh store now and then, so memory doesn't pile up.
            instance = evaluator.instance().unwrap();
        });
        group.bench_with_input(BenchmarkId::new("native", users), &state, |b, s| {
            b.iter(|| black_box(turnstile_policy::Org::load(s.clone()).unwrap()))
        });
    }
    group.finish();
}

/// Loading a licence listing's users, in columns (the what-if's way in).
fn load_population(c: &mut Criterion) {
    let mut group = c.benchmark_group("load population");
    group.sample_size(10);
    let users = 100_000;
    let (listing, _) = Listing::read(&listing(users), "bench.csv");
    let population = listing.population(0, users as u32);
    let wit: turnstile::model::Population = host(&population);
    let settings: turnstile::model::Settings = host(&Settings::default());
    group.throughput(Throughput::Elements(users as u64));
    let evaluator = component();
    group.bench_function(BenchmarkId::new("component", users), |b| {
        b.iter_batched(
            || evaluator.instance().unwrap(),
            |mut instance| {
                let loader = instance.loader(&settings).unwrap();
                instance.expect(loader, users as u32, wit.text.len() as u64).unwrap();
                instance.add_population(loader, &wit).unwrap();
                black_box(instance.finish_loader(loader).unwrap().is_ok())
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function(BenchmarkId::new("native", users), |b| {
        b.iter(|| {
            let mut loader = turnstile_policy::state::Loader::new(Settings::default());
            loader.reserve(users, population.text.len());
            loader.add_population(&population);
            black_box(loader.finish().is_ok())
        })
    });
    group.finish();
}

/// One sync per user in position order: the what-if batch, per user.
fn sync_batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("sync-users");
    group.sample_size(10);
    let users = 100_000;
    let state = organisation(users);
    group.throughput(Throughput::Elements(users as u64));
    let evaluator = component();
    group.bench_function(BenchmarkId::new("component", users), |b| {
        b.iter_batched(
            || loaded(&evaluator, &state),
            |(mut instance, org)| {
                let mut first = 0;
                while first < users as u32 {
                    black_box(instance.sync_users(org, T, turnstile::model::Channel::Mobile, first, 65_536).unwrap());
                    first += 65_536;
                }
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function(BenchmarkId::new("native", users), |b| {
        b.iter_batched(
            || turnstile_policy::Org::load(state.clone()).unwrap(),
            |mut org| black_box(org.sync_users(T, Channel::Mobile, 0, users as u32)),
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// A users listing of `n` rows, as gen_users writes them.
fn listing(n: usize) -> Vec<u8> {
    let mut out = String::from("\"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\",\"Last Sync\",\"Assigned At\",\"Temporary Since\",\"External\"\n");
    for i in 0..n {
        let cell = if i % 2 == 0 { "Assigned" } else { "" };
        out.push_str(&format!(
            "\"{i:08x}-0000-4000-8000-{i:012x}\",\"User {i}\",\"user{i}@example.com\",\"{cell}\",\"\",\"2026-08-01T09:00:00Z\",\"2025-01-01T00:00:00Z\",\"\",\"false\"\n"
        ));
    }
    out.into_bytes()
}

/// The listing reader (C1-C3, every row a user) against the csv crate merely
/// parsing the same bytes: the floor no reader can go under.
fn csv(c: &mut Criterion) {
    let mut group = c.benchmark_group("read listing");
    group.sample_size(10);
    for rows in [10_000, 100_000] {
        let bytes = listing(rows);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("turnstile listing", rows), &bytes, |b, bytes| {
            b.iter(|| black_box(Listing::read(bytes, "bench.csv")))
        });
        group.bench_with_input(BenchmarkId::new("csv crate parse only", rows), &bytes, |b, bytes| {
            b.iter(|| {
                let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(&bytes[..]);
                let mut record = csv::ByteRecord::new();
                let mut fields = 0;
                while reader.read_byte_record(&mut record).unwrap() {
                    fields += record.len();
                }
                black_box(fields)
            })
        });
    }
    group.finish();
}

/// `n` user groups of one shape: a chain (each the parent of the next), wide
/// (every one a child of the first) or a cycle (each the parent of the
/// next, the last of the first).
fn shaped_groups(shape: &str, n: usize) -> Vec<Group> {
    (0..n)
        .map(|i| Group {
            id: format!("g{i}"),
            kind: GroupKind::User,
            name: None,
            parent: match shape {
                "chain" => (i > 0).then(|| format!("g{}", i - 1)),
                "wide" => (i > 0).then(|| "g0".to_string()),
                _ => Some(format!("g{}", (i + n - 1) % n)),
            },
            permissions: Vec::new(),
        })
        .collect()
}

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

/// Groups are linear to load, to read from a scenario (a cycle's every
/// problem placed in the file), and to delete (a group and all its
/// subgroups: one decision, one effect per group, applied at once).
fn groups(c: &mut Criterion) {
    let mut group = c.benchmark_group("load groups");
    group.sample_size(10);
    for shape in ["chain", "wide", "cycle"] {
        for n in SIZES {
            let state = OrgState { settings: Settings::default(), users: Vec::new(), groups: shaped_groups(shape, n), sessions: Vec::new() };
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::new(shape, n), &state, |b, s| {
                b.iter(|| black_box(turnstile_policy::Org::load(s.clone()).is_ok()))
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("read groups");
    group.sample_size(10);
    for shape in ["chain", "wide", "cycle"] {
        for n in SIZES {
            let state = OrgState { settings: Settings::default(), users: Vec::new(), groups: shaped_groups(shape, n), sessions: Vec::new() };
            let text = turnstile_policy::scenario::render_state(&state);
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::new(shape, n), &text, |b, t| {
                b.iter(|| black_box(turnstile_policy::scenario::parse(t, "bench.json").is_ok()))
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("delete group");
    group.sample_size(10);
    for shape in ["chain", "wide"] {
        for n in SIZES {
            let mut admin = User::new("admin".to_string());
            admin.main_admin = true;
            let state = OrgState { settings: Settings::default(), users: vec![admin], groups: shaped_groups(shape, n), sessions: Vec::new() };
            let org = turnstile_policy::Org::load(state).unwrap();
            let delete = Event {
                at: T,
                kind: EventKind::DeleteGroup(GroupAction { actor: "admin".into(), group: "g0".into() }),
            };
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::new(shape, n), &delete, |b, e| {
                b.iter_batched(|| org.clone(), |mut org| black_box(org.step(e).allow), criterion::BatchSize::LargeInput)
            });
        }
    }
    group.finish();
}

/// The other inputs whose size an attacker chooses: an organisation's
/// plans, one JSON object's keys, problems to place in the file, one CSV
/// row's fields. Linear each.
fn input_sizes(c: &mut Criterion) {
    let mut group = c.benchmark_group("read inputs");
    group.sample_size(10);
    for n in SIZES {
        group.throughput(Throughput::Elements(n as u64));
        let plans: Vec<String> = (0..n).map(|i| format!("{{\"name\":\"p{i}\",\"feature_sets\":[\"calls\"]}}")).collect();
        let text = format!("{{\"org\":{{\"plans\":[{}]}}}}", plans.join(","));
        group.bench_with_input(BenchmarkId::new("plans", n), &text, |b, t| {
            b.iter(|| black_box(turnstile_policy::scenario::parse(t, "bench.json").is_ok()))
        });
        let keys: Vec<String> = (0..n).map(|i| format!("\"k{i}\":0")).collect();
        let text = format!("{{{}}}", keys.join(","));
        group.bench_with_input(BenchmarkId::new("object keys", n), &text, |b, t| {
            b.iter(|| black_box(turnstile_policy::json::parse(t).is_ok()))
        });
        let users: Vec<&str> = (0..n).map(|_| "{\"id\":\"u\"}").collect();
        let text = format!("{{\"users\":[{}]}}", users.join(","));
        group.bench_with_input(BenchmarkId::new("duplicate users placed", n), &text, |b, t| {
            b.iter(|| black_box(turnstile_policy::scenario::parse(t, "bench.json").is_ok()))
        });
    }
    for fields in [10_000, 100_000, 1_000_000] {
        let mut bytes = b"\"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\"\n".to_vec();
        bytes.extend(std::iter::repeat_n(b',', fields - 1));
        bytes.push(b'\n');
        group.throughput(Throughput::Elements(fields as u64));
        group.bench_with_input(BenchmarkId::new("csv fields in one row", fields), &bytes, |b, bytes| {
            b.iter(|| black_box(Listing::read(bytes, "bench.csv")))
        });
    }
    group.finish();
}

criterion_group!(benches, decide, load, load_population, sync_batch, csv, groups, input_sizes);
criterion_main!(benches);
