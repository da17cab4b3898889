"""Turnstile's policy engine from Python: the WebAssembly component, typed.

    from turnstile_policy import Policy
    policy = Policy()                     # the two components inside this package
    for line in policy.run(open("scenario.json").read(), "scenario.json"):
        print(line)                       # what `turnstile run scenario.json` prints

The package ships two components built from one crate: the policy component
(`types` and `engine`: it decides) and the formats component (`types`, `scenario`
and `listing`: it reads and writes scenario and licence CSV files). Both export the
same `types`, so a scenario the formats component reads is handed to the engine
as it is.

Every WIT type of their interfaces is a class here, generated once from the WIT
(`generate.py`; the WIT's doc comments are the docstrings): a record is
a dataclass with snake_case fields (`settings.auto_assign = True`; a misspelt field
is an AttributeError), an enum a `str` Enum (`Code.LICENSE_NOT_FOUND`, equal to
`"license_not_found"`), a variant one small class per case
(`EventKind.Sync(SyncEvent(user="ana", channel=Channel.MOBILE))`, with `.tag` and
`.value`), an option a value or None, an instant an int of seconds since the epoch.
Each interface is an attribute of `Policy` (`policy.engine.default_settings()`,
`policy.engine.Org.load(state)`, `policy.scenario.render_decision(i, event, decision)`,
`policy.listing.Reader(source)`).
A refusal raises `TurnstileError`: `ProblemError` (a state or effects refused, every
problem listed) or `DiagnosticError` (an input that can't be read, each problem
placed, as `turnstile run` says it). A value of the wrong type raises `TypeError`
naming its path.
"""

try:
    from ._generated import *  # noqa: F401,F403
    from ._generated import __all__ as _generated
except ModuleNotFoundError as e:  # a source checkout where generate.py hasn't run
    if e.name != f"{__name__}._generated":
        raise
    raise ImportError(f"{__name__}._generated is missing: it is generated from the WIT when the package is "
                      "built (pip install ./bindings/python); in a source checkout run "
                      "python bindings/python/generate.py") from None
from ._policy import PACKAGED, PACKAGED_FORMATS, Policy, component_path, formats_path, instant, rfc3339
from ._runtime import DiagnosticError, IncompatibleComponent, ProblemError, TurnstileError

__version__ = "0.3.0"

__all__ = [
    "Policy", "component_path", "formats_path", "instant", "rfc3339", "PACKAGED", "PACKAGED_FORMATS",
    "TurnstileError", "ProblemError", "DiagnosticError", "IncompatibleComponent",
    *_generated,
]
