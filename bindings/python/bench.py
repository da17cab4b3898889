"""Cost of one decision through the component from Python (wasmtime-py).

The same measurements as the Rust host's `cargo bench -p turnstile --bench decisions`:
a pure `decide` on a fixed organisation of 1,000 users, repeated; the median of
several rounds. Each call includes converting the event to WIT values and the
decision back to Python objects.

    python bindings/python/bench.py [COMPONENT.wasm|""] [N]     (with the package installed; "": its component)

Only the policy component is loaded: deciding needs nothing of the formats component.
"""

import statistics
import sys
import time

from turnstile_policy import (Channel, Event, EventKind, LicenseEvent, LicenseType, OrgState, PolicyComponent,
                              Selector, SyncEvent, component_path)

T = 1_795_341_600  # 2026-11-22T10:00:00Z
DAY = 86_400


def organisation(policy, users):
    settings = policy.engine.default_settings()
    settings.licenses.standard = users // 2
    settings.auto_assign = True
    settings.auto_free = True
    people = []
    for i in range(users):
        u = policy.engine.new_user(f"user-{i:07}")
        if i % 2 == 0:
            u.standard = Selector.ASSIGNED
            u.last_sync = T - (i % 365) * DAY
        people.append(u)
    return OrgState(settings=settings, users=people, groups=[], sessions=[])


def per_call(rounds, calls, f):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            f()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def main():
    policy = PolicyComponent(component_path(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None))
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    state = organisation(policy, 1_000)
    org = policy.engine.Org.load(state)
    sync = lambda user: Event(at=T, kind=EventKind.Sync(SyncEvent(user=user, channel=Channel.MOBILE)))  # noqa: E731
    cases = [
        ("decide: sync, licence held (L4)", sync("user-0000000"), "L4"),
        ("decide: sync, auto-free an inactive holder (L7)", sync("user-0000001"), "L7"),
        ("decide: admin assign (L10)",
         Event(at=T, kind=EventKind.Assign(LicenseEvent(user="user-0000003", license=LicenseType.INSPECTIONS))),
         "L10"),
    ]
    print(f"wasmtime-py, median of 5 rounds of {n:,} calls; an organisation of 1,000 users")
    for label, event, rule in cases:
        assert org.decide(event).rule == rule, label
        t = per_call(5, n, lambda: org.decide(event))
        print(f"{label:<52} {t * 1e6:10.1f} µs")
    t = per_call(5, 1, lambda: policy.engine.Org.load(state).close())
    print(f"{'load an organisation of 1,000 users':<52} {t * 1e3:10.1f} ms")
    org.close()


if __name__ == "__main__":
    main()
