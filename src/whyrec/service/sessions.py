"""Chat sessions held by the service: bounded in number (least recently used go first) and in idle time."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from whyrec.agent.chat import ChatSession
from whyrec.errors import UnknownIdError


class SessionStore:
    """At most `limit` sessions, each dropped after `ttl` idle seconds."""

    def __init__(self, limit: int = 1000, ttl: float = 3600.0, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.ttl = ttl
        self.clock = clock
        self._sessions: OrderedDict[str, tuple[float, ChatSession]] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, session: ChatSession) -> None:
        with self._lock:
            self._expire()
            self._sessions[session.id] = (self.clock(), session)
            while len(self._sessions) > self.limit:
                self._sessions.popitem(last=False)

    def get(self, session_id: str) -> ChatSession:
        """The session, marked as used now; UnknownIdError if it never existed or has expired."""
        with self._lock:
            self._expire()
            if session_id not in self._sessions:
                raise UnknownIdError(f"unknown or expired chat session {session_id!r}: start a new one")
            _, session = self._sessions.pop(session_id)
            self._sessions[session_id] = (self.clock(), session)
            return session

    def __len__(self) -> int:
        return len(self._sessions)

    def _expire(self) -> None:
        cutoff = self.clock() - self.ttl
        while self._sessions:
            session_id, (used, _) = next(iter(self._sessions.items()))
            if used >= cutoff:
                break
            del self._sessions[session_id]
