"""How the service holds up under load: sized pools, admission control and probes that never
wait behind the crowd.

- **Threads and connections sized together.** Sync routes run in anyio's thread pool; its size
  is `F1_SERVICE_THREADS`, and the database pool has that many connections plus a few for the
  probes and teardown, with no overflow, so a thread never waits for a connection.
- **No connection held while waiting.** A request's session is closed on the event loop as soon
  as the route is done (`serving.deps.get_session`), not in a second thread-pool hop that would
  keep its connection while it waited for a free thread.
- **Back-pressure.** At most `F1_SERVICE_MAX_INFLIGHT` requests are admitted at once; the next
  gets `503` with `Retry-After` at once instead of queueing until the client times out. The
  wait asked for follows the crowd: the refusals of the last second over the requests served
  in it (a refused client's turn comes after that many seconds), at least 1 s and at most 30 s,
  spread ±25 % so that clients sent away together do not all come back together. With 1,000
  clients at once, a fixed 1 s kept the event loop busy refusing ~950 requests a second and
  /health waited behind them. A pool or lock timeout that still happens is a `503` with
  `Retry-After` too, never a 500.
- **No stop-the-world pauses from start-up's heap.** The models, features and libraries loaded
  at start-up are millions of objects that every full garbage collection walked, holding the
  GIL for 200 ms and more under load (the event loop, /health included, waited). They are
  moved out of the collector's reach once loaded (`gc.freeze`), and again after a reload.
- **The event loop gets the interpreter quickly.** Sync routes run Python code (SQLAlchemy,
  pandas) on their threads, and the event loop, which answers /health and refuses the excess,
  needs the GIL between them. CPython makes a thread that wants it wait up to the switch
  interval (5 ms) per holder; with four busy threads that is what /health's p99 was made of at
  1,000 connections. The service asks for a 1 ms interval (`F1_SERVICE_SWITCH_INTERVAL_MS`).
- **Memory back after a burst.** At most two malloc arenas, and memory freed after a burst is
  handed back to the system every 10 s, on the probe's thread.
- **Probes outside the crowd.** `/health` is answered on the event loop; `/ready` reads a
  database check made on its own thread (at most once a second, with a 2-second deadline).
  Neither is subject to admission.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from warehouse.migrate import SchemaNotReady, require_head

log = logging.getLogger(__name__)
PROBES = frozenset({"/health", "/ready"})
RETRY_AFTER_S = 1
MAX_RETRY_AFTER_S = 30
SPREAD = 0.25


def retry_after(refused: int, served: int, draw: float = 0.5) -> int:
    """Seconds a refused client is asked to wait: `refused` requests were turned away while
    `served` were answered in the last second, so a client's turn comes after about
    refused / served seconds; spread by `draw` (uniform in [0, 1)) by ±SPREAD."""
    wait = refused / max(served, 1) * (1 + SPREAD * (2 * draw - 1))
    return max(RETRY_AFTER_S, min(MAX_RETRY_AFTER_S, math.ceil(wait)))


def settle_heap() -> None:
    """Collect what start-up (or a model reload) left behind, then freeze what lives on, so
    later collections only walk what requests allocate."""
    gc.collect()
    gc.freeze()


def _libc() -> Any:
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


M_ARENA_MAX = -8


def limit_arenas(arenas: int = 2) -> None:
    """At most `arenas` malloc arenas (glibc): each worker thread would otherwise get its own,
    and memory freed after a burst would stay with them instead of going back to the system."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_ARENA_MAX, arenas)


def return_free_memory() -> None:
    """Hand memory freed by the last requests back to the system (glibc's malloc_trim)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def set_switch_interval(milliseconds: float) -> None:
    """How long a thread may hold the GIL while another one waits for it."""
    import sys

    sys.setswitchinterval(milliseconds / 1000)


def set_thread_limit(threads: int) -> None:
    """The number of threads sync routes and dependencies may use at once (in the loop)."""
    import anyio.to_thread

    anyio.to_thread.current_default_thread_limiter().total_tokens = threads


def busy(detail: str, after: int = RETRY_AFTER_S) -> JSONResponse:
    """A 503 with Retry-After, in the API's error shape."""
    return JSONResponse({"detail": detail}, 503, headers={"Retry-After": str(after)})


