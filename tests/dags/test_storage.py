"""The artifact store seen from a DAG: uploads through the S3Hook reach S3 (moto's server) with
only the Airflow connection knowing where it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.servers.s3 import KEYS, S3, airflow_connection


def test_the_hook_upload_needs_only_the_airflow_connection(
    s3: S3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dags.storage import hook_upload

    for name in (*KEYS, "AWS_ENDPOINT_URL_S3"):  # boto3 alone would not find the server
        monkeypatch.delenv(name)
    monkeypatch.setenv("F1_AWS_CONN_ID", "f1_s3")
    monkeypatch.setenv("AIRFLOW_CONN_F1_S3", airflow_connection(s3.endpoint))
    path = tmp_path / "results.csv"
    path.write_text("season,round\n2024,24\n")

    upload = hook_upload()
    upload(path, s3.bucket, "platform/exports/season=2024/results.csv")
    upload(path, s3.bucket, "platform/exports/season=2024/results.csv")  # replaced, no error

    assert s3.read("platform/exports/season=2024/results.csv") == path.read_bytes()
    assert s3.keys("platform/") == ["platform/exports/season=2024/results.csv"]
