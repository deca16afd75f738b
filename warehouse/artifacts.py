"""The artifact store for files people read: backtest reports and season exports.

`F1_ARTIFACTS_URL` decides where they go: `s3://bucket[/prefix]` (AWS S3, or MinIO through
boto3's `AWS_ENDPOINT_URL_S3`), else a folder (default `F1_HOME`). Files land under
`<url>/<key prefix>/<file name>`; re-publishing the same file replaces it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spec.settings import WarehouseSettings

# upload(local file, bucket, key): boto3 by default; DAGs pass the Amazon provider's S3Hook.
Upload = Callable[[Path, str, str], None]


def split_s3(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` as (bucket, "some/prefix"); names what is wrong otherwise."""
    if not url.startswith("s3://"):
        raise ValueError(f"not an S3 URL: {url!r} (expected s3://bucket/prefix)")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"S3 URL without a bucket: {url!r}")
    return bucket, prefix.strip("/")


def boto3_upload() -> Upload:
    """upload(path, bucket, key) through one boto3 S3 client, configured by the standard AWS
    variables (AWS_ENDPOINT_URL_S3 for MinIO)."""
    import boto3

    client = boto3.client("s3")

    def upload(path: Path, bucket: str, key: str) -> None:
        client.upload_file(str(path), bucket, key)

    return upload


def publish(
    paths: list[Path], key_prefix: str, url: str | None = None, upload: Upload | None = None
) -> list[str]:
    """Put each file at `<url>/<key_prefix>/<name>` (url: F1_ARTIFACTS_URL); what was written,
    as s3:// URLs or local paths."""
    base = url or WarehouseSettings().artifacts_url
    key_prefix = key_prefix.strip("/")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"nothing to publish at {', '.join(missing)}")
    written = []
    if base.startswith("s3://"):
        bucket, prefix = split_s3(base)
        put = upload or boto3_upload()
        for path in paths:
            key = "/".join(p for p in (prefix, key_prefix, path.name) if p)
            put(path, bucket, key)
            written.append(f"s3://{bucket}/{key}")
        return written
    folder = Path(base) / key_prefix
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        target = folder / path.name
        if path.resolve() != target.resolve():
            shutil.copy2(path, target)
        written.append(str(target))
    return written


def s3_client() -> Any:
    """boto3's S3 client, configured by the standard AWS variables (AWS_ENDPOINT_URL_S3 for
    MinIO)."""
    import boto3

    return boto3.client("s3")


def pull_tree(url: str, folder: Path, client: Any = None) -> list[str]:
    """Copy every object under the S3 prefix `url` into `folder` (same relative paths); the
    relative paths copied."""
    bucket, prefix = split_s3(url)
    client = client or s3_client()
    copied = []
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"{prefix}/" if prefix else ""
    ):
        for item in page.get("Contents", []):
            relative = item["Key"][len(prefix) :].lstrip("/")
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, item["Key"], str(target))
            copied.append(relative)
    return copied


def push_tree(
    folder: Path, url: str, pulled: list[str] | None = None, client: Any = None
) -> tuple[int, int]:
    """Upload every file of `folder` under the S3 prefix `url` and remove the objects that were
    `pulled` from there but are gone from `folder` now (objects others wrote meanwhile stay);
    (files uploaded, objects removed)."""
    bucket, prefix = split_s3(url)
    client = client or s3_client()
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    for relative in sorted(present):
        client.upload_file(
            str(folder / relative), bucket, "/".join(filter(None, (prefix, relative)))
        )
    gone = sorted(set(pulled or []) - present)
    for start in range(0, len(gone), 1000):  # delete_objects takes up to 1,000 keys
        keys = [{"Key": "/".join(filter(None, (prefix, r)))} for r in gone[start : start + 1000]]
        client.delete_objects(Bucket=bucket, Delete={"Objects": keys})
    return len(present), len(gone)