class AdmissionMiddleware:
    """A pure ASGI middleware admitting at most `limit` requests at once (probes aside); the
    rest are answered 503 with Retry-After (`retry_after`) without touching a thread or the
    database. `full_since` is when every slot last became busy (None while one is free):
    readiness reports a service starved that long (`starved_for`)."""

    def __init__(self, app: Any, limit: int, registry: dict[str, Any] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.inflight = 0
        self.refused = 0
        self.served = 0
        self.full_since: float | None = None
        if registry is not None:  # where the readiness probe finds this layer
            registry["admission"] = self
        # refusals and answers in the current second and in the one before it
        self._second = 0
        self._now = [0, 0]
        self._last = [0, 0]

    def _count(self, kind: int) -> tuple[int, int]:
        second = int(time.monotonic())
        if second != self._second:
            self._last = self._now if second == self._second + 1 else [0, 0]
            self._now, self._second = [0, 0], second
        self._now[kind] += 1
        return self._last[0], self._last[1]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") in PROBES:
            await self.app(scope, receive, send)
            return
        if self.inflight >= self.limit:
            self.refused += 1
            refused, served = self._count(0)
            after = retry_after(refused, served, random.random())  # noqa: S311  # not a secret
            detail = (
                f"the service is at capacity ({self.limit} requests at once): retry in {after} s"
            )
            await busy(detail, after)(scope, receive, send)
            return
        self.inflight += 1  # one event loop: no lock needed
        if self.inflight >= self.limit and self.full_since is None:
            self.full_since = time.monotonic()
        try:
            await self.app(scope, receive, send)
        finally:
            self.inflight -= 1
            if self.inflight < self.limit:
                self.full_since = None
            self.served += 1
            self._count(1)

    def starved_for(self) -> float:
        """Seconds every slot has been busy without a break (0 while one is free)."""
        return 0.0 if self.full_since is None else time.monotonic() - self.full_since


class DatabaseProbe:
    """The warehouse's readiness, checked on a thread of its own: reachable, and at the
    schema revision this code needs. Cached for `max_age_s`; checks run one at a time on the
    probe's thread; one that takes longer than `deadline_s` reports the database unreachable."""

    def __init__(self, engine: Engine, max_age_s: float = 1.0, deadline_s: float = 2.0) -> None:
        self.engine = engine
        self.max_age_s = max_age_s
        self.deadline_s = deadline_s
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ready-probe")
        self._result: tuple[float, str | None, str] | None = None  # (when, revision, problem)

    def _check(self) -> tuple[str | None, str]:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return require_head(self.engine), "ok"
        except SchemaNotReady as error:
            return None, str(error)
        except SQLAlchemyError as error:
            return None, f"unreachable: {type(error).__name__}"

    async def state(self) -> tuple[str | None, str]:
        """(the schema revision, "ok") when ready; else (None, what is wrong)."""
        if self._result is None or time.monotonic() - self._result[0] > self.max_age_s:
            loop = asyncio.get_running_loop()
            try:
                revision, problem = await asyncio.wait_for(
                    loop.run_in_executor(self._executor, self._check), self.deadline_s
                )
            except TimeoutError:
                revision, problem = None, f"unreachable: no answer in {self.deadline_s:g} s"
            self._result = (time.monotonic(), revision, problem)
        return self._result[1], self._result[2]

    async def tidy(
        self,
        every_s: float = 10.0,
        chores: tuple[Callable[[], object], ...] = (),
        chores_every: int = 6,
    ) -> None:
        """Until cancelled: every `every_s`, return freed memory to the system, and every
        `chores_every` times run `chores` (purges of the database), all on the probe's thread,
        off the event loop and the request threads. A chore that fails is logged and retried
        next time."""
        loop = asyncio.get_running_loop()
        rounds = 0
        while True:
            await asyncio.sleep(every_s)
            await loop.run_in_executor(self._executor, return_free_memory)
            rounds += 1
            if rounds % chores_every:
                continue
            for chore in chores:
                try:
                    await loop.run_in_executor(self._executor, chore)
                except Exception:  # a chore must not stop the probe's loop
                    log.exception(
                        "the service's chore %s failed", getattr(chore, "__name__", chore)
                    )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
