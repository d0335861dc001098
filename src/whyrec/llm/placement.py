"""Where llama.cpp put a model's layers, read from llama.cpp itself while the model loads.

llama.cpp logs each layer's device as it loads the tensors ("load_tensors: layer 3 assigned to device CUDA0"), on every
build. `LayerPlacement` hears llama.cpp's log (`llama_log_set`) for the length of a load, passes every line on to
llama-cpp-python's own logger, and puts that logger back afterwards. The count of layers on a device other than the
CPU is what was offloaded, which may be fewer than asked for (a CPU-only build, too little VRAM).
"""

from __future__ import annotations

import ctypes
import re
import threading
from types import TracebackType
from typing import Any

_ASSIGNED = re.compile(r"\blayer\s+(\d+) assigned to device ([^,\s]+)")
_HOST = "CPU"

# llama.cpp has one log callback per process: loads that read it take turns
_LOG_LOCK = threading.Lock()


class LayerPlacement:
    """`with LayerPlacement(llama_cpp) as placement: load()`, then `placement.devices` (layer → device) and
    `placement.offloaded` (layers not on the CPU)."""

    def __init__(self, llama_cpp: Any):
        self.lib = llama_cpp
        self.devices: dict[int, str] = {}
        self._callback: Any = None

    @property
    def offloaded(self) -> int:
        return sum(device != _HOST for device in self.devices.values())

    def __enter__(self) -> LayerPlacement:
        from llama_cpp import _logger

        forward = _logger.llama_log_callback

        @self.lib.llama_log_callback  # type: ignore[untyped-decorator]
        def hear(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
            match = _ASSIGNED.search(text.decode("utf-8", errors="replace"))
            if match:
                self.devices[int(match.group(1))] = match.group(2)
            forward(level, text, user_data)

        _LOG_LOCK.acquire()
        self._callback = hear  # kept referenced while llama.cpp may call it
        self.lib.llama_log_set(hear, ctypes.c_void_p(0))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        from llama_cpp import _logger

        try:
            self.lib.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))
        finally:
            _LOG_LOCK.release()
