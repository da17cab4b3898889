"""Turnstile from Python: build an organisation, ask for decisions, keep the state.

Run from the repository root after `./scripts/test` (or `cargo build --release &&
./target/release/turnstile component --out target/turnstile.wasm`):

    PYTHONPATH=bindings/python python bindings/python/example.py target/turnstile.wasm
"""

import sys

from turnstile import Policy, format_instant, parse_instant

policy = Policy(sys.argv[1] if len(sys.argv) > 1 else "target/turnstile.wasm")

# One Standard licence, given out automatically; defaults come from the component.
settings = policy.default_settings()
settings["licenses"]["standard"] = 1
settings["auto_assign"] = True
state = {"settings": settings, "users": [policy.new_user("ana"), policy.new_user("ben")],
         "groups": [], "sessions": []}


def sync(user, at):
    return {"at": parse_instant(at), "kind": {"tag": "sync", "val": {"user": user, "channel": "mobile"}}}


with policy.load(state) as org:
    # decide() only asks; step() decides and applies the decision's effects.
    print("ask  ana:", org.decide(sync("ana", "2026-11-22T10:00:00Z"))["rule"])
    for user in ["ana", "ben"]:
        d = org.step(sync(user, "2026-11-22T10:00:00Z"))
        print(f"sync {user}: allow={d['allow']} code={d['code']} rule={d['rule']} "
              f"license={d['license']} message={d['message']!r} detail={d['detail']!r}")
        for effect in d["effects"]:  # variants are {"tag": ..., "val": ...}; instants are ints
            print("   ", effect["tag"], effect["val"]["user"], format_instant(effect["val"]["at"]))
    saved = org.snapshot()  # persist this, load it later
    print("ana holds standard:", saved["users"][0]["standard"])
