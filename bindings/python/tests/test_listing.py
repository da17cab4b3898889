"""The formats component's `listing` (licence CSV files) from Python, with the policy component's
`engine`: a what-if on examples/users.csv, asked as `turnstile what-if` asks it, gives the CLI's
counts, changed users (with their rules) and after listing (`--out-users`) byte for byte; a
broken listing gives the CLI's located errors, and a bad `--at` its message.

The calls are those of `turnstile what-if` (and of the web page): the listing read a piece at a
time by the CLI's own reader, each page of users loaded into two organisations, every user synced
once on each side, the sides compared and the after side written, all by the components.
"""

import json
import tempfile
import unittest
from pathlib import Path

from support import FORMATS_WASM, ROOT, WASM, cli

from turnstile_policy import Channel, Policy, Severity, TurnstileError

PAGE = 1 << 16  # users per call, as the CLI
AT = "2026-11-22T10:00:00Z"
USERS = "examples/users.csv"
ORG = "examples/org.json"


class WhatIf(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = Policy(WASM, FORMATS_WASM)

    def read(self, data, source, piece=100):
        """The listing `data` read `piece` bytes at a time: (pages, diagnostics, lines)."""
        listing = self.policy.listing
        pages = []
        with listing.Reader(source) as reader:
            reader.expect_bytes(len(data))
            for offset in range(0, len(data), piece):
                reading = reader.feed(data[offset:offset + piece])
                page = reader.take_page(PAGE)
                while page is not None:
                    pages.append(page)
                    page = reader.take_page(PAGE)
                if not reading:
                    break
            diagnostics = reader.finish()
            page = reader.take_page(PAGE)
            while page is not None:
                pages.append(page)
                page = reader.take_page(PAGE)
            return pages, diagnostics, reader.lines()

    def what_if(self, sets):
        """`turnstile what-if --users USERS --org ORG --set ... --at AT` through the two components."""
        engine, scenario, listing = self.policy.engine, self.policy.scenario, self.policy.listing
        org_text = (ROOT / ORG).read_text(encoding="utf-8")
        settings = [scenario.parse_org(org_text, ORG, []), scenario.parse_org(org_text, ORG, sets)]
        at = listing.parse_instant(AT)
        pages, diagnostics, lines = self.read((ROOT / USERS).read_bytes(), USERS)
        self.assertEqual([d for d in diagnostics if d.severity is Severity.ERROR], [])
        self.assertEqual(sum(len(p.standard) for p in pages), 9)
        orgs = []
        try:
            for side in settings:
                loader = engine.Loader(side)
                for page in pages:
                    loader.add_population(page)
                orgs.append(engine.Loader.finish(loader))
            count = orgs[0].user_count()
            batches = [[org.sync_users(at, Channel.MOBILE, first, PAGE) for first in range(0, count, PAGE)]
                       for org in orgs]
            comparison = listing.compare(batches[0], batches[1])
            after = "".join(listing.write_listing(orgs[1].population(first, PAGE), first == 0)
                            for first in range(0, max(count, 1), PAGE))
            names = orgs[1].user_names([c.position for c in comparison.changed])
        finally:
            for org in orgs:
                org.close()
        return comparison, batches, names, lines, after

    def test_a_what_if_gives_the_clis_figures_changed_users_and_after_listing(self):
        for sets in (["auto_assign=true", "auto_free=true"], ["licenses.standard=4", "inactive_days=30", "auto_assign=true"], []):
            with self.subTest(sets=sets), tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "after.csv"
                status, stdout, stderr = cli("what-if", "--users", USERS, "--org", ORG, *[a for s in sets for a in ("--set", s)],
                                             "--at", AT, "--format", "json", "--out-users", str(out))
                self.assertEqual(status, 0, stderr.decode())
                *changed, summary = [json.loads(line) for line in stdout.decode().splitlines()]
                summary = summary["summary"]
                want_after = out.read_text(encoding="utf-8")

                comparison, batches, names, lines, after = self.what_if(sets)
                self.assertEqual([(c.outcome, c.before, c.after) for c in comparison.counts],
                                 [(k, summary["before"][k], summary["after"][k]) for k in summary["before"]])
                self.assertEqual(len(comparison.changed), summary["changed"])
                named = lambda o: o["license"] if o["allow"] and o["license"] else o["code"]  # noqa: E731

                def rule(side, position):
                    batch = batches[side][position // PAGE]
                    return batch.rules[batch.items[position % PAGE].rule]

                self.assertEqual(
                    [(n.id, n.name, c.before, rule(0, c.position), c.after, rule(1, c.position))
                     for c, n in zip(comparison.changed, names)],
                    [(u["id"], u["name"], named(u["before"]), u["before"]["rule"], named(u["after"]), u["after"]["rule"])
                     for u in changed])
                self.assertEqual(len(lines), 9)
                self.assertEqual(after, want_after)
                if sets:
                    self.assertTrue(changed, "the question changes someone's outcome")

    def test_a_broken_listing_gives_the_clis_located_errors(self):
        broken = (b'"Id","Full Name","Email","Standard","Inspections"\n"a","Ana","a@x.pl","Yes",""\n'
                  b'"b","Bo","b@x.pl","","Assigned"\n"a","Ana again","a2@x.pl","",""\n')
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "broken.csv").write_bytes(broken)
            done = cli("what-if", "--users", str(Path(tmp, "broken.csv")), "--at", AT)
        status, _, stderr = done
        self.assertEqual(status, 2)
        header, *want = stderr.decode().splitlines()
        self.assertEqual(header, f"turnstile: {Path(tmp, 'broken.csv')}: the users listing can't be used:")
        _, diagnostics, _ = self.read(broken, str(Path(tmp, "broken.csv")), piece=7)
        got = [self.policy.scenario.render_diagnostic(d) for d in diagnostics if d.severity is Severity.ERROR]
        self.assertTrue(got)
        self.assertEqual(got, want)

    def test_a_bad_instant_is_refused_as_the_cli_refuses_it(self):
        status, _, stderr = cli("what-if", "--users", USERS, "--at", "soon")
        self.assertEqual(status, 2)
        with self.assertRaises(TurnstileError) as caught:
            self.policy.listing.parse_instant("soon")
        self.assertEqual(f"turnstile: --at: {caught.exception.payload}\n".encode(), stderr)


if __name__ == "__main__":
    unittest.main()
