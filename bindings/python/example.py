"""Turnstile from Python: build an organisation, ask for decisions, keep the state.

After `pip install ./bindings/python` (the package carries both components, policy and formats):

    python bindings/python/example.py
"""

from turnstile_policy import Channel, Event, EventKind, OrgState, Policy, SyncEvent, instant, rfc3339

policy = Policy()  # the components inside the package; Policy("policy.wasm", "formats.wasm") loads others
engine = policy.engine

# One Standard licence, given out automatically; defaults come from the component.
settings = engine.default_settings()
settings.licenses.standard = 1
settings.auto_assign = True
state = OrgState(settings=settings, users=[engine.new_user("ana"), engine.new_user("ben")], groups=[], sessions=[])


def sync(user, at):
    return Event(at=instant(at), kind=EventKind.Sync(SyncEvent(user=user, channel=Channel.MOBILE)))


with engine.Org.load(state) as org:  # a refused state raises ProblemError, listing every problem
    # decide() only asks; step() decides and applies the decision's effects.
    print("ask  ana:", org.decide(sync("ana", "2026-11-22T10:00:00Z")).rule)
    for user in ["ana", "ben"]:
        event = sync(user, "2026-11-22T10:00:00Z")
        d = org.step(event)
        print(f"sync {user}: allow={d.allow} code={d.code} rule={d.rule} "
              f"license={d.license} message={d.message!r} detail={d.detail!r}")
        for effect in d.effects:  # a variant's case has .tag and .value; instants are int seconds
            print("   ", effect.tag, effect.value.user, rfc3339(effect.value.at))
    # The line `turnstile run` would print for this decision, as event number 1:
    print(policy.scenario.render_decision(1, event, d))
    saved = org.snapshot()  # persist this, load it later
    print("ana holds standard:", saved.users[0].standard)
