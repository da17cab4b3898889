"""The README's Python example is this directory's example.py, and it prints what the README shows."""

import os
import subprocess
import sys
import unittest

from support import FORMATS_WASM, PYTHON_DIR, ROOT, SOURCE, WASM

EXAMPLE_OUTPUT = """\
ask  ana: L6
sync ana: allow=True code=ok rule=L6 license=standard message='sync allowed: standard licence' detail=None
    assign ana 2026-11-22T10:00:00Z
    touch ana 2026-11-22T10:00:00Z
sync ben: allow=False code=license_not_found rule=L8 license=None message='LICENSE: NOT FOUND' detail='no free standard licence'
{"event":1,"kind":"sync","user":"ben","allow":false,"code":"LICENSE_NOT_FOUND","message":"LICENSE: NOT FOUND","rule":"L8","detail":"no free standard licence","effects":[]}
ana holds standard: assigned
"""


class Readme(unittest.TestCase):
    def test_readme_shows_example_py_and_its_output(self):
        example = (PYTHON_DIR / "example.py").read_text(encoding="utf-8")
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        self.assertTrue(example in readme, "README.md must show bindings/python/example.py verbatim")
        self.assertTrue(f"```\n{EXAMPLE_OUTPUT}```" in readme, "README.md must show example.py's output")

    def test_example_py_runs_as_the_readme_says(self):
        # One Standard licence, auto-assignment on: ana gets it (L6), ben finds none (L8).
        env = dict(os.environ, PYTHONPATH=str(SOURCE), TURNSTILE_WASM=WASM, TURNSTILE_FORMATS_WASM=FORMATS_WASM)
        out = subprocess.run([sys.executable, str(PYTHON_DIR / "example.py")],
                             cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
        self.assertEqual(out, EXAMPLE_OUTPUT)


if __name__ == "__main__":
    unittest.main()
