"""Running the app under uvicorn: the bind rule (loopback, or a token) and a server that tests can start in a thread."""

from __future__ import annotations

import ipaddress
import threading
import time
from typing import Any

from whyrec.errors import WhyrecError


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen anywhere but loopback without a token: the API would answer anyone who can reach it."""
    if not is_loopback(host) and not token:
        raise WhyrecError(
            f"refusing to serve on {host} without a token: set WHYREC_API_TOKEN (clients then send "
            "'Authorization: Bearer <token>'), or bind 127.0.0.1"
        )


def _server(app: Any, host: str, port: int, log_level: str) -> Any:
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, timeout_keep_alive=5, access_log=False)
    return uvicorn.Server(config)


def serve(app: Any, host: str, port: int, token: str | None) -> None:
    """Serve until interrupted."""
    check_bind(host, token)
    _server(app, host, port, "info").run()


class BackgroundServer:
    """The app on a free loopback port in a daemon thread: `with BackgroundServer(app) as url: …`."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0):
        self.server = _server(app, host, port, "warning")
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise WhyrecError("the server did not start")
            time.sleep(0.05)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
