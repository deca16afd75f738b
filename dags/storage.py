"""The artifact store seen from inside a DAG: uploads go through the Amazon provider's S3Hook,
so the Airflow connection (`F1_AWS_CONN_ID`, default `aws_default`: keys, region, and
`endpoint_url` in its extra for MinIO) decides how S3 is reached."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # parsing a DAG file must not import the pipelines
    from warehouse.artifacts import Upload


def hook_upload() -> Upload:
    """upload(path, bucket, key) through one S3Hook."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    hook = S3Hook(aws_conn_id=os.environ.get("F1_AWS_CONN_ID", "aws_default"))

    def upload(path: Path, bucket: str, key: str) -> None:
        hook.load_file(str(path), key, bucket_name=bucket, replace=True)

    return upload
