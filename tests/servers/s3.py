"""moto's S3 in server mode on 127.0.0.1: a real HTTP endpoint boto3, MLflow and the Airflow
S3Hook talk to exactly as they would to S3 or MinIO."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

KEYS = {
    "AWS_ACCESS_KEY_ID": "test-access-key",
    "AWS_SECRET_ACCESS_KEY": "test-secret-key",  # nosec B105 (moto accepts any key)
    "AWS_DEFAULT_REGION": "us-east-1",
}


def airflow_connection(endpoint: str) -> str:
    """An Airflow AWS connection (as AIRFLOW_CONN_… JSON) to the server at `endpoint`."""
    return json.dumps(
        {
            "conn_type": "aws",
            "login": KEYS["AWS_ACCESS_KEY_ID"],
            "password": KEYS["AWS_SECRET_ACCESS_KEY"],
            "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
        }
    )


@dataclass
class S3:
    """One fresh bucket on the local server; `client` is boto3 pointed at it."""

    endpoint: str
    bucket: str
    client: Any

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> S3:
    """A new bucket, with F1_ARTIFACTS_URL=s3://<bucket>/platform and boto3's variables
    (AWS_ENDPOINT_URL_S3 and keys) pointing every S3 client of the process at the server."""
    import boto3

    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_server)
    bucket = f"f1-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_server)
    client.create_bucket(Bucket=bucket)
    monkeypatch.setenv("F1_ARTIFACTS_URL", f"s3://{bucket}/platform")
    return S3(s3_server, bucket, client)
