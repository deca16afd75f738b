"""The offline store: the view materialised as Parquet under $F1_HOME/features.

A build is written to a staging folder first and published (renamed into place, manifest last)
only after it passed validation, so the features in service are never half-written or
replaced by a failed build. The build id is a hash of the content: the same data gives the
same id, and a rebuild that changes nothing changes nothing.

With `F1_ARTIFACTS_URL` on S3 the published builds are shared: `publish` also uploads the build
to `<url>/features/<view>/builds/<build id>/` and then the manifest to
`<url>/features/<view>/manifest.json` (last: a reader never sees a manifest before its files),
and `pull` brings the build that manifest names into the local folder, which is then a cache.
Workers and service replicas on other machines read the same builds.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from feature_store.view import KEY, NAME, VERSION
from spec import STAGES
from spec.settings import WarehouseSettings


def store_root(home: Path | None = None) -> Path:
    """Where the view's published files live (under `home`, default F1_HOME)."""
    if home is not None:
        return home.resolve() / "features" / NAME
    return _root_of(os.environ.get("F1_HOME"), os.getcwd())


@functools.lru_cache(maxsize=8)
def _root_of(f1_home: str | None, cwd: str) -> Path:
    # F1_HOME is the only setting the root depends on (a relative one on the working
    # directory): the settings are read once per value, not on every request
    return WarehouseSettings().f1_home.resolve() / "features" / NAME


