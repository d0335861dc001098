"""Feedback on reasons (thumbs up/down and free text), kept in SQLite in WAL mode so readers never block a writer."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from whyrec.errors import WhyrecError

MAX_FEEDBACK_CHARS = 2000

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY, created REAL NOT NULL, session_id TEXT, user_id TEXT NOT NULL, item_id TEXT NOT NULL,
    rating TEXT, text TEXT, reason TEXT
);
CREATE INDEX IF NOT EXISTS feedback_user ON feedback (user_id);
"""


class Feedback(BaseModel):
    """What a user thought of a reason: a thumb, free text, or both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: str = Field(min_length=1, max_length=200)
    item_id: str = Field(min_length=1, max_length=200)
    session_id: str | None = Field(default=None, max_length=200)
    rating: Literal["up", "down"] | None = None
    text: str | None = Field(default=None, max_length=MAX_FEEDBACK_CHARS)
    reason: str | None = Field(default=None, max_length=20_000, description="The reason the feedback is about.")


class FeedbackStore:
    """Append-only feedback; one connection shared by threads under a lock."""

    def __init__(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise WhyrecError(f"{path}: cannot open the feedback store ({exc})") from None
        self._lock = threading.Lock()

    def add(self, feedback: Feedback) -> int:
        """Store one piece of feedback; returns its id."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO feedback (created, session_id, user_id, item_id, rating, text, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    feedback.session_id,
                    feedback.user_id,
                    feedback.item_id,
                    feedback.rating,
                    feedback.text,
                    feedback.reason,
                ),
            )
            return int(cursor.lastrowid or 0)

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def close(self) -> None:
        self._db.close()
