"""Runs a suite on a frame with an ephemeral Great Expectations context; keeps the result
as JSON and renders Great Expectations Data Docs (HTML) under one folder."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)
EXAMPLES = 5
KEEP_RUNS = 20  # the newest results of each suite kept on the Data Docs site


@dataclass(frozen=True)
class Failure:
    """One failed expectation: its name, how many rows broke it, a few of them."""

    expectation: str
    kind: str
    unexpected: int
    examples: list[str]

    def __str__(self) -> str:
        return f"'{self.expectation}' failed on {self.unexpected} rows, e.g. {self.examples}"


@dataclass(frozen=True)
class Report:
    """A validation's outcome and where its JSON result and Data Docs are."""

    dataset: str
    success: bool
    expectations: int
    rows: int
    failures: list[Failure] = field(default_factory=list)
    result_json: str = ""
    data_docs: str = ""

    def __str__(self) -> str:
        head = (
            f"{self.dataset}: {'passed' if self.success else 'FAILED'} "
            f"({self.expectations - len(self.failures)}/{self.expectations} expectations, "
            f"{self.rows:,} rows)"
        )
        lines = [head, *(f"  - {failure}" for failure in self.failures)]
        lines.append(f"  result: {self.result_json}")
        lines.append(f"  data docs: {self.data_docs}")
        return "\n".join(lines)


def run_suite(dataset: str, frame: pd.DataFrame, suite: Any, out: Path) -> Report:
    """Validate `frame` against `suite`; write `out`/results/*.json and data_docs/."""
    return run_suites([(dataset, frame, suite)], out)[0]


def run_suites(
    batches: list[tuple[str, pd.DataFrame, Any]], out: Path, announce: bool = True
) -> list[Report]:
    """Validate each (dataset, frame, suite) in one ephemeral context and one checkpoint,
    so the Data Docs are rendered once for all of them (rendering, not validating, is what
    costs: about a second per build); write `out`/results/*.json and data_docs/ (a folder:
    pipelines/validate.py keeps a site shared on S3 by pulling it here, then pushing it back).
    """
    return _run(batches, Path(out), announce)


def _run(
    batches: list[tuple[str, pd.DataFrame, Any]],
    out_dir: Path,
    announce: bool = True,
) -> list[Report]:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    docs = out_dir / "data_docs"
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    # The results live beside the site, so every build renders every suite's results (an
    # ephemeral context alone holds only this run's, and GX removes the pages of results its
    # store does not hold). Each result page lists its suite's expectations, so the site has
    # no separate expectations section (it would show this run's suites alone).
    results = {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(out_dir / "gx")}
    context.add_store(
        "f1_results",
        {"class_name": "ValidationResultsStore", "store_backend": results},  # type: ignore[typeddict-item]
    )
    context.variables.validation_results_store_name = "f1_results"
    context.add_data_docs_site(
        site_name="f1",
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "site_section_builders": {"expectations": "None", "profiling": "None"},
        },
    )
    source = context.data_sources.add_pandas("f1")
    reports = []
    for dataset, frame, suite in batches:
        batch = source.add_dataframe_asset(dataset).add_batch_definition_whole_dataframe("all")
        suite.name = dataset  # one suite may check several datasets (the features' stages)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(data=batch, suite=context.suites.add(suite), name=dataset)
        )
        result = definition.run(
            batch_parameters={"dataframe": frame},
            result_format={"result_format": "COMPLETE", "partial_unexpected_count": EXAMPLES},
        )
        failures = [_failure(r, frame) for r in result.results if not r.success]
        stamp = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}"
        path = out_dir / "results" / f"{dataset}-{stamp}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        report = Report(
            dataset,
            bool(result.success),
            len(result.results),
            len(frame),
            failures,
            str(path),
            str(docs / "index.html"),
        )
        path.write_text(
            json.dumps(
                {"report": asdict(report), "great_expectations": result.to_json_dict()},
                indent=2,
                default=str,
            )
        )
        if announce:
            (log.info if report.success else log.error)("%s", report)
        reports.append(report)
    prune(context.validation_results_store.store_backend, KEEP_RUNS)
    context.build_data_docs(site_names=["f1"])  # every result of this call, rendered once
    return reports


def _failure(result: Any, frame: pd.DataFrame) -> Failure:
    config = result.expectation_config
    meta = config.meta or {}
    name = meta.get("name") or config.type
    details = result.result or {}
    indexes = details.get("unexpected_index_list") or []
    if indexes and "row" in frame.columns and not meta.get("described"):
        values = details.get("partial_unexpected_list") or []
        rows = frame["row"].iloc[[int(i) for i in indexes[:EXAMPLES]]].tolist()
        examples = [f"{row}: {value}" for row, value in zip(rows, values, strict=False)] or rows
    else:
        examples = [str(v) for v in (details.get("partial_unexpected_list") or [])[:EXAMPLES]]
    count = details.get("unexpected_count")
    return Failure(name, config.type, int(count if count is not None else len(frame)), examples)


def prune(backend: Any, keep: int) -> list[tuple[str, ...]]:
    """Remove all but the newest `keep` stored results of each suite (their pages go with them
    when the site is built); the keys removed."""
    by_suite: dict[tuple[str, ...], list[tuple[str, ...]]] = defaultdict(list)
    for key in backend.list_keys():
        by_suite[tuple(key[:-3])].append(tuple(key))  # (*suite, run name, run time, batch)
    removed = []
    for keys in by_suite.values():
        for key in sorted(keys, key=lambda k: k[-2], reverse=True)[keep:]:
            backend.remove_key(key)
            removed.append(key)
    return removed
