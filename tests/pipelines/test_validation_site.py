"""The Data Docs site keeps every suite's results across validation runs, in a folder and on S3
(moto's server), and keeps only each suite's newest pages."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.servers.s3 import S3


def _suite(column: str) -> object:
    import great_expectations as gx

    return gx.ExpectationSuite(
        name="unused",  # run_suites names the suite after its dataset
        expectations=[gx.expectations.ExpectColumnValuesToNotBeNull(column=column)],
    )


GOOD = pd.DataFrame({"a": [1, 2, 3]})
BAD = pd.DataFrame({"a": [1, None, 3]})


def _pages(index: str, dataset: str) -> int:
    return index.count(f"validations/{dataset}/")


def test_every_suite_stays_on_the_site_and_old_pages_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from expectations import runner
    from pipelines.validate import run_suites

    monkeypatch.setattr(runner, "KEEP_RUNS", 2)
    (alpha,) = run_suites([("alpha", GOOD, _suite("a"))], tmp_path)
    (beta,) = run_suites([("beta", BAD, _suite("a"))], tmp_path)
    assert alpha.success and not beta.success and beta.failures[0].unexpected == 1
    index = (tmp_path / "data_docs" / "index.html").read_text()
    # GX's own index builder dropped alpha's page once beta's run rebuilt the site
    assert _pages(index, "alpha") == 1 and _pages(index, "beta") == 1
    assert alpha.data_docs == beta.data_docs == str(tmp_path / "data_docs" / "index.html")

    for _ in range(3):
        run_suites([("alpha", GOOD, _suite("a"))], tmp_path)
    index = (tmp_path / "data_docs" / "index.html").read_text()
    assert _pages(index, "alpha") == 2 and _pages(index, "beta") == 1  # the newest 2 of alpha
    pages = list((tmp_path / "data_docs" / "validations" / "alpha").rglob("*.html"))
    assert len(pages) == 2
    assert len(list((tmp_path / "results").glob("alpha-*.json"))) == 4  # results JSON all stay


def test_on_s3_every_run_adds_to_one_site(s3: S3) -> None:
    from pipelines.validate import run_suites, validation_dir

    url = validation_dir()
    assert url == f"s3://{s3.bucket}/platform/validation"
    (alpha,) = run_suites([("alpha", GOOD, _suite("a"))], url)
    # a second run, as on another machine: nothing local is shared (each run pulls the site)
    (beta,) = run_suites([("beta", BAD, _suite("a"))], url)

    assert alpha.result_json.startswith(f"s3://{s3.bucket}/platform/validation/results/alpha-")
    assert beta.data_docs == f"s3://{s3.bucket}/platform/validation/data_docs/index.html"
    keys = s3.keys("platform/validation/")
    assert sum(k.startswith("platform/validation/results/") for k in keys) == 2
    index = s3.read("platform/validation/data_docs/index.html").decode()
    assert _pages(index, "alpha") == 1 and _pages(index, "beta") == 1
    pages = [k for k in keys if "/data_docs/validations/" in k]
    assert {p.split("/")[4] for p in pages} == {"alpha", "beta"}
    assert any(k.startswith("platform/validation/data_docs/static/") for k in keys)