def build_id(views: dict[str, pd.DataFrame]) -> str:
    """A content hash of the views (order-independent within a stage)."""
    digest = hashlib.sha256()
    for stage in sorted(views):
        frame = views[stage].sort_values(list(KEY)).reset_index(drop=True)
        digest.update(stage.encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Manifest:
    """What a published build holds."""

    view: str
    version: int
    build_id: str
    built_at: str
    stages: dict[str, dict[str, Any]]

    @classmethod
    def read(cls, root: Path) -> Manifest | None:
        """The published manifest, or None when nothing is published."""
        path = root / "manifest.json"
        try:
            seen = path.stat()
        except FileNotFoundError:
            return None
        # read once per file: publishing swaps in a new file (a new inode), so the key moves
        key = (str(path), seen.st_ino, seen.st_mtime_ns, seen.st_size)
        held = _MANIFESTS.get(key)
        if held is None:
            held = cls(**json.loads(path.read_text()))
            if len(_MANIFESTS) > 64:
                _MANIFESTS.clear()
            _MANIFESTS[key] = held
        return held


_MANIFESTS: dict[tuple[str, int, int, int], Manifest] = {}


def stage_build(views: dict[str, pd.DataFrame], root: Path) -> tuple[str, Path]:
    """Write `views` to a staging folder; (build id, folder)."""
    ident = build_id(views)
    staging = root.parent / f".{NAME}-staging-{ident}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    stages = {}
    for stage, frame in views.items():
        frame.to_parquet(staging / f"{stage}.parquet", index=False)
        races = frame[["season", "round"]].drop_duplicates().sort_values(["season", "round"])
        stages[stage] = {
            "rows": len(frame),
            "races": len(races),
            "first": races.iloc[0].tolist() if len(races) else None,
            "last": races.iloc[-1].tolist() if len(races) else None,
        }
    manifest = Manifest(NAME, VERSION, ident, dt.datetime.now(dt.UTC).isoformat(), stages)
    (staging / "manifest.json").write_text(json.dumps(manifest.__dict__, indent=2, default=int))
    url = shared_url()
    if url is not None:  # the next task (validate, publish) may run on another machine
        _upload_build(staging, manifest, url)
    return ident, staging


def staged(ident: str, staging: Path) -> Path:
    """The staging folder of build `ident`, fetched from the shared store when this machine
    does not hold it (the build ran on another worker)."""
    url = shared_url()
    if (staging / "manifest.json").exists() or url is None:
        return staging
    from warehouse.artifacts import s3_client, split_s3

    bucket, prefix = split_s3(url)
    client = s3_client()
    fetched = Path(tempfile.mkdtemp(prefix=f".{NAME}-fetch-", dir=_parent(staging)))
    body = client.get_object(Bucket=bucket, Key=f"{prefix}/builds/{ident}/manifest.json")
    manifest = Manifest(**json.loads(body["Body"].read()))
    for stage in manifest.stages:
        key = f"{prefix}/builds/{ident}/{stage}.parquet"
        client.download_file(bucket, key, str(fetched / f"{stage}.parquet"))
    (fetched / "manifest.json").write_text(json.dumps(manifest.__dict__, indent=2, default=int))
    try:
        os.rename(fetched, staging)
    except OSError:  # another task of this machine fetched it meanwhile
        shutil.rmtree(fetched, ignore_errors=True)
    return staging


def _parent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.parent


def _upload_build(folder: Path, manifest: Manifest, url: str) -> None:
    from warehouse.artifacts import s3_client, split_s3

    bucket, prefix = split_s3(url)
    client = s3_client()
    for name in [*(f"{stage}.parquet" for stage in manifest.stages), "manifest.json"]:
        client.upload_file(
            str(folder / name), bucket, f"{prefix}/builds/{manifest.build_id}/{name}"
        )


def publish(staging: Path, root: Path) -> Manifest:
    """Swap a validated staging folder into place (the manifest moves last); with
    F1_ARTIFACTS_URL on S3, the shared manifest then names this build (its files were uploaded
    when it was staged)."""
    _swap_in(staging, root)
    manifest = Manifest.read(root)
    assert manifest is not None
    url = shared_url()
    if url is not None:
        from warehouse.artifacts import s3_client, split_s3

        bucket, prefix = split_s3(url)
        s3_client().upload_file(str(root / "manifest.json"), bucket, f"{prefix}/manifest.json")
    return manifest


def _swap_in(staging: Path, root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for stage in STAGES.names:
        source = staging / f"{stage}.parquet"
        if source.exists():
            os.replace(source, root / f"{stage}.parquet")
    os.replace(staging / "manifest.json", root / "manifest.json")
    shutil.rmtree(staging, ignore_errors=True)


def shared_url() -> str | None:
    """Where builds are shared (`<F1_ARTIFACTS_URL>/features/<view>`), when that is on S3."""
    url = WarehouseSettings().artifacts_url
    return f"{url}/features/{NAME}" if url.startswith("s3://") else None


def pull(root: Path | None = None, client: Any = None) -> Manifest | None:
    """The published manifest, after bringing the shared build (F1_ARTIFACTS_URL on S3) into
    the local folder when it is another; without S3, the local one."""
    root = root or store_root()
    url = shared_url()
    if url is None:
        return Manifest.read(root)
    from warehouse.artifacts import s3_client, split_s3

    bucket, prefix = split_s3(url)
    client = client or s3_client()
    try:
        body = client.get_object(Bucket=bucket, Key=f"{prefix}/manifest.json")["Body"].read()
    except client.exceptions.NoSuchKey:
        return Manifest.read(root)  # nothing shared yet
    remote = Manifest(**json.loads(body))
    local = Manifest.read(root)
    if local is not None and local.build_id == remote.build_id:
        return local
    staging = Path(tempfile.mkdtemp(prefix=f".{NAME}-pull-", dir=_parent(root)))
    for stage in remote.stages:
        key = f"{prefix}/builds/{remote.build_id}/{stage}.parquet"
        client.download_file(bucket, key, str(staging / f"{stage}.parquet"))
    (staging / "manifest.json").write_bytes(body)
    _swap_in(staging, root)
    return Manifest.read(root)


def read_offline(stage: str, root: Path | None = None, since: int | None = None) -> pd.DataFrame:
    """The published rows of `stage` (seasons ≥ `since`); training reads only this (the shared
    build first, with F1_ARTIFACTS_URL on S3)."""
    root = root or store_root()
    manifest = pull(root)
    if manifest is None:
        raise FileNotFoundError(f"no published {NAME} under {root}: run `f1 features build`")
    if stage not in manifest.stages:  # a stage declared after the last build
        raise FileNotFoundError(
            f"the published {NAME} under {root} has no rows of stage {stage}: run"
            " `f1 features build`"
        )
    filters = [("season", ">=", since)] if since is not None else None
    return pd.read_parquet(root / f"{stage}.parquet", filters=filters)


def changed_races(old: pd.DataFrame | None, new: pd.DataFrame) -> list[tuple[int, int]]:
    """(season, round) of the races whose rows differ between two builds of one stage."""
    if old is None or old.empty or list(old.columns) != list(new.columns):  # new, or new columns
        return sorted({(int(s), int(r)) for s, r in zip(new["season"], new["round"], strict=True)})
    columns = list(new.columns)
    both = pd.concat([old[columns], new], ignore_index=True)
    unique = both.drop_duplicates(keep=False)  # rows present in only one build
    return sorted(
        {(int(s), int(r)) for s, r in zip(unique["season"], unique["round"], strict=True)}
    )
