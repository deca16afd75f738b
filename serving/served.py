"""The models the service answers with: champion and challenger of each stage, loaded from the
registry at start-up and whenever the registry's aliases move (the service follows the
registry on its own: `follow` reloads every `F1_MODEL_REFRESH_S` seconds, loading only what
changed). A reload that fails keeps the models already loaded."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from feature_store.online import published
from feature_store.store import Manifest, pull, store_root
from models.pyfunc import LoadedModel
from models.registry import CHALLENGER, CHAMPION, alias_version, load_version
from spec import STAGES, TARGETS
from spec import target as spec_target

log = logging.getLogger(__name__)
ALIASES = (CHAMPION, CHALLENGER)


@dataclass(frozen=True)
class Served(LoadedModel):
    """One loaded model version (what feature_store/predict.py's one path asks of a model,
    as for the CLI's), and when the service loaded it."""

    loaded_at: dt.datetime


@dataclass
class ServedModels:
    """Thread-safe holder of the loaded versions, by (registered name, alias): every target's
    model of every stage (the winner models answer; the finishing-order models add the
    markets)."""

    loaded: dict[tuple[str, str], Served] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # the published feature build the answers are computed from, and when it was published
    # (every f1_features run publishes, after every warehouse change: a race built on the
    # spot from the warehouse changes with it); part of every cache key, so new data, or a
    # version served again after a rollback, never meets an answer computed before
    features: str = "none"
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last_try: float = float("-inf")

    def reload(self) -> dict[str, Any]:
        """Resolve every alias and load what changed; on any failure keep the old model of
        that (name, alias). Returns what is served and what failed."""
        fresh: dict[tuple[str, str], Served] = {}
        errors: dict[str, str] = {}
        for name in (t.model_name(stage) for t in TARGETS for stage in STAGES.names):
            for alias in ALIASES:
                key = (name, alias)
                try:
                    version = alias_version(name, alias)
                    if version is None:
                        continue
                    current = self.loaded.get(key)
                    if current is not None and current.version == version:
                        fresh[key] = current
                        continue
                    model = load_version(name, version)
                    fresh[key] = Served(name, version, alias, model, dt.datetime.now(dt.UTC))
                except Exception as error:  # noqa: BLE001 (any failure keeps the old model)
                    errors[f"{name}@{alias}"] = f"{type(error).__name__}: {error}"
                    log.error(
                        "loading %s@%s failed, keeping the loaded one: %s", name, alias, error
                    )
                    if key in self.loaded:
                        fresh[key] = self.loaded[key]
        try:  # the shared build first (F1_ARTIFACTS_URL on S3), then the local one
            manifest = pull()
        except Exception as error:  # noqa: BLE001 (S3 away: keep serving the local build)
            log.error("fetching the shared feature build failed: %s", error)
            manifest = Manifest.read(store_root())
        if manifest is not None:
            try:  # the build in memory before a request needs it
                published(store_root(), manifest)
            except Exception:  # noqa: BLE001 (a request loads it, or says what is wrong)
                log.exception("loading the published feature build %s failed", manifest.build_id)
        with self._lock:
            changed = {
                key: (self.loaded[key].version if key in self.loaded else None, served.version)
                for key, served in fresh.items()
                if key not in self.loaded or self.loaded[key].version != served.version
            }
            self.loaded, self.errors = fresh, errors
            self.features = features_tag(manifest)
        for (name, alias), (old, new) in changed.items():
            log.info("now serving %s@%s v%s (was %s)", name, alias, new, old)
        return self.describe()

    def get(self, stage: str, alias: str, target: str = "winner") -> Served | None:
        name = spec_target(target).model_name(stage)
        with self._lock:
            return self.loaded.get((name, alias))

    def champion(
        self, stage: str, retry_seconds: float = 30.0, target: str = "winner"
    ) -> Served | None:
        """The stage's champion; when none is loaded, look in the registry again (at most
        every `retry_seconds`), so a service started before the first training picks it up."""
        served = self.get(stage, CHAMPION, target)
        if served is None and time.monotonic() - self._last_try > retry_seconds:
            self._last_try = time.monotonic()
            self.reload()
            served = self.get(stage, CHAMPION, target)
        return served

    def describe(self) -> dict[str, Any]:
        """`{"models": {stage: {alias: version}}, "order_models": {…}, "errors": {...}}`:
        the winner models, and the finishing-order models that add the markets."""
        with self._lock:
            out: dict[str, Any] = {"errors": dict(self.errors)}
            for key, target in (("models", "winner"), ("order_models", "order")):
                table: dict[str, dict[str, str]] = {stage: {} for stage in STAGES.names}
                for stage in STAGES.names:
                    for alias in ALIASES:
                        served = self.loaded.get((spec_target(target).model_name(stage), alias))
                        if served is not None:
                            table[stage][alias] = served.version
                out[key] = table
            return out


def features_tag(manifest: Manifest | None) -> str:
    """The published build as the cache keys name it: its id and when it was published."""
    return "none" if manifest is None else f"{manifest.build_id}@{manifest.built_at}"


async def follow(models: ServedModels, interval_s: float) -> None:
    """Reload every `interval_s` seconds until cancelled: a promotion, a new challenger or a
    rollback made anywhere (a DAG, the CLI, another replica) is served within one interval."""
    from serving.capacity import settle_heap

    while True:
        await asyncio.sleep(interval_s)
        try:
            before = models.describe()["models"]
            if (await asyncio.to_thread(models.reload))["models"] != before:
                settle_heap()  # the new models out of the collector's reach, as at start-up
        except Exception:  # noqa: BLE001 (the next round tries again)
            log.exception("following the model registry failed; keeping the loaded models")


def arm(client_id: str, share: float) -> str:
    """`challenger` for a stable `share` of client ids, else `champion` (sticky: a hash of the
    id, so one client always lands on the same side)."""
    digest = hashlib.sha256(client_id.encode()).digest()
    bucket = int.from_bytes(digest[:8], "big") % 10_000
    return CHALLENGER if bucket < round(share * 10_000) else CHAMPION
