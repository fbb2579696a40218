"""Built-in labs: small snapshots shipped with the package, one per field situation."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from ..errors import UsageError
from ..model import Snapshot, parse


def names() -> list[str]:
    """Names of the built-in labs, sorted."""
    files = resources.files(__name__).iterdir()
    return sorted(f.name[: -len(".yaml")] for f in files if f.name.endswith(".yaml"))


def text(name: str) -> str:
    if name not in names():
        raise UsageError(f"no built-in lab {name!r}; expected one of: {', '.join(names())}")
    return resources.files(__name__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def load(name: str) -> Snapshot:
    """Load a built-in lab by name (see :func:`names`)."""
    return parse(text(name), f"lab:{name}")
