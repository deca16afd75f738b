"""Task callbacks of every DAG: the outcome goes to the warehouse (`pipeline_status`, read by
the service's /metrics and Prometheus' alerts) and a failure to the webhook in
`F1_ALERT_WEBHOOK_URL`. A failure callback runs once a task has failed for good (after its
retries), so a retried blip does not page anyone."""

from __future__ import annotations

from typing import Any


def _outcome(context: Any) -> dict[str, Any]:
    ti = context["ti"]
    error = context.get("exception")
    return {
        "dag_id": ti.dag_id,
        "task_id": ti.task_id,
        "run_id": ti.run_id,
        "try_number": ti.try_number,
        "logical_date": str(context.get("logical_date") or ""),
        "error": f"{type(error).__name__}: {error}" if error else None,
        "log_url": getattr(ti, "log_url", None),
    }


def on_failure(context: Any) -> None:
    from pipelines.alerts import report_outcome

    report_outcome(_outcome(context), "failed")


def on_success(context: Any) -> None:
    from pipelines.alerts import report_outcome

    report_outcome(_outcome(context), "success")


CALLBACKS: dict[str, Any] = {"on_failure_callback": on_failure, "on_success_callback": on_success}
