"""The build steps pyproject.toml can't say: the typed API and the policy component, into the package.

- src/turnstile_policy/_generated.py is written by generate.py from the repository's wit/ (when
  there is no wit/ to read, as in an sdist, the source package's copy is kept).
- If src/turnstile_policy/turnstile.wasm is not in the source package (a clone; an sdist has it),
  the component is built from this repository with

      cargo run --release --locked -p turnstile -- component --out <package dir>/turnstile.wasm

<package dir> is the package being built (the source package for an editable install).
"""

import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SOURCE = HERE / "src" / "turnstile_policy"
PACKAGED = SOURCE / "turnstile.wasm"
WIT = ROOT / "wit"


def fail(message: str) -> NoReturn:
    raise SystemExit(f"turnstile-policy: {message}")


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        editable = getattr(self, "editable_mode", False)
        package = SOURCE if editable else Path(self.build_lib).resolve() / "turnstile_policy"
        package.mkdir(parents=True, exist_ok=True)
        self.generate(package / "_generated.py")
        if not PACKAGED.exists():  # else copied with the package data
            self.component(package / "turnstile.wasm")

    def generate(self, out: Path) -> None:
        if not WIT.is_dir():
            if not (SOURCE / "_generated.py").exists():
                fail(f"no {WIT} to generate the typed API from: build from a clone (pip install ./bindings/python)")
            return
        sys.path.insert(0, str(HERE))
        try:
            import generate
        finally:
            sys.path.remove(str(HERE))
        try:
            out.write_text(generate.generate(WIT), encoding="utf-8")
        except generate.WitError as e:
            fail(f"generating the typed API from {WIT}: {e}")

    def component(self, out: Path) -> None:
        if not (ROOT / "Cargo.toml").exists() or not (ROOT / "host").is_dir():
            fail(f"{PACKAGED.name} is not in the package and {ROOT} is not the Turnstile repository to build it "
                 f"from: build from a clone (pip install ./bindings/python), or put a component there "
                 f"(`turnstile component --out {PACKAGED}`)")
        cargo = shutil.which("cargo")
        if cargo is None:
            fail("cargo was not found on PATH. Building this package compiles the policy component from "
                 f"the repository with `cargo run --release -p turnstile -- component --out {out}`: install "
                 "Rust (https://rustup.rs, then `rustup target add wasm32-unknown-unknown`), or put a "
                 f"component (`turnstile component --out FILE`) at {PACKAGED}")
        command = [cargo, "run", "--release", "--locked", "-p", "turnstile", "--", "component", "--out", str(out)]
        print(f"turnstile-policy: building the policy component: {' '.join(command[1:])}", flush=True)
        if subprocess.run(command, cwd=ROOT).returncode != 0:
            fail(f"`{' '.join(command[1:])}` failed (see above)")


setup(cmdclass={"build_py": BuildPy})
