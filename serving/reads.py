"""The racing reads answered from memory: races, a race's results, drivers, teams, circuits and
the rankings change only when new data is published, and every ingestion ends in a feature
build. So their answers are kept per published build (in-process, or in Redis with REDIS_URL,
shared by the replicas, like the predictions) and a repeat is sent from there on the event
loop, before admission: it takes no slot, no thread and no database connection. With nothing
published (no build to tell new data by) they are computed every time.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from feature_store.store import Manifest, store_root
from serving.cache import Cache

CACHED = re.compile(
    r"^/api/v1/(races(/calendar|/\d{4}/\d{1,2})?|drivers(/[\w.-]+)?|teams|circuits"
    r"|analytics/driver-rankings)$"
)
BUILD_CHECK_S = 1.0  # how long the published build's id is taken as known


class Builds:
    """The published build's id, read from its manifest at most once a second."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self._at = float("-inf")
        self._tag: str | None = None

    def tag(self) -> str | None:
        if time.monotonic() - self._at > BUILD_CHECK_S:
            manifest = Manifest.read(self.root or store_root())
            self._tag = None if manifest is None else f"{manifest.build_id}@{manifest.built_at}"
            self._at = time.monotonic()
        return self._tag


class ReadCacheMiddleware:
    """A pure ASGI middleware: a cached read's stored answer, or the app's answer stored."""

    def __init__(self, app: Any, cache: Cache, builds: Builds | None = None) -> None:
        self.app = app
        self.cache = cache
        self.builds = builds or Builds()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") not in ("GET", "HEAD")
            or not CACHED.match(scope.get("path", ""))
        ):
            await self.app(scope, receive, send)
            return
        tag = self.builds.tag()
        if tag is None:
            await self.app(scope, receive, send)
            return
        query = "&".join(sorted(scope.get("query_string", b"").decode("latin-1").split("&")))
        key = f"read:{tag}:{scope['path']}?{query}"
        hit = await self.cache.fetch(key)
        if hit is not None:
            await _answer(send, hit[0], scope.get("method") == "HEAD")
            return
        status: list[int] = []
        chunks: list[bytes] = []

        async def kept(message: Any) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, kept)
        if status == [200] and scope.get("method") == "GET":
            await self.cache.store(key, b"".join(chunks))


async def _answer(send: Any, body: bytes, head: bool) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-cache", b"hit"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})
