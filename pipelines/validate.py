"""Validation gates: load a dataset from the warehouse (or a feature build) and run its suite."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine

from feature_store.frames import read_sql
from spec.settings import WarehouseSettings

log = logging.getLogger(__name__)

RAW = ("races", "results", "qualifying", "practice", "standings", "weather")
DATASETS = (*RAW, "features")


class ValidationFailed(RuntimeError):
    """A suite failed; the message lists which expectations, on how many rows, with examples."""

    def __init__(self, reports: list[Any]) -> None:
        self.reports = reports
        super().__init__("\n".join(str(r) for r in reports if not r.success))


def validation_dir(home: Path | None = None) -> Path | str:
    """Where results (JSON) and Data Docs (HTML) are kept: `validation/` of the artifact store
    (F1_ARTIFACTS_URL: an S3 prefix, or a folder, by default F1_HOME), or of `home`."""
    if home is not None:
        return home.resolve() / "validation"
    url = WarehouseSettings().artifacts_url
    return f"{url}/validation" if url.startswith("s3://") else Path(url) / "validation"


def validate_raw(
    engine: Engine | Connection,
    datasets: tuple[str, ...] = RAW,
    season: int | None = None,
    out_dir: Path | str | None = None,
    seasons: list[int] | None = None,
) -> list[Any]:
    """Run the suites of the warehouse datasets (of `season`, or `seasons`, else all);
    reports (check `.success`)."""
    import importlib

    batches = []
    for name in datasets:
        module = importlib.import_module(f"expectations.{name}")
        sql = f"SELECT * FROM ({module.SQL}) AS dataset"  # nosec B608
        wanted = [season] if season is not None else seasons or []
        params = {f"season{i}": s for i, s in enumerate(wanted)}
        if wanted:
            sql += f" WHERE season IN ({', '.join(':' + p for p in params)})"
        frame = read_sql(engine, sql, params)
        batches.append((name, module.prepare(frame), module.suite()))
    return run_suites(batches, out_dir or validation_dir())


def validate_features(
    views: dict[str, pd.DataFrame], season: int | None = None, out_dir: Path | str | None = None
) -> list[Any]:
    """Run the features suite on each stage of a build (each with its own columns)."""
    from expectations import features
    from feature_store.view import features as stage_features

    batches = []
    for stage, frame in views.items():
        if season is not None:
            frame = frame[frame["season"] == season]
        columns = [(f.name, f.nullable, f.low, f.high) for f in stage_features(stage)]
        batches.append((f"features_{stage}", features.prepare(frame), features.suite(columns)))
    return run_suites(batches, out_dir or validation_dir())


def require(reports: list[Any]) -> None:
    """Raise ValidationFailed when any report failed."""
    if not all(r.success for r in reports):
        raise ValidationFailed(reports)


def run_suites(batches: list[tuple[str, pd.DataFrame, Any]], out: Path | str) -> list[Any]:
    """The suites run (expectations/runner.py) into `out`: a folder, or an S3 prefix
    (`s3://bucket/prefix`: the stored results and the site are pulled, rebuilt and pushed
    back, so builds on every machine add to the same site)."""
    from expectations.runner import run_suites as run_here

    if isinstance(out, str) and out.startswith("s3://"):
        with tempfile.TemporaryDirectory(prefix="f1-validation-") as scratch:
            return _run_on_s3(batches, out.rstrip("/"), Path(scratch))
    return run_here(batches, Path(out))


def _run_on_s3(batches: list[tuple[str, pd.DataFrame, Any]], url: str, scratch: Path) -> list[Any]:
    from warehouse.artifacts import publish, pull_tree, push_tree

    shared = ("gx", "data_docs")  # the stored results and the site rendered from them
    pulled = {part: pull_tree(f"{url}/{part}", scratch / part) for part in shared}
    from expectations.runner import run_suites as run_here

    reports = run_here(batches, scratch, announce=False)
    for part in shared:
        push_tree(scratch / part, f"{url}/{part}", pulled[part])
    shown = []
    for report in reports:
        (written,) = publish([Path(report.result_json)], "results", url)
        report = replace(report, result_json=written, data_docs=f"{url}/data_docs/index.html")
        (log.info if report.success else log.error)("%s", report)
        shown.append(report)
    return shown
