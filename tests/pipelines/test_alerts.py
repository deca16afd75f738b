"""Posting a failed task to the alert webhook (a real local HTTP server)."""

from __future__ import annotations

import socket
from typing import Any

from pipelines.alerts import failure_message, post_webhook, report_outcome
from tests.servers.webhook import Webhook

OUTCOME: dict[str, Any] = {
    "dag_id": "f1_ingest",
    "task_id": "ingest",
    "run_id": "scheduled__2026-11-16",
    "try_number": 3,
    "error": "HTTPError: 503 from the F1 API",
    "log_url": "http://airflow:8080/dags/f1_ingest/runs/x/tasks/ingest",
}


def test_a_server_error_is_retried_and_a_refusal_is_not(webhook: Webhook) -> None:
    webhook.statuses = [500, 502]
    assert post_webhook(webhook.url, failure_message(OUTCOME)) is True
    (post,) = webhook.posts  # the third attempt got through
    assert post["text"] == (
        ":red_circle: Airflow task failed: f1_ingest.ingest (run scheduled__2026-11-16, try 3): "
        "HTTPError: 503 from the F1 API\nLog: http://airflow:8080/dags/f1_ingest/runs/x/tasks/ingest"
    )
    assert post["dag_id"] == "f1_ingest" and post["try_number"] == 3

    webhook.statuses = [404, 200]
    assert post_webhook(webhook.url, {"text": "x"}) is False
    assert webhook.statuses == [200]  # asked once only
    webhook.statuses = [500, 500, 500]
    assert post_webhook(webhook.url, {"text": "x"}) is False
    assert len(webhook.posts) == 1


def test_an_unreachable_webhook_or_warehouse_never_raises(
    webhook: Webhook, monkeypatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert post_webhook(f"http://127.0.0.1:{port}/hook", {"text": "x"}, timeout_s=1) is False
    # a warehouse that cannot be written: the outcome is logged, the webhook still gets it
    monkeypatch.setenv("F1_DATABASE_URL", "sqlite:////nonexistent/dir/warehouse.db")
    report_outcome(OUTCOME, "failed")
    assert "could not record failed of f1_ingest.ingest" in caplog.text
    assert [p["task_id"] for p in webhook.posts] == ["ingest"]
