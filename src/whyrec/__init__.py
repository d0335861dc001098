"""whyrec: explain recommendations with cited evidence, and refuse to say what the evidence does not support."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("whyrec")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
