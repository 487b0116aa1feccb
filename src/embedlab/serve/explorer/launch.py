"""Run an ASGI app with uvicorn on a free loopback port, in this thread or in a background thread.

The socket is bound here (port 0: the system picks a free one) and handed to uvicorn, so the URL is
known before the server starts and no other process can take the port in between.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from embedlab.errors import EmbedlabError

HOST = "127.0.0.1"


def bind(port: int = 0, host: str = HOST) -> socket.socket:
    """A listening TCP socket on `host:port` (port 0: a free one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise EmbedlabError(f"cannot listen on {host}:{port} ({exc.strerror or exc}).", "pick another port=.") from None
    sock.listen(128)
    return sock


@dataclass
class Running:
    """A server started by `start`: its URL, and `stop()`."""

    url: str
    server: Any
    thread: threading.Thread
    sock: socket.socket

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        self.sock.close()


def server_for(application: Any) -> Any:
    import uvicorn

    config = uvicorn.Config(application, log_level="warning", lifespan="on", access_log=False)
    return uvicorn.Server(config)


def start(application: Any, port: int = 0, host: str = HOST, timeout: float = 30.0) -> Running:
    """Serve `application` in a daemon thread; returns once it answers."""
    sock = bind(port, host)
    server = server_for(application)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="embedlab-explorer")
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise EmbedlabError("the explorer's server did not start.", "see the messages above.")
        time.sleep(0.02)
    return Running(f"http://{host}:{sock.getsockname()[1]}/", server, thread, sock)
