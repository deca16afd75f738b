"""Task outcomes of the DAGs: kept in the warehouse for monitoring, and failures posted to a
webhook (`F1_ALERT_WEBHOOK_URL`: Slack, Mattermost, Teams' incoming webhooks, or anything that
takes a JSON POST). Neither may fail the task it reports on: errors are logged."""

from __future__ import annotations

import logging
import os
from typing import Any

import httpx

from warehouse.db import make_engine, transaction
from warehouse.operations import record_task

log = logging.getLogger(__name__)
ATTEMPTS = 3


def failure_message(outcome: dict[str, Any]) -> dict[str, Any]:
    """The webhook body: `text` for chat tools, the fields for anything else."""
    text = (
        f":red_circle: Airflow task failed: {outcome['dag_id']}.{outcome['task_id']} "
        f"(run {outcome['run_id']}, try {outcome.get('try_number')}): {outcome.get('error')}"
    )
    if outcome.get("log_url"):
        text += f"\nLog: {outcome['log_url']}"
    return {"text": text, **outcome}


def post_webhook(url: str, body: dict[str, Any], timeout_s: float = 5.0) -> bool:
    """POST `body` as JSON, up to 3 attempts; whether the webhook took it (2xx)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            response = httpx.post(url, json=body, timeout=timeout_s)
            if response.is_success:
                return True
            log.warning("alert webhook answered %s (attempt %d)", response.status_code, attempt)
            if response.status_code < 500:
                return False  # refused: asking again will not help
        except httpx.HTTPError as error:
            log.warning("alert webhook unreachable (attempt %d): %s", attempt, error)
    return False


def report_outcome(outcome: dict[str, Any], state: str) -> None:
    """Record (dag_id, task_id)'s outcome in the warehouse; post failures to the webhook."""
    try:
        engine = make_engine()
        try:
            with transaction(engine) as session:
                record_task(
                    session,
                    outcome["dag_id"],
                    outcome["task_id"],
                    outcome["run_id"],
                    state,
                    outcome.get("error"),
                )
        finally:
            engine.dispose()
    except Exception:  # monitoring must never fail the task it reports on
        log.exception("could not record %s of %s.%s", state, outcome["dag_id"], outcome["task_id"])
    url = os.environ.get("F1_ALERT_WEBHOOK_URL")
    if state == "failed" and url:
        post_webhook(url, failure_message(outcome))
