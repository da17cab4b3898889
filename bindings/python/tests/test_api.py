"""The typed API: values are the generated classes, calls check what they are given, refusals
are exceptions that list every problem, values pass between the two components as they are, and
a component that isn't the WIT's (or is the other world's) is refused."""

import copy
import dataclasses
import unittest
from pathlib import Path

from support import FORMATS_WASM, ROOT, WASM, cli

import turnstile_policy as tp
from turnstile_policy import (Channel, Code, DiagnosticError, Effect, Event, EventKind, FormatsComponent,
                              IncompatibleComponent, LicenseEvent, LicenseType, OrgState, Policy, PolicyComponent,
                              ProblemError, Selector, SyncEvent, UserInstant, instant, rfc3339)

AT = instant("2026-11-22T10:00:00Z")


class Engine(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = Policy(WASM, FORMATS_WASM)
        cls.engine = cls.policy.engine

    def state(self, *users):
        settings = self.engine.default_settings()
        settings.licenses.standard = 1
        settings.auto_assign = True
        return OrgState(settings=settings, users=[self.engine.new_user(u) for u in users or ["ana"]],
                        groups=[], sessions=[])

    def sync(self, user):
        return Event(at=AT, kind=EventKind.Sync(SyncEvent(user=user, channel=Channel.MOBILE)))

    def test_values_are_the_generated_classes(self):
        settings = self.engine.default_settings()
        self.assertIsInstance(settings, tp.Settings)
        self.assertIsInstance(settings.licenses, tp.Licenses)
        self.assertIsInstance(settings.plans[0], tp.Plan)
        self.assertTrue(all(isinstance(f, tp.FeatureSet) for f in settings.plans[0].feature_sets))
        user = self.engine.new_user("ana")
        self.assertIs(user.standard, Selector.UNASSIGNED)
        self.assertIsNone(user.last_sync)
        info = self.engine.info()
        self.assertIsInstance(info, tp.PolicyInfo)
        self.assertEqual(info.version, tp.PACKAGE.split("@")[1])

    def test_enums_are_strings_and_variants_are_small_classes(self):
        self.assertEqual(Code.LICENSE_NOT_FOUND, "license_not_found")
        self.assertEqual(f"{Code.LICENSE_NOT_FOUND}", "license_not_found")
        self.assertEqual(str(Selector.ASSIGNED), "assigned")
        kind = EventKind.Sync(SyncEvent(user="ana", channel=Channel.WEB))
        self.assertIsInstance(kind, EventKind)
        self.assertEqual((kind.tag, kind.value.user), ("sync", "ana"))
        self.assertEqual(EventKind.CloseSession("ana").tag, "close_session")
        self.assertEqual(kind, copy.deepcopy(kind))
        self.assertEqual(dataclasses.asdict(kind.value), {"user": "ana", "channel": Channel.WEB})

    def test_snake_case_fields_are_set_and_misspelt_ones_refused(self):
        settings = self.engine.default_settings()
        settings.auto_assign = True
        settings.licenses.standard = 7
        self.assertTrue(settings.auto_assign)
        for wrong in ("autoAssign", "auto-assign", "auto_asign"):
            with self.assertRaises(AttributeError, msg=wrong):
                setattr(settings, wrong, True)
        state = OrgState(settings=settings, users=[], groups=[], sessions=[])
        with self.engine.Org.load(state) as org:
            got = org.snapshot().settings
        self.assertTrue(got.auto_assign)
        self.assertEqual(got.licenses.standard, 7)
        self.assertEqual(got, settings)

    def test_decide_then_apply_is_step_and_snapshots_reload(self):
        with self.engine.Org.load(self.state()) as a, self.engine.Org.load(self.state()) as b:
            decision = a.decide(self.sync("ana"))
            self.assertEqual(a.snapshot(), b.snapshot(), "decide changes nothing")
            self.assertIs(decision.code, Code.OK)
            a.apply(decision.effects)
            self.assertEqual(b.step(self.sync("ana")), decision)
            self.assertEqual(a.snapshot(), b.snapshot())
            self.assertIs(a.snapshot().users[0].standard, Selector.ASSIGNED)
            self.assertEqual([e.tag for e in decision.effects], ["assign", "touch"])
            self.assertEqual(rfc3339(decision.effects[0].value.at), "2026-11-22T10:00:00Z")
            with self.engine.Org.load(a.snapshot()) as c:
                self.assertEqual(c.snapshot(), a.snapshot())

    def test_bad_effects_are_refused_whole(self):
        with self.engine.Org.load(self.state()) as org:
            before = org.snapshot()
            touch = lambda user: Effect.Touch(UserInstant(user=user, at=1))  # noqa: E731
            with self.assertRaises(ProblemError) as caught:
                org.apply([touch("ana"), touch("ghost")])
            self.assertEqual(caught.exception.problems[0].field, "effects[1]")
            self.assertTrue(str(caught.exception).startswith("effects[1]: "), str(caught.exception))
            self.assertEqual(org.snapshot(), before, "all or nothing")

    def test_a_refused_state_lists_every_problem(self):
        state = self.state("ana", "ana", "ben")
        for user in state.users:
            user.standard = Selector.ASSIGNED
        with self.assertRaises(ProblemError) as caught:
            self.engine.Org.load(state)
        problems = caught.exception.problems
        self.assertGreaterEqual(len(problems), 2)
        self.assertIsInstance(problems[0], tp.Problem)
        self.assertEqual(str(caught.exception).splitlines(), [f"{p.field}: {p.message}" for p in problems])
        self.assertIn(LicenseType.STANDARD, [p.over_assigned for p in problems])
        self.assertIsInstance(caught.exception, tp.TurnstileError)

    def test_the_loader_builds_the_same_organisation(self):
        state = self.state("ana", "ben")
        loader = self.engine.Loader(state.settings)
        loader.add_users(state.users[:1])
        loader.add_users(state.users[1:])
        with self.engine.Loader.finish(loader) as built, self.engine.Org.load(state) as loaded:
            self.assertEqual(built.snapshot(), loaded.snapshot())
            self.assertEqual(built.user_count(), 2)
            self.assertEqual([n.id for n in built.user_names([1, 0])], ["ben", "ana"])
        with self.assertRaises(ValueError):
            loader.add_users([])  # handed over to `finish`

    def test_lists_of_records_and_enums(self):
        with self.engine.Org.load(self.state("ana", "ben")) as org:
            org.step(self.sync("ana"))
            usage = org.usage(AT)
            self.assertIsInstance(usage, tp.Usage)
            self.assertEqual([(u.license, u.assigned) for u in usage.licenses],
                             [(LicenseType.STANDARD, 1), (LicenseType.INSPECTIONS, 0)])
            self.assertEqual([n.id for n in org.user_names([1, 0])], ["ben", "ana"])

    def test_second_edition_events_and_the_sessions_query(self):
        with self.engine.Org.load(self.state("ana", "ben")) as org:
            org.step(self.sync("ana"))
            # L13: the Mobile Users pane's delete frees the licence and starts the record over.
            d = org.step(Event(at=AT, kind=EventKind.RemoveMobileUser("ana")))
            self.assertEqual((d.allow, d.rule), (True, "L13"))
            self.assertEqual([e.tag for e in d.effects], ["unassign", "reset_mobile_user"])
            # O1: fewer seats than active accounts is refused, every problem listed.
            change = tp.SettingsChange(trial=None, standard_licenses=None, inspections_licenses=None,
                                       external_license=None, inspections_enabled=None, auto_assign=None,
                                       auto_free=None, temporary_days=0, inactive_days=None, max_active_users=1,
                                       idle_logout_minutes=None, home_country_code=None, billing_day=None)
            d = org.decide(Event(at=AT, kind=EventKind.SetSettings(change)))
            self.assertEqual((d.allow, d.code, len(d.violations)), (False, Code.INVALID_SETTINGS, 2))
            org.step(Event(at=AT, kind=EventKind.Login("ben")))
            [session] = org.sessions(AT + 31 * 60)
            self.assertIsInstance(session, tp.SessionStatus)
            self.assertEqual((session.user, session.idle_seconds, session.live), ("ben", 31 * 60, False))
            self.assertEqual(self.engine.info().rules, "2")

    def test_wrong_values_name_their_path(self):
        with self.engine.Org.load(self.state()) as org:
            cases = [
                ({"at": AT, "kind": {"tag": "sync"}}, "org.decide: event: expected Event, got dict"),
                (Event(at="now", kind=None), "org.decide: event.at: expected s64"),
                (Event(at=AT, kind=SyncEvent(user="ana", channel=Channel.MOBILE)),
                 "org.decide: event.kind: expected EventKind (one of EventKind.Sync, "),
                (Event(at=AT, kind=EventKind.Sync(SyncEvent(user=1, channel=Channel.MOBILE))),
                 "org.decide: event.kind.value.user: expected a str, got int"),
                (Event(at=AT, kind=EventKind.Sync(SyncEvent(user="ana", channel="bike"))),
                 "org.decide: event.kind.value.channel: expected Channel (one of Channel.MOBILE, Channel.WEB), got 'bike'"),
            ]
            for event, message in cases:
                with self.assertRaises(TypeError, msg=message) as caught:
                    org.decide(event)
                self.assertTrue(str(caught.exception).startswith(message), str(caught.exception))
            # An enum's value may be given as its string.
            self.assertEqual(org.decide(Event(at=AT, kind=EventKind.Sync(SyncEvent(user="ana", channel="web")))).rule,
                             "L6")
            with self.assertRaises(TypeError):
                org.decide()

    def test_a_closed_org_says_so(self):
        org = self.engine.Org.load(self.state())
        org.close()
        org.close()
        with self.assertRaisesRegex(ValueError, "this Org is closed"):
            org.snapshot()

    def test_parse_gives_typed_scenarios(self):
        scenario = self.policy.scenario.parse(
            '{"users": [{"id": "u"}], "events": [{"at": "2026-11-22T10:00:00Z", "kind": "sync", "user": "u"}]}', "s")
        self.assertIsInstance(scenario, tp.Scenario)
        self.assertEqual(scenario.state.settings, self.engine.default_settings())
        self.assertEqual(scenario.events, [Event(at=AT, kind=EventKind.Sync(SyncEvent(user="u", channel=Channel.MOBILE)))])
        # Read by the formats component, loaded and decided by the policy component, as they are.
        with self.engine.Org.load(scenario.state) as org:
            self.assertEqual(org.snapshot().users, [self.engine.new_user("u")])
            self.assertEqual(org.decide(scenario.events[0]).rule, "L9")  # no licence bought: the temporary one
        with self.assertRaises(DiagnosticError) as caught:
            self.policy.scenario.parse_org('{"trail": true}', "org.json", [])
        self.assertEqual(caught.exception.lines, [self.policy.scenario.render_diagnostic(caught.exception.diagnostics[0])])
        self.assertTrue(caught.exception.lines[0].startswith("org.json:1:2: "), caught.exception.lines)

    def test_instants(self):
        self.assertEqual(instant("1970-01-01T00:00:00Z"), 0)
        self.assertEqual(instant("2026-11-22T11:00:00+01:00"), AT)
        self.assertEqual(rfc3339(-1), "1969-12-31T23:59:59Z")
        for bad in ["2026-11-31T10:00:00Z", "2026-11-22T10:00:00.5Z", "2026-11-22T10:00:00", "soon"]:
            with self.assertRaises(ValueError, msg=bad):
                instant(bad)


class WhichComponent(unittest.TestCase):
    def test_a_path_then_the_environment_then_the_package(self):
        from unittest import mock
        from turnstile_policy import _policy
        cases = [(tp.component_path, "TURNSTILE_WASM", "PACKAGED", WASM, "policy"),
                 (tp.formats_path, "TURNSTILE_FORMATS_WASM", "PACKAGED_FORMATS", FORMATS_WASM, "formats")]
        for find, env, packaged, wasm, what in cases:
            with mock.patch.dict("os.environ", {env: "env.wasm"}, clear=True):
                self.assertEqual(find("given.wasm"), "given.wasm")
                self.assertEqual(find(), "env.wasm")
            with mock.patch.dict("os.environ", {}, clear=True):
                with mock.patch.object(_policy, packaged, getattr(_policy, packaged).with_name("no-such.wasm")):
                    with self.assertRaisesRegex(FileNotFoundError, rf"no {what} component: .*pip install \./bindings/python"):
                        find()
                with mock.patch.object(_policy, packaged, Path(wasm)):
                    self.assertEqual(find(), wasm)
        # Each variable names its own component only.
        with mock.patch.dict("os.environ", {"TURNSTILE_WASM": "env.wasm"}, clear=True):
            with mock.patch.object(_policy, "PACKAGED_FORMATS", Path(FORMATS_WASM)):
                self.assertEqual(tp.formats_path(), FORMATS_WASM)

    def test_components_already_loaded_are_used_as_they_are(self):
        policy_component, formats_component = PolicyComponent(WASM), FormatsComponent(FORMATS_WASM)
        policy = Policy(policy_component, formats_component)
        self.assertIs(policy.policy_component, policy_component)
        self.assertIs(policy.formats_component, formats_component)
        self.assertIs(policy.engine, policy_component.engine)
        self.assertIs(policy.scenario, formats_component.scenario)
        self.assertIs(policy.listing, formats_component.listing)
        self.assertEqual(policy.run(ROOT.joinpath("examples", "licensing.json").read_text(encoding="utf-8"),
                                    "examples/licensing.json"),
                         cli("run", "examples/licensing.json")[1].decode().splitlines())


class Incompatible(unittest.TestCase):
    """A component whose types aren't the WIT's the bindings came from, or the other world's, is refused on
    load, naming what differs."""

    def schema_with(self, component, change):
        schema = copy.deepcopy({k: dict(v) for k, v in component.SCHEMA.items()})
        change(schema)
        return type(f"Other{component.__name__}", (component,), {"SCHEMA": schema})

    def test_a_record_with_other_fields(self):
        def change(schema):
            kind, cls, fields = schema["types"]["types.licenses"]
            schema["types"]["types.licenses"] = (kind, cls, fields + (("seats", "seats", "u32"),))
        with self.assertRaisesRegex(IncompatibleComponent, r"types\.licenses: the component's fields are"):
            self.schema_with(PolicyComponent, change)(WASM)
        # The formats component returns the same record (a scenario's settings): checked there too.
        with self.assertRaisesRegex(IncompatibleComponent, r"types\.licenses: the component's fields are"):
            self.schema_with(FormatsComponent, change)(FORMATS_WASM)

    def test_a_missing_function(self):
        for component, wasm, interface in [(PolicyComponent, WASM, "turnstile:policy/engine@0.3.0"),
                                           (FormatsComponent, FORMATS_WASM, "turnstile:policy/listing@0.3.0")]:
            def change(schema):
                schema["functions"][interface] = dict(schema["functions"][interface], explode=((), None))
            with self.assertRaisesRegex(IncompatibleComponent, rf"{interface}#explode: the component doesn't export it"):
                self.schema_with(component, change)(wasm)

    def test_the_other_worlds_component(self):
        with self.assertRaises(IncompatibleComponent) as caught:
            PolicyComponent(FORMATS_WASM)
        self.assertIn(f"{FORMATS_WASM}: turnstile:policy/engine@0.3.0: the component doesn't export it (a `policy` "
                      "component exports turnstile:policy/types@0.3.0, turnstile:policy/engine@0.3.0)",
                      str(caught.exception))
        with self.assertRaisesRegex(IncompatibleComponent, r"turnstile:policy/scenario@0\.3\.0: the component doesn't export it"):
            Policy(WASM, WASM)
        with self.assertRaisesRegex(IncompatibleComponent, r"turnstile:policy/engine@0\.3\.0: the component doesn't export it"):
            Policy(FORMATS_WASM, FORMATS_WASM)


if __name__ == "__main__":
    unittest.main()
