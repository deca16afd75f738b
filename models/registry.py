"""MLflow locations, registered model names and aliases (never stages)."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from spec import stage as spec_stage
from spec import target as spec_target
from spec.settings import WarehouseSettings

CHAMPION, CHALLENGER = "champion", "challenger"
T = TypeVar("T")
log = logging.getLogger(__name__)


def model_name(stage: str, target: str = "winner") -> str:
    """The registered model of `target` at `stage`, as the spec names it
    (`f1_winner_post_quali`); UnknownName for a stage or target the spec does not declare."""
    return spec_target(target).model_name(spec_stage(stage))


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI, else SQLite under F1_HOME."""
    home = WarehouseSettings().f1_home.resolve()
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{home / 'mlflow.db'}"


def artifact_location(name: str) -> str | None:
    """Where a new experiment `name` keeps its artifacts: `<F1_ARTIFACTS_URL>/mlflow/<name>`
    when that is S3; with a tracking server and no S3 URL, the server's own default (None);
    otherwise `<F1_ARTIFACTS_URL folder, default F1_HOME>/mlartifacts/<name>`."""
    settings = WarehouseSettings()
    if settings.artifacts_url.startswith("s3://"):
        return f"{settings.artifacts_url}/mlflow/{name}"
    if tracking_uri().startswith(("http://", "https://")):
        return None
    return (Path(settings.artifacts_url) / "mlartifacts" / name).resolve().as_uri()


def experiment_id(name: str) -> str:
    """The id of experiment `name`, created (with its artifact location) when missing."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri())
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.tags.get(KIND_TAG) != KIND:
            mlflow.MlflowClient().set_experiment_tag(experiment.experiment_id, KIND_TAG, KIND)
        return str(experiment.experiment_id)
    return str(
        mlflow.create_experiment(
            name, artifact_location=artifact_location(name), tags={KIND_TAG: KIND}
        )
    )


# the experiment's kind, for MLflow's API and older UIs; MLflow 3.17's UI reads its own
# "workflow type" instead, which models/mlflow_ui.py makes "Model training" by default
KIND_TAG, KIND = "mlflow.experimentKind", "custom_model_development"


def training_run(name: str, title: str, started_at: float) -> Any:
    """An active MLflow run in experiment `name`, called `title` (e.g. "train post_quali
    2016–2024"), dated from `started_at` (epoch seconds, when the training began): the UI
    shows the training's real duration, not only the logging at its end."""
    import mlflow

    run = mlflow.MlflowClient().create_run(
        experiment_id(name), start_time=int(started_at * 1000), run_name=title
    )
    return mlflow.start_run(run_id=run.info.run_id)


def client() -> Any:
    """An MLflow client on the configured tracking store."""
    import mlflow
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(tracking_uri())
    return MlflowClient()


def alias_version(name: str, alias: str) -> str | None:
    """The version of `name` carrying `alias`, or None when there is no such model or alias;
    any other failure (an unreachable or broken tracking store) raises."""
    from mlflow.exceptions import MlflowException

    try:
        return str(client().get_model_version_by_alias(name, alias).version)
    except MlflowException as error:
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


@lru_cache(maxsize=16)
def load_version(name: str, version: str) -> Any:
    """The pyfunc of one registered version (cached: a version never changes)."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri())
    return mlflow.pyfunc.load_model(f"models:/{name}/{version}")


class PromotionError(RuntimeError):
    """An alias cannot be moved as asked (unknown version, nothing to roll back to…)."""


def move_champion(
    name: str,
    version: str,
    action: str,
    reason: str,
    evidence: dict[str, Any],
    actor: str,
    record: Callable[[str | None, dt.datetime], T],
) -> T:
    """Give `version` the champion alias and tag the version with why; `record(previous,
    when)` stores the move elsewhere (the warehouse). If recording fails, the alias goes back
    to the previous version, so no move is ever left unrecorded."""
    import json

    from mlflow.exceptions import MlflowException

    registry = client()
    try:
        registry.get_model_version(name, version)
    except MlflowException:
        raise PromotionError(f"{name} has no version {version}") from None
    previous = alias_version(name, CHAMPION)
    when = dt.datetime.now(dt.UTC)
    registry.set_registered_model_alias(name, CHAMPION, str(version))
    try:
        stored = record(previous, when)
    except Exception:
        if previous is None:
            registry.delete_registered_model_alias(name, CHAMPION)
        else:
            registry.set_registered_model_alias(name, CHAMPION, previous)
        raise
    stamp = when.isoformat(timespec="seconds")
    tags = {
        "promoted_at": stamp,
        "promotion_action": action,
        "promotion_reason": reason,
        "promotion_evidence": json.dumps(evidence, default=str)[:4500],
        "promoted_by": actor,
    }
    for key, value in tags.items():
        registry.set_model_version_tag(name, str(version), key, value)
    if previous and previous != str(version):
        registry.set_model_version_tag(name, previous, "demoted_at", stamp)
    log.info("%s: champion %s -> %s (%s: %s)", name, previous, version, action, reason)
    return stored
