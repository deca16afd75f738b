"""A real HTTP server on 127.0.0.1 for tests, with faults that can be queued per request."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from replay.server import HttpServer

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
    _http: HttpServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._http is not None
        return self._http.url

    @property
    def requests(self) -> list[str]:
        assert self._http is not None
        return self._http.requests

    def __enter__(self) -> LocalServer:
        self._http = HttpServer(self._answer).__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._http is not None
        self._http.__exit__(*exc)

    def _answer(self, path: str, query: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        with self._lock:
            fault = next((f for f in self.faults if f.match in path), None)
            if fault is not None:
                self.faults.remove(fault)
        if fault and fault.kind == "429":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return 429, b'{"detail": "Request was throttled."}', headers
        if fault and fault.kind == "500":
            return 500, b"Internal Server Error", {"Content-Type": "text/plain"}
        if fault and fault.kind == "html":
            page = b"<!DOCTYPE html><html><body><h1>Down for maintenance</h1></body></html>"
            return 200, page, {"Content-Type": "text/html"}
        if fault and fault.kind == "slow":
            time.sleep(fault.delay_s)
        status, body = self.route(path, query)
        if fault and fault.kind == "mutate" and fault.mutate:
            body = copy.deepcopy(body)  # answers share objects; never corrupt the source
            fault.mutate(body)
        payload = json.dumps(body).encode()
        if fault and fault.kind == "truncate":
            payload = payload[: len(payload) // 2]
        return status, payload, {"Content-Type": "application/json"}
