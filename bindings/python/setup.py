"""The build steps pyproject.toml can't say: the typed API and the two components, into the package.

- src/turnstile_policy/_generated.py is written by generate.py from the repository's wit/ (when
  there is no wit/ to read, as in an sdist, the source package's copy is kept).
- If src/turnstile_policy/turnstile.wasm (the policy component) or turnstile-formats.wasm (the
  formats component) is not in the source package (a clone; an sdist has them), it is built from
  this repository with

      cargo run --release --locked -p turnstile -- component --out <package dir>/turnstile.wasm
      cargo run --release --locked -p turnstile -- component --formats --out <package dir>/turnstile-formats.wasm

<package dir> is the package being built (the source package for an editable install). The second
command reuses the first one's build: the CLI embeds both components.
"""

import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, NoReturn

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SOURCE = HERE / "src" / "turnstile_policy"
WIT = ROOT / "wit"
# Each component the package carries: its file name, what it is, and the `turnstile component` flags.
COMPONENTS = [("turnstile.wasm", "policy", []), ("turnstile-formats.wasm", "formats", ["--formats"])]


def fail(message: str) -> NoReturn:
    raise SystemExit(f"turnstile-policy: {message}")


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        editable = getattr(self, "editable_mode", False)
        package = SOURCE if editable else Path(self.build_lib).resolve() / "turnstile_policy"
        package.mkdir(parents=True, exist_ok=True)
        self.generate(package / "_generated.py")
        for name, what, flags in COMPONENTS:
            if not (SOURCE / name).exists():  # else copied with the package data
                self.component(package / name, what, flags)

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

    def component(self, out: Path, what: str, flags: List[str]) -> None:
        packaged = SOURCE / out.name
        write = " ".join(["turnstile component", *flags, f"--out {packaged}"])
        if not (ROOT / "Cargo.toml").exists() or not (ROOT / "host").is_dir():
            fail(f"{packaged.name} is not in the package and {ROOT} is not the Turnstile repository to build it "
                 f"from: build from a clone (pip install ./bindings/python), or put the {what} component there "
                 f"(`{write}`)")
        cargo = shutil.which("cargo")
        if cargo is None:
            fail(f"cargo was not found on PATH. Building this package compiles the {what} component from the "
                 f"repository with `cargo run --release -p turnstile -- component {' '.join(flags + ['--out', str(out)])}`: "
                 "install Rust (https://rustup.rs, then `rustup target add wasm32-unknown-unknown`), or put the "
                 f"component there (`{write}`)")
        command = [cargo, "run", "--release", "--locked", "-p", "turnstile", "--", "component", *flags, "--out", str(out)]
        print(f"turnstile-policy: building the {what} component: {' '.join(command[1:])}", flush=True)
        if subprocess.run(command, cwd=ROOT).returncode != 0:
            fail(f"`{' '.join(command[1:])}` failed (see above)")


setup(cmdclass={"build_py": BuildPy})
