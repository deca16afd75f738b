"""A real HTTP server on 127.0.0.1 for tests, with faults that can be queued per request."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Answer = tuple[int, Any]  # status, JSON-able body


@dataclass
class Fault:
    """What the next matching request gets instead of (or before) its answer.

    kind: "429" (with Retry-After), "500", "truncate" (valid status, half the JSON),
    "html" (200 with an HTML page), "slow" (answer after `delay_s`), "mutate" (the body passed
    through `mutate` first).
    """

    kind: str
    match: str = ""
    retry_after: str | None = "1"
    delay_s: float = 0.0
    mutate: Callable[[Any], None] | None = None


@dataclass
class LocalServer:
    """Serves `route(path, query) -> (status, body)` and records every request."""

    route: Callable[[str, dict[str, str]], Answer]
    faults: list[Fault] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> LocalServer:
        owner = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                with lock:
                    owner.requests.append(self.path)
                    fault = next((f for f in owner.faults if f.match in parts.path), None)
                    if fault is not None:
                        owner.faults.remove(fault)
                owner._answer(self, parts.path, query, fault)

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

    def _answer(
        self, handler: BaseHTTPRequestHandler, path: str, query: dict[str, str], fault: Fault | None
    ) -> None:
        if fault and fault.kind == "429":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return _send(handler, 429, b'{"detail": "Request was throttled."}', headers)
        if fault and fault.kind == "500":
            return _send(handler, 500, b"Internal Server Error", {"Content-Type": "text/plain"})
        if fault and fault.kind == "html":
            page = b"<!DOCTYPE html><html><body><h1>Down for maintenance</h1></body></html>"
            return _send(handler, 200, page, {"Content-Type": "text/html"})
        if fault and fault.kind == "slow":
            time.sleep(fault.delay_s)
        status, body = self.route(path, query)
        if fault and fault.kind == "mutate" and fault.mutate:
            body = copy.deepcopy(body)  # answers share objects; never corrupt the source
            fault.mutate(body)
        payload = json.dumps(body).encode()
        if fault and fault.kind == "truncate":
            payload = payload[: len(payload) // 2]
        _send(handler, status, payload, {"Content-Type": "application/json"})


def _send(
    handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]
) -> None:
    try:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up (a timeout test)
