"""The prediction cache: in-process by default, Redis when REDIS_URL is set.

Values are the encoded JSON answers, so a hit is sent as it is stored. Keys name the race,
the stage and the model version, so an entry never goes stale: a new model version or a new
race is a new key."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Literal, Protocol

log = logging.getLogger(__name__)
Source = Literal["local", "shared"]


class Cache(Protocol):
    def peek(self, key: str) -> bytes | None:
        """This process's copy only: never waits on the network."""

    def get(self, key: str) -> tuple[bytes, Source] | None:
        """The value and where it was found (this process, or the shared store)."""

    def set(self, key: str, value: bytes) -> None: ...

    async def fetch(self, key: str) -> tuple[bytes, Source] | None:
        """`get` on the event loop, waiting on the network without holding it."""

    async def store(self, key: str, value: bytes) -> None:
        """`set` on the event loop, likewise."""

    async def close(self) -> None:
        """Hand back the event loop's connections (at shutdown)."""


class MemoryCache:
    """A bounded LRU dict, safe across the threads that serve requests."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: str) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def get(self, key: str) -> tuple[bytes, Source] | None:
        value = self.peek(key)
        return None if value is None else (value, "local")

    def set(self, key: str, value: bytes) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    async def fetch(self, key: str) -> tuple[bytes, Source] | None:
        return self.get(key)

    async def store(self, key: str, value: bytes) -> None:
        self.set(key, value)

    async def close(self) -> None:
        pass


class RedisCache:
    """Answers in Redis under `f1:`, shared by every replica, with an in-process copy in front.
    A Redis outage degrades to computing every answer (logged), never to an error."""

    def __init__(self, url: str, ttl_seconds: int = 7 * 24 * 3600) -> None:
        import redis
        import redis.asyncio

        self.client = redis.Redis.from_url(  # the threads'
            url, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        self.aclient = redis.asyncio.Redis.from_url(  # the event loop's
            url, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        self.ttl = ttl_seconds
        self.local = MemoryCache()

    def peek(self, key: str) -> bytes | None:
        return self.local.peek(key)

    def get(self, key: str) -> tuple[bytes, Source] | None:
        hit = self.local.peek(key)
        if hit is not None:
            return hit, "local"
        try:
            raw = self.client.get(f"f1:{key}")
        except Exception as error:  # noqa: BLE001 (any Redis failure: compute instead)
            log.warning("redis get failed: %s", error)
            return None
        return self._kept(key, raw)

    def set(self, key: str, value: bytes) -> None:
        self.local.set(key, value)
        try:
            self.client.set(f"f1:{key}", value, ex=self.ttl)
        except Exception as error:  # noqa: BLE001
            log.warning("redis set failed: %s", error)

    async def fetch(self, key: str) -> tuple[bytes, Source] | None:
        hit = self.local.peek(key)
        if hit is not None:
            return hit, "local"
        try:
            raw = await self.aclient.get(f"f1:{key}")
        except Exception as error:  # noqa: BLE001 (any Redis failure: compute instead)
            log.warning("redis get failed: %s", error)
            return None
        return self._kept(key, raw)

    def _kept(self, key: str, raw: object) -> tuple[bytes, Source] | None:
        """A value found in Redis, copied into this process (None: not there)."""
        if not isinstance(raw, bytes):
            return None
        self.local.set(key, raw)
        return raw, "shared"

    async def store(self, key: str, value: bytes) -> None:
        self.local.set(key, value)
        try:
            await self.aclient.set(f"f1:{key}", value, ex=self.ttl)
        except Exception as error:  # noqa: BLE001
            log.warning("redis set failed: %s", error)

    async def close(self) -> None:
        await self.aclient.aclose()


def make_cache(redis_url: str | None) -> Cache:
    """Redis when a URL is given, else in-process."""
    return RedisCache(redis_url) if redis_url else MemoryCache()
