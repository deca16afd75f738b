"""Race predictions as the API and `f1 predict --json` give them, computed once per
(race, stage, model version) and cached."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from feature_store.online import get_entry_features, prediction_card
from feature_store.store import Manifest, store_root
from feature_store.view import feature_names
from serving.cache import Cache
from serving.served import Served


def race_prediction(
    engine: Engine, cache: Cache, served: Served, season: int, round_: int, stage: str
) -> dict[str, Any]:
    """Every entrant's win probability from `served` (raises NoEntrants for an unknown race or
    one nobody is known to enter)."""
    key = f"prediction:{season}:{round_}:{stage}:{served.name}:{served.version}"
    hit = cache.get(key)
    if hit is not None:
        return hit
    started = time.perf_counter()
    manifest = Manifest.read(store_root())
    rows = get_entry_features(engine, season, round_, stage)
    if manifest is not None and _published(rows, manifest):
        as_of = manifest.built_at
    else:
        as_of = dt.datetime.now(dt.UTC).isoformat()
    probs = served.model.predict(rows[["race_id", "driver_id", *feature_names(stage)]])
    answer = prediction_card(engine, rows, probs["probability"].to_numpy(), season, round_, stage)
    answer["model"] = {"name": served.name, "version": served.version, "alias": served.alias}
    answer["features_as_of"] = as_of
    answer["computed_ms"] = round((time.perf_counter() - started) * 1000, 1)
    cache.set(key, answer)
    return answer


def _published(rows: pd.DataFrame, manifest: Manifest) -> bool:
    # The online lookup serves published rows when the race is in the store; it builds rows on
    # the spot only for races after the last published build.
    last = manifest.stages.get(str(rows["stage"].iloc[0]), {}).get("last")
    return bool(last) and [int(rows["season"].iloc[0]), int(rows["round"].iloc[0])] <= list(
        last or []
    )
