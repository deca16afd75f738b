"""Every DAG file parses, cheaply, and follows the house rules."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from dags.callbacks import on_failure, on_success
from tests.dags.conftest import DAGS

HELPERS = {"__init__", "assets", "callbacks", "storage"}  # imported by the DAG files
DAG_FILES = sorted(p for p in DAGS.glob("*.py") if p.stem not in HELPERS)
HEAVY = [
    "pandas",
    "numpy",
    "sklearn",
    "xgboost",
    "mlflow",
    "great_expectations",
    "sqlalchemy",
    "warehouse",
    "pipelines",
    "feature_store",
    "models",
    "expectations",
    "bot",
]

PARSE_PROBE = """
import importlib.util, json, sys, time
import airflow.sdk  # Airflow's own import cost (it loads sqlalchemy itself) is not ours
def tops(names):
    return {name.split(".")[0] for name in names}
before = tops(sys.modules)
path = sys.argv[1]
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("probe", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
added = sorted(tops(sys.modules) - before)
print(json.dumps({"seconds": time.perf_counter() - started, "added": added}))
"""


def test_dag_files_parse_without_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert {p.stem for p in DAG_FILES} <= set(dagbag.dag_ids)


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_parsing_imports_nothing_heavy(path) -> None:
    """What parsing imports; how long it takes is measured by bench/dag_parse.py."""
    done = subprocess.run(
        [sys.executable, "-c", PARSE_PROBE, str(path)], capture_output=True, text=True, check=True
    )
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert not set(probe["added"]) & set(HEAVY), probe["added"]


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_house_rules(dagbag, path) -> None:
    dag = dagbag.dags[path.stem]
    assert dag.dag_id == path.stem
    assert dag.catchup is False
    assert dag.tags
    assert dag.doc_md and dag.doc_md.strip()
    assert dag.start_date.utcoffset() == dt.timedelta(0)
    for task in dag.tasks:
        assert task.retries >= 2, task.task_id
        assert task.retry_delay > dt.timedelta(0), task.task_id
        # every task reports its outcome (monitoring) and its failure (the webhook)
        assert on_failure in task.on_failure_callback, task.task_id
        assert on_success in task.on_success_callback, task.task_id


@pytest.mark.parametrize("dag_id", ["f1_ingest", "f1_train", "polymarket_bot"])
def test_unpausing_never_starts_a_run_for_a_time_already_past(dagbag, dag_id: str) -> None:
    """What the dag-processor computes for a parsed DAG (and the scheduler creates once due):
    its first run is in the future, and after a long pause the next one is at most the grace
    late — never the catch-up run Airflow's cron timetables make with catchup=False."""
    import pendulum
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.timetables.base import DagRunInfo

    from plugins.timetables import GRACE

    scheduled = DagSerialization.deserialize_dag(
        DagSerialization.serialize_dag(dagbag.dags[dag_id])
    )
    now = dt.datetime.now(dt.UTC)
    first = scheduled.next_dagrun_info(last_automated_run_info=None)
    assert first is not None and first.run_after >= now
    month_ago = DagRunInfo.exact(pendulum.instance(now - dt.timedelta(days=30)))
    resumed = scheduled.next_dagrun_info(last_automated_run_info=month_ago)
    assert resumed is not None and resumed.run_after >= now - GRACE
