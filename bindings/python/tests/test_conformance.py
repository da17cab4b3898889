"""Every conformance vector replayed through the component from Python (wasmtime-py).

Each tests/conformance/NAME.json is read by the Python scenario reader, loaded
with `org.load` and stepped event by event; every decision line must equal the
line in NAME.expected.jsonl (written by the Rust host) as data, field by field:
allow, code, rule, message, the kind-specific fields and the effects in order.
A failure names the vector, the event and the first differing field.

Run: TURNSTILE_WASM=target/turnstile.wasm python -m unittest discover -s bindings/python/tests
"""

import json
import os
import subprocess
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE.parent))

from turnstile import EffectError, Policy, ScenarioError, StateError, format_instant, parse_instant, read, run  # noqa: E402

WASM = os.environ.get("TURNSTILE_WASM") or str(ROOT / "target" / "turnstile.wasm")
VECTORS = ROOT / "tests" / "conformance"

_MISSING = object()


def first_difference(path, got, want):
    """The first difference between two JSON values as `path: got X, expected Y`, or None.

    Objects: the expected keys in order, then keys only `got` has. Lists: the
    length, then each element in order.
    """
    if isinstance(want, dict) and isinstance(got, dict):
        for key in [*want, *(k for k in got if k not in want)]:
            a, b = got.get(key, _MISSING), want.get(key, _MISSING)
            if a is _MISSING or b is _MISSING:
                show = lambda v: "nothing" if v is _MISSING else json.dumps(v)  # noqa: E731
                return f"{path}.{key}: got {show(a)}, expected {show(b)}"
            diff = first_difference(f"{path}.{key}", a, b)
            if diff:
                return diff
        return None
    if isinstance(want, list) and isinstance(got, list):
        for i, (a, b) in enumerate(zip(got, want)):
            diff = first_difference(f"{path}[{i}]", a, b)
            if diff:
                return diff
        if len(got) != len(want):
            return f"{path}: got {len(got)} items, expected {len(want)}"
        return None
    # JSON equality: true is not 1, and 1 is not "1".
    if type(got) is not type(want) or got != want:
        return f"{path or '.'}: got {json.dumps(got)}, expected {json.dumps(want)}"
    return None


def vectors():
    return sorted(p for p in VECTORS.glob("*.json"))


def expected_lines(vector):
    path = vector.with_name(vector.name[: -len(".json")] + ".expected.jsonl")
    if not path.exists():
        raise FileNotFoundError(f"no {path.name} beside it")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def replay(policy, vector):
    """The first difference between the Python host's lines and the expected ones, or None."""
    got = run(policy, read(policy, vector.read_text(encoding="utf-8")))
    want = expected_lines(vector)
    for i, (g, w) in enumerate(zip(got, want)):
        diff = first_difference("", g, w)
        if diff:
            return f"event {i}: {diff}"
    if len(got) != len(want):
        return f"{len(got)} decisions, expected {len(want)}"
    return None


