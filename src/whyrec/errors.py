"""One exception hierarchy. Every error a user can cause is a WhyrecError; the CLI prints it as one line, exit 2."""

from __future__ import annotations

from pathlib import Path


class WhyrecError(Exception):
    """Base class: the message says what was wrong and, where it can, what to do."""

    exit_code = 2


class CatalogueError(WhyrecError):
    """A catalogue file is missing, unreadable or holds a bad record."""

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None, field: str | None = None):
        self.path = Path(path) if path is not None else None
        self.line = line
        self.field = field
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        what = f"field '{field}': " if field else ""
        super().__init__(f"{where}{what}{message}")


class StorageError(WhyrecError):
    """A file whyrec keeps for itself (the index store, the feedback store) is damaged or cannot be opened."""


class IndexNotFoundError(WhyrecError):
    """No index where one was expected."""


class IndexMismatchError(StorageError):
    """The index on disk was built differently from what this run needs (another embedder, another format), no
    longer matches its catalogue, or is damaged."""


class UnknownIdError(WhyrecError):
    """A user or item id that the catalogue does not hold."""


class DependencyMissingError(WhyrecError):
    """An optional dependency is not installed."""


class ModelError(WhyrecError):
    """A model could not be found or loaded."""


class TimeoutExceeded(WhyrecError):
    """A request ran past its deadline (the service's request timeout)."""


class ServiceBusy(WhyrecError):
    """The model stayed busy with other requests for longer than this request may wait."""
