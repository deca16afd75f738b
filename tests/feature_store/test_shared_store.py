"""With F1_ARTIFACTS_URL on S3 (moto's server), a feature build staged or published on one
machine is read on another: each machine's folder is only a cache of the shared builds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from feature_store.store import Manifest, pull, read_offline, staged
from feature_store.view import NAME
from pipelines.features import FeatureBuild, build_features, publish_build
from tests.servers.s3 import S3


def test_a_build_staged_on_one_machine_is_published_and_read_on_others(
    history, s3: S3, tmp_path: Path
) -> None:
    one, two, three = (tmp_path / name / "features" / NAME for name in ("one", "two", "three"))
    shared = f"platform/features/{NAME}"

    build = build_features(history, one)  # machine one: the build task
    keys = s3.keys(shared)
    assert f"{shared}/builds/{build.build_id}/post_quali.parquet" in keys
    assert f"{shared}/builds/{build.build_id}/manifest.json" in keys
    assert f"{shared}/manifest.json" not in keys  # staged, not in service
    assert pull(two) is None

    # machine two: the publish task, which finds no staging folder of its own
    summary = build.summary()
    elsewhere = tmp_path / "two" / "features" / f".{NAME}-staging-{build.build_id}"
    assert Path(str(summary["staging"])) != elsewhere
    fetched = staged(build.build_id, elsewhere)
    staged_here = pd.read_parquet(build.staging / "post_quali.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(fetched / "post_quali.parquet"), staged_here)
    manifest = publish_build(FeatureBuild(build.build_id, fetched), two)
    assert s3.read(f"{shared}/manifest.json") == (two / "manifest.json").read_bytes()

    # machine three (a service replica, a training worker) reads it through its cache
    assert Manifest.read(three) is None
    pulled = pull(three)
    assert pulled is not None and pulled.build_id == manifest.build_id
    frame = read_offline("post_quali", three)
    pd.testing.assert_frame_equal(frame, staged_here)
    assert len(frame) == manifest.stages["post_quali"]["rows"]
    # a current cache downloads nothing again (the same files, not new ones)
    inode = (three / "post_quali.parquet").stat().st_ino
    assert pull(three) == pulled and (three / "post_quali.parquet").stat().st_ino == inode
