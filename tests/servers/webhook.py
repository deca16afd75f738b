"""A chat-style incoming webhook on 127.0.0.1 that keeps every JSON body posted to it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Webhook:
    url: str
    posts: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to the next posts (else 200)


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    """The server, set as F1_ALERT_WEBHOOK_URL."""
    hook: Webhook

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = hook.statuses.pop(0) if hook.statuses else 200
            if status == 200:
                hook.posts.append(json.loads(body))
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host, port = server.server_address[:2]
    hook = Webhook(f"http://{host!s}:{port}/hooks/f1")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("F1_ALERT_WEBHOOK_URL", hook.url)
    yield hook
    server.shutdown()
    server.server_close()
