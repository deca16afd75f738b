"""Reads answered from memory, on the event loop before admission: a repeat takes no slot, no
thread and no database connection.

- The racing reads (races, a race's results, drivers, teams, circuits, the rankings) change
  only when new data is published, and every ingestion ends in a feature build: their answers
  are kept per published build (in-process, or in Redis with REDIS_URL, shared by the replicas,
  like the predictions). With nothing published they are computed every time.
- The recipe reads (`/api/v1/recipes`, a recipe) change only when a recipe is written through
  the service (the API or the web forms): their answers are kept per recipe generation, a
  counter every successful write moves on before its answer leaves (in Redis when configured,
  so every replica sees it at once; else in this process), in a bounded LRU of this process
  (free-text searches cannot evict the predictions). A write made outside the service
  (`f1 recipes seed`, SQL) is seen within `RECIPES_KEPT_S`.
- A read being computed is computed once in a process: the clients that miss it meanwhile
  wait for that answer (up to `FOLLOW_WAIT_S`) instead of asking admission for a slot.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path
from typing import Any

from feature_store.store import Manifest, store_root
from serving.cache import Cache, MemoryCache

log = logging.getLogger(__name__)
CACHED = re.compile(
    r"^/api/v1/(races(/calendar|/\d{4}/\d{1,2})?|drivers(/[\w.-]+)?|teams|circuits"
    r"|analytics/driver-rankings)$"
)
RECIPE_READS = re.compile(r"^/api/v1/recipes(/[\w.-]+)?$")
RECIPE_WRITES = re.compile(r"^/(api/v1/)?recipes(/|$)")
BUILD_CHECK_S = 1.0  # how long the published build's id is taken as known
FOLLOW_WAIT_S = 10.0  # how long a miss waits for the same read computing, then computes itself
RECIPES_KEPT_S = 60  # the longest a recipe answer is kept (writes made outside the service)
GENERATION_KEY = "f1:gen:recipes"


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


class Generation:
    """The recipe generation: in Redis (`f1:gen:recipes`) when the cache is shared, else this
    process's counter. Redis unreachable: no generation, nothing kept or answered from memory."""

    def __init__(self, cache: Cache) -> None:
        self.redis = getattr(cache, "aclient", None)
        self.local = 0

    async def current(self) -> str | None:
        if self.redis is None:
            return str(self.local)
        try:
            value = await self.redis.get(GENERATION_KEY)
        except Exception as error:  # noqa: BLE001 (any Redis failure: compute instead)
            log.warning("redis get failed: %s", error)
            return None
        return "0" if value is None else value.decode()

    async def move_on(self) -> None:
        self.local += 1
        if self.redis is not None:
            try:
                await self.redis.incr(GENERATION_KEY)
            except Exception as error:  # noqa: BLE001
                log.warning("redis incr failed (other replicas see the write within %d s): %s",
                            RECIPES_KEPT_S, error)  # fmt: skip


class ReadCacheMiddleware:
    """A pure ASGI middleware: a cached read's stored answer, or the app's answer stored; a
    recipe written moves the recipe generation on."""

    def __init__(self, app: Any, cache: Cache, builds: Builds | None = None) -> None:
        self.app = app
        self.cache = cache
        self.builds = builds or Builds()
        self.recipes = MemoryCache(size=1024)
        self.generation = Generation(cache)
        self.computing: dict[str, asyncio.Future[bytes | None]] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if scope.get("method") not in ("GET", "HEAD"):
            if RECIPE_WRITES.match(path):
                await self._write(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        cache: Cache = self.cache
        generation = None
        if CACHED.match(path):
            tag = self.builds.tag()
        elif RECIPE_READS.match(path):
            cache = self.recipes
            generation = await self.generation.current()
            kept = int(time.time() // RECIPES_KEPT_S)
            tag = None if generation is None else f"recipes-{generation}-{kept}"
        else:
            tag = None
        if tag is None:
            await self.app(scope, receive, send)
            return
        query = "&".join(sorted(scope.get("query_string", b"").decode("latin-1").split("&")))
        key = f"read:{tag}:{path}?{query}"
        head = scope.get("method") == "HEAD"
        hit = await cache.fetch(key)
        if hit is not None:
            await _answer(send, hit[0], head)
            return
        # One computation per key at a time in this process: the clients that miss while it
        # runs (a cold start, a new build, a bucket rolling over under 200 clients) wait for
        # its answer instead of each taking an admission slot, or a refusal.
        leader = self.computing.get(key)
        if leader is not None:
            try:
                body = await asyncio.wait_for(asyncio.shield(leader), FOLLOW_WAIT_S)
            except TimeoutError:
                body = None
            if body is not None:
                await _answer(send, body, head)
                return
        elif not head:
            self.computing[key] = asyncio.get_running_loop().create_future()
            try:
                await self._compute(scope, receive, send, cache, key, generation, path, query)
            finally:
                done = self.computing.pop(key)
                if not done.done():
                    done.set_result(None)
            return
        await self._compute(scope, receive, send, cache, key, generation, path, query)

    async def _compute(
        self,
        scope: Any,
        receive: Any,
        send: Any,
        cache: Cache,
        key: str,
        generation: str | None,
        path: str,
        query: str,
    ) -> None:
        """The app's answer, kept when it is a 200 to a GET (and handed to the clients
        waiting for this key)."""
        head = scope.get("method") == "HEAD"
        # A recipe answer of this generation from an earlier time bucket: what a refused
        # (503) recompute gives instead, so a hot read is not refused the moment its bucket
        # rolls over while admission is full (at most 2 × RECIPES_KEPT_S old, same writes).
        stale_key = f"read:recipes-{generation}:{path}?{query}" if generation else None
        stale = await cache.fetch(stale_key) if stale_key else None
        status: list[int] = []
        chunks: list[bytes] = []
        replaced: list[bool] = []

        async def kept(message: Any) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                if message["status"] == 503 and stale is not None:
                    replaced.append(True)
                    await _answer(send, stale[0], head)
                    return
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            if not replaced:
                await send(message)

        await self.app(scope, receive, kept)
        if status == [200] and scope.get("method") == "GET":
            body = b"".join(chunks)
            waiting = self.computing.get(key)
            if waiting is not None and not waiting.done():
                waiting.set_result(body)
            await cache.store(key, body)
            if stale_key:
                await cache.store(stale_key, body)

    async def _write(self, scope: Any, receive: Any, send: Any) -> None:
        """A recipe write: once it has succeeded (committed, its answer about to leave), the
        generation moves on, so the writer's next read, on any replica, is computed anew."""

        async def after(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                await self.generation.move_on()
            await send(message)

        await self.app(scope, receive, after)


async def _answer(send: Any, body: bytes, head: bool) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-cache", b"hit"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})
