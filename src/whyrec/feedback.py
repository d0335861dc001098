"""Feedback on reasons (thumbs up/down and free text), kept in SQLite in WAL mode so readers never block a writer.

A piece of feedback can carry the Explanation it is about, as whyrec made it (the service looks it up by session and
turn; the CLI reads a file of `whyrec explain --json`): then it counts for its prompt version in `stats`, and an
accepted one can become fine-tuning data (`whyrec.finetune`). A client's own copy of a reason is never taken as one.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from whyrec.dbguard import damaged_is
from whyrec.errors import StorageError
from whyrec.schema import Explanation, Preferences

MAX_FEEDBACK_CHARS = 2000

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY, created REAL NOT NULL, session_id TEXT, user_id TEXT NOT NULL, item_id TEXT NOT NULL,
    rating TEXT, text TEXT, reason TEXT
);
CREATE INDEX IF NOT EXISTS feedback_user ON feedback (user_id);
CREATE TABLE IF NOT EXISTS preferences (user_id TEXT PRIMARY KEY, updated REAL NOT NULL, preferences TEXT NOT NULL);
"""
# Columns added after the first release: a store made before them gains them when it is opened.
ADDED_COLUMNS = {"prompt_version": "TEXT", "explanation": "TEXT"}
Z_95 = 1.959963984540054


class Feedback(BaseModel):
    """What a user thought of a reason: a thumb, free text, or both."""

    # A turn is a turn of a session: with `turn` there must be a session_id that is a string (not null). The schema says
    # so (dependentSchemas), and so does the validator below.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "dependentSchemas": {"turn": {"required": ["session_id"], "properties": {"session_id": {"type": "string"}}}}
        },
    )

    user_id: str = Field(min_length=1, max_length=200)
    item_id: str = Field(min_length=1, max_length=200)
    session_id: str | None = Field(default=None, max_length=200)
    rating: Literal["up", "down"] | None = None
    text: str | None = Field(default=None, max_length=MAX_FEEDBACK_CHARS)
    reason: str | None = Field(default=None, max_length=20_000, description="The reason the feedback is about.")
    turn: int | None = Field(
        default=None, ge=1, description="The chat turn the feedback is about (with session_id): links the reason."
    )

    @model_validator(mode="after")
    def _turn_of_a_session(self) -> Feedback:
        if self.turn is not None and self.session_id is None:
            raise ValueError("turn goes with session_id")
        return self


@dataclass(frozen=True)
class VariantStats:
    """Thumbs for one prompt version: acceptance = up / (up + down), with its 95% Wilson interval."""

    prompt_version: str
    up: int
    down: int

    @property
    def rated(self) -> int:
        return self.up + self.down

    @property
    def acceptance(self) -> float:
        return self.up / self.rated if self.rated else 0.0

    def interval(self, z: float = Z_95) -> tuple[float, float]:
        """Wilson score interval (Wilson 1927), sound for small counts and for 0 or 100% acceptance."""
        n = self.rated
        if n == 0:
            return 0.0, 1.0
        p = self.up / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return max(0.0, centre - half), min(1.0, centre + half)


_damaged = damaged_is(StorageError, "move it aside and whyrec starts a new one")


class FeedbackStore:
    """Append-only feedback; one connection shared by threads under a lock."""

    def __init__(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
            have = {row[1] for row in self._db.execute("PRAGMA table_info(feedback)")}
            for column, kind in ADDED_COLUMNS.items():
                if column not in have:
                    self._db.execute(f"ALTER TABLE feedback ADD COLUMN {column} {kind}")
        except (OSError, sqlite3.DatabaseError) as exc:
            raise StorageError(f"{path}: cannot open the feedback store ({exc})") from None
        self._lock = threading.Lock()

    @_damaged
    def add(self, feedback: Feedback, explanation: Explanation | None = None) -> int:
        """Store one piece of feedback, with the Explanation it is about if known; returns its id."""
        model = explanation.manifest.model if explanation is not None else None
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO feedback (created, session_id, user_id, item_id, rating, text, reason, prompt_version, "
                "explanation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    feedback.session_id,
                    feedback.user_id,
                    feedback.item_id,
                    feedback.rating,
                    feedback.text,
                    explanation.reason if explanation is not None else feedback.reason,
                    model.prompt_version if model is not None else None,
                    explanation.model_dump_json() if explanation is not None else None,
                ),
            )
            return int(cursor.lastrowid or 0)

    @_damaged
    @_damaged
    def stats(self) -> list[VariantStats]:
        """Thumbs per prompt version, for feedback linked to an LLM-written reason."""
        with self._lock:
            rows = self._db.execute(
                "SELECT prompt_version, SUM(rating = 'up'), SUM(rating = 'down') FROM feedback "
                "WHERE prompt_version IS NOT NULL AND rating IS NOT NULL "
                "GROUP BY prompt_version ORDER BY prompt_version"
            ).fetchall()
        return [VariantStats(version, int(up), int(down)) for version, up, down in rows]

    @_damaged
    def accepted(self) -> list[tuple[int, Explanation]]:
        """(feedback id, Explanation) of every thumbs-up linked to a reason, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, explanation FROM feedback WHERE rating = 'up' AND explanation IS NOT NULL ORDER BY id"
            ).fetchall()
        return [(int(row[0]), Explanation.model_validate_json(row[1])) for row in rows]

    @_damaged
    def preferences(self, user_id: str) -> Preferences:
        """What the user told whyrec in feedback text ("I don't care about price"), kept across sessions."""
        with self._lock:
            row = self._db.execute("SELECT preferences FROM preferences WHERE user_id = ?", (user_id,)).fetchone()
        return Preferences.model_validate_json(row[0]) if row else Preferences()

    @_damaged
    def set_preferences(self, user_id: str, preferences: Preferences) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO preferences (user_id, updated, preferences) VALUES (?, ?, ?) ON CONFLICT (user_id) "
                "DO UPDATE SET updated = excluded.updated, preferences = excluded.preferences",
                (user_id, time.time(), preferences.model_dump_json()),
            )

    @_damaged
    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def close(self) -> None:
        self._db.close()


class StoredPreferences:
    """`lookup(user)`: the user's preferences from the feedback store at `path`, if there is one. Never creates the
    store; opens it on the first lookup that finds it."""

    def __init__(self, path: Path):
        self.path = path
        self._store: FeedbackStore | None = None

    def __call__(self, user_id: str) -> Preferences:
        if self._store is None:
            if not self.path.exists():
                return Preferences()
            self._store = FeedbackStore(self.path)
        return self._store.preferences(user_id)
