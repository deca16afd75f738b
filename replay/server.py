"""A small threaded HTTP server on 127.0.0.1 for local stand-ins of outside APIs (the replay's
F1 API; the tests' servers build on it)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# (status, body bytes, headers) for a GET of (path, query)
Handler = Callable[[str, dict[str, str]], tuple[int, bytes, dict[str, str]]]


def json_handler(route: Callable[[str, dict[str, str]], tuple[int, Any]]) -> Handler:
    """A handler answering JSON from `route(path, query) -> (status, body)`."""

    def handle(path: str, query: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        status, body = route(path, query)
        return status, json.dumps(body).encode(), {"Content-Type": "application/json"}

    return handle


class HttpServer:
    """Serves GET requests with `handler` on a free port of 127.0.0.1 while entered, and
    records every request's path (with its query)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "the server is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> HttpServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                with owner._lock:
                    owner.requests.append(self.path)
                status, body, headers = owner.handler(parts.path, query)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