class Conformance(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = Policy(WASM)

    def test_every_vector_gives_the_rust_hosts_decisions(self):
        found = vectors()
        self.assertTrue(found, f"no vectors in {VECTORS}")
        failures = []
        for vector in found:
            try:
                diff = replay(self.policy, vector)
            except Exception as e:  # a reader or engine error is a failure of this vector
                diff = f"{type(e).__name__}: {e}"
            if diff:
                failures.append(f"{vector.name} {diff}")
        if failures:
            self.fail(f"{len(failures)} of {len(found)} vectors differ:\n" + "\n".join(failures))


class Comparison(unittest.TestCase):
    """The comparison itself is strict and says where."""

    line = {"event": 0, "kind": "sync", "allow": True, "code": "OK", "rule": "L4",
            "effects": [{"kind": "touch", "user": "u", "at": "2026-11-22T10:00:00Z"}]}

    def test_equal_lines_have_no_difference(self):
        self.assertIsNone(first_difference("", json.loads(json.dumps(self.line)), self.line))

    def test_names_the_first_differing_field(self):
        got = json.loads(json.dumps(self.line))
        got["effects"][0]["at"] = "2026-11-22T10:00:01Z"
        got["rule"] = "L5"
        self.assertEqual(first_difference("", got, self.line), '.rule: got "L5", expected "L4"')
        got["rule"] = "L4"
        self.assertEqual(first_difference("", got, self.line),
                         '.effects[0].at: got "2026-11-22T10:00:01Z", expected "2026-11-22T10:00:00Z"')

    def test_missing_extra_and_reordered(self):
        got = dict(self.line, detail="why")
        self.assertEqual(first_difference("", got, self.line), '.detail: got "why", expected nothing')
        got = {k: v for k, v in self.line.items() if k != "code"}
        self.assertEqual(first_difference("", got, self.line), ".code: got nothing, expected \"OK\"")
        got = dict(self.line, effects=[*self.line["effects"], {"kind": "touch"}])
        self.assertEqual(first_difference("", got, self.line), ".effects: got 2 items, expected 1")
        self.assertEqual(first_difference("", dict(self.line, allow=1), self.line), ".allow: got 1, expected true")


class Reader(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = Policy(WASM)

    def test_instants_round_trip_and_convert_offsets(self):
        self.assertEqual(parse_instant("1970-01-01T00:00:00Z"), 0)
        self.assertEqual(parse_instant("2026-11-22T11:00:00+01:00"), parse_instant("2026-11-22T10:00:00Z"))
        self.assertEqual(format_instant(parse_instant("2024-02-29T23:59:59Z")), "2024-02-29T23:59:59Z")
        self.assertEqual(format_instant(-1), "1969-12-31T23:59:59Z")
        for bad in ["2026-11-31T10:00:00Z", "2026-11-22T10:00:00.5Z", "2026-11-22T10:00:00", "2026-11-22"]:
            with self.assertRaises(ValueError, msg=bad):
                parse_instant(bad)

    def test_defaults_come_from_the_component(self):
        s = read(self.policy, '{"users": [{"id": "u"}], "events": [{"at": "2026-11-22T10:00:00Z", "kind": "sync", "user": "u"}]}')
        self.assertEqual(s.state["settings"], self.policy.default_settings())
        self.assertEqual(s.state["users"], [self.policy.new_user("u")])
        self.assertEqual(s.events[0]["kind"], {"tag": "sync", "val": {"user": "u", "channel": "mobile"}})

    def test_bad_scenarios_name_the_place(self):
        cases = {
            '{"org": {"trail": true}}': "org.trail: unknown field",
            '{"users": [{"name": "x"}]}': "users[0].id: missing field",
            '{"events": [{"at": "2026-11-22T10:00:00Z", "kind": "fly"}]}': "events[0].kind: unknown event kind `fly`",
            '{"events": [{"at": "2026-11-31T10:00:00Z", "kind": "set_plan", "plan": "basic"}]}': "events[0].at: `2026-11-31",
            '{"events": [{"at": "2026-11-22T10:00:00Z", "kind": "login", "user": "ghost"}]}': "events[0].user: unknown user `ghost`",
            '{"org": {"temporary_days": -1}}': "org.temporary_days: expected an integer",
        }
        for text, message in cases.items():
            with self.assertRaises(ScenarioError, msg=text) as caught:
                read(self.policy, text)
            self.assertTrue(str(caught.exception).startswith(message), f"{text}: {caught.exception}")

    def test_own_plans_replace_defaults_and_duplicates_are_refused_in_org_terms(self):
        s = read(self.policy, '{"org": {"plans": [{"name": "basic", "feature_sets": ["calls"]}]}}')
        self.assertEqual([p["name"] for p in s.state["settings"]["plans"]], ["basic", "reach", "record"])
        self.assertEqual(s.state["settings"]["plans"][0]["feature_sets"], ["calls"])
        s = read(self.policy, '{"org": {"plans": [{"name": "gold"}, {"name": "gold"}]}}')
        with self.assertRaises(ScenarioError) as caught:
            run(self.policy, s)
        self.assertIn("inconsistent state:\n  org.plans[4].name:", str(caught.exception))


class Engine(unittest.TestCase):
    """decide / apply / step / snapshot through the Python wrapper."""

    @classmethod
    def setUpClass(cls):
        cls.policy = Policy(WASM)

    def state(self):
        settings = self.policy.default_settings()
        settings["licenses"]["standard"] = 1
        settings["auto_assign"] = True
        return {"settings": settings, "users": [self.policy.new_user("ana")], "groups": [], "sessions": []}

    sync = {"at": parse_instant("2026-11-22T10:00:00Z"), "kind": {"tag": "sync", "val": {"user": "ana", "channel": "mobile"}}}

    def test_decide_then_apply_is_step_and_snapshot_reloads(self):
        with self.policy.load(self.state()) as a, self.policy.load(self.state()) as b:
            decision = a.decide(self.sync)
            self.assertEqual(a.snapshot(), b.snapshot(), "decide changes nothing")
            a.apply(decision["effects"])
            self.assertEqual(b.step(self.sync), decision)
            self.assertEqual(a.snapshot(), b.snapshot())
            self.assertEqual(a.snapshot()["users"][0]["standard"], "assigned")
            with self.policy.load(a.snapshot()) as c:
                self.assertEqual(c.snapshot(), a.snapshot())

    def test_bad_effects_and_states_are_refused_whole(self):
        with self.policy.load(self.state()) as org:
            before = org.snapshot()
            touch = {"tag": "touch", "val": {"user": "ana", "at": 1}}
            ghost = {"tag": "touch", "val": {"user": "ghost", "at": 1}}
            with self.assertRaises(EffectError) as caught:
                org.apply([touch, ghost])
            self.assertEqual(caught.exception.problem["field"], "effects[1]")
            self.assertEqual(org.snapshot(), before, "all or nothing")
        state = self.state()
        state["users"].append(self.policy.new_user("ana"))
        with self.assertRaises(StateError) as caught:
            self.policy.load(state)
        self.assertTrue(caught.exception.problems)


EXAMPLE_OUTPUT = """\
ask  ana: L6
sync ana: allow=True code=ok rule=L6 license=standard message='sync allowed: standard licence' detail=None
    assign ana 2026-11-22T10:00:00Z
    touch ana 2026-11-22T10:00:00Z
sync ben: allow=False code=license_not_found rule=L8 license=None message='LICENSE: NOT FOUND' detail='no free standard licence'
ana holds standard: assigned
"""


class Readme(unittest.TestCase):
    """The README's Python example is this directory's example.py, and it runs."""

    def test_readme_shows_example_py_and_its_output(self):
        example = (HERE.parent / "example.py").read_text(encoding="utf-8")
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        self.assertTrue(example in readme, "README.md must show bindings/python/example.py verbatim")
        self.assertTrue(f"```\n{EXAMPLE_OUTPUT}```" in readme, "README.md must show example.py's output")

    def test_example_py_runs_as_the_readme_says(self):
        # One Standard licence, auto-assignment on: ana gets it (L6), ben finds none (L8).
        env = dict(os.environ, PYTHONPATH=str(HERE.parent))
        out = subprocess.run([sys.executable, str(HERE.parent / "example.py"), WASM],
                             cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
        self.assertEqual(out, EXAMPLE_OUTPUT)


if __name__ == "__main__":
    unittest.main()
