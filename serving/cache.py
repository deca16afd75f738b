"""The prediction cache: in-process by default, Redis when REDIS_URL is set.

Keys name the race, the stage and the model version, so an entry never goes stale: a new
model version or a new race is a new key."""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Cache(Protocol):
    def get(self, key: str) -> dict[str, Any] | None: ...
    def set(self, key: str, value: dict[str, Any]) -> None: ...


class MemoryCache:
    """A bounded LRU dict, safe across the threads that serve requests."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def set(self, key: str, value: dict[str, Any]) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class RedisCache:
    """JSON values in Redis under `f1:`; shared by every replica. A Redis outage degrades to
    computing every answer (logged), never to an error."""

    def __init__(self, url: str, ttl_seconds: int = 7 * 24 * 3600) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.ttl = ttl_seconds
        self.local = MemoryCache()

    def get(self, key: str) -> dict[str, Any] | None:
        hit = self.local.get(key)
        if hit is not None:
            return hit
        try:
            raw = self.client.get(f"f1:{key}")
        except Exception as error:  # noqa: BLE001 (any Redis failure: compute instead)
            log.warning("redis get failed: %s", error)
            return None
        if raw is None:
            return None
        value: dict[str, Any] = json.loads(raw)
        self.local.set(key, value)
        return value

    def set(self, key: str, value: dict[str, Any]) -> None:
        self.local.set(key, value)
        try:
            self.client.set(f"f1:{key}", json.dumps(value), ex=self.ttl)
        except Exception as error:  # noqa: BLE001
            log.warning("redis set failed: %s", error)


def make_cache(redis_url: str | None) -> Cache:
    """Redis when a URL is given, else in-process."""
    return RedisCache(redis_url) if redis_url else MemoryCache()
