"""whyrec: explain recommendations with cited evidence, and refuse to say what the evidence does not support."""

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("whyrec")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__", "check"]


def __getattr__(name: str) -> Any:
    """`whyrec.check(reason, evidence)`, imported on first use so that `import whyrec` stays light."""
    if name == "check":
        from whyrec.checker.audit import check

        return check
    raise AttributeError(f"module 'whyrec' has no attribute {name!r}")
