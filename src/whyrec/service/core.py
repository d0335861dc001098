"""The wired parts the API serves, and the one lock every pipeline request takes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from whyrec.agent.chat import Chat
from whyrec.agent.explain import Explainer
from whyrec.auditing import Auditor
from whyrec.errors import ServiceBusy
from whyrec.feedback import FeedbackStore
from whyrec.llm.deadline import deadline
from whyrec.service.sessions import SessionStore


@dataclass
class Service:
    """The wired parts the API serves: built by factory.make_service."""

    chat: Chat
    auditor: Auditor
    feedback: FeedbackStore
    sessions: SessionStore
    # () -> (ready, what): whether the model file is in place, without loading it
    model_ready: Callable[[], tuple[bool, str]] | None = None
    # seconds a request may wait for the model and use it (503 if it stays busy, 504 past it); None: no limit
    request_timeout: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def explainer(self) -> Explainer:
        return self.chat.explainer

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the model (and the store and sessions) for one request, within the request timeout."""
        started = time.monotonic()
        if not self.lock.acquire(timeout=-1 if self.request_timeout is None else self.request_timeout):
            raise ServiceBusy(f"the model stayed busy for {self.request_timeout:g} s; try again")
        try:
            with deadline(self.request_timeout, since=started):
                yield
        finally:
            self.lock.release()
