"""The ensemble and the walk-forward backtest on real seasons (a short window)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import spec
from cli.main import app
from models.ensemble import Ensemble, Recipe
from pipelines.backtest import report, walk_forward
from pipelines.training_data import labelled
from tests.servers.s3 import S3
from warehouse.db import make_engine


def test_labelled_rows_have_one_winner_per_race(published: Path) -> None:
    rows = labelled(make_engine(), "post_quali", since=2020)
    assert rows.groupby("race_id")["won"].sum().eq(1).all()
    assert len(rows) == rows[["race_id", "driver_id"]].drop_duplicates().shape[0]
    verstappen_2023 = rows[(rows["season"] == 2023) & (rows["driver_ref"] == "max_verstappen")]
    assert verstappen_2023["won"].sum() == 19


def test_the_ensemble_gives_one_distribution_per_race(published: Path) -> None:
    rows = labelled(make_engine(), "post_quali", since=2012)
    train, test = rows[rows["season"] < 2024], rows[rows["season"] == 2024]
    model = Ensemble(Recipe("post_quali", serve="pool")).fit(train)
    forecast = model.predict(test)
    assert list(forecast.columns) == ["elo", "rf", "xgb", "clogit", "pool", "ensemble"]
    sums = forecast.groupby(test["race_id"].to_numpy()).sum()
    assert ((sums - 1).abs() < 1e-9).all().all()
    # the pool may soften its bases, never sharpen them
    assert abs(sum(model.weights.values()) - 1) < 1e-9 and 0 < model.power <= 1 + 1e-9
    assert list(model.importances()["xgb"].dropna().index) == model.columns
    assert "driver_elo_vs_best" in model.columns and "grid_rank" in model.columns


def test_the_conditional_logit_learns_the_grid_and_serves_alone(published: Path) -> None:
    rows = labelled(make_engine(), "post_quali", since=1981)
    train, test = rows[rows["season"] < 2024], rows[rows["season"] == 2024]
    model = Ensemble(Recipe("post_quali", serve="clogit")).fit(train)
    forecast = model.predict(test)
    assert list(forecast.columns) == ["clogit", "ensemble"]  # nothing else is fitted
    assert model._rf is None and model._xgb is None
    coefficients = model._clogit.coefficients()
    # a better grid slot and a smaller gap to pole raise the chance of winning
    assert coefficients["neg_log_grid"] > 0 and coefficients["quali_gap"] < 0
    # the pole-sitter is each race's favourite far more often than not
    best = forecast.groupby(test["race_id"].to_numpy())["ensemble"].idxmax()
    assert (test.loc[best, "grid"] == 1).mean() > 0.6
    # coefficient × value explains the logit exactly
    parts = model._clogit.contributions(test)
    assert ((parts.sum(axis=1) - model._clogit.logits(test)).abs() < 1e-9).all()


def test_explanations_add_up_to_the_odds_between_two_drivers(published: Path) -> None:
    """For the logit and for XGBoost's SHAP values alike: the difference of two entrants'
    summed contributions is the log of their probabilities' ratio."""
    rows = labelled(make_engine(), "post_quali", since=2018)
    train, race = (
        rows[rows["season"] < 2024],
        rows[(rows["season"] == 2024) & (rows["round"] == 24)],
    )
    small = {"num_boost_round": 20, "max_depth": 2, "eta": 0.3, "nthread": 2, "seed": 1}
    for serve in ("clogit", "xgb"):
        model = Ensemble(Recipe("post_quali", serve=serve, xgb=small)).fit(train)
        p = model.predict(race)["ensemble"].to_numpy()
        total = model.contributions(race).sum(axis=1).to_numpy()
        assert np.allclose(total - total[0], np.log(p / p[0]), atol=1e-4), serve
        reasons = model.explain(race, top=3)
        assert len(reasons) == len(race) and all(len(r) == 3 for r in reasons)
        sizes = [abs(r["contribution"]) for r in reasons[0]]
        assert sizes == sorted(sizes, reverse=True) and all(r["words"] for r in reasons[0])
    pole = race.index.get_loc(race["grid"].idxmin())
    named = {r["feature"]: r for r in model.explain(race, top=50)[pole]}
    # XGBoost's inputs include the grid slot itself, named from the view's documentation
    assert named["grid"]["value"] == 1.0 and named["grid"]["words"].startswith("qualifying")
    pool = Ensemble(
        Recipe("post_quali", serve="pool", xgb=small, rf={"n_estimators": 5, "n_jobs": 2})
    ).fit(train)
    with pytest.raises(ValueError, match="no additive explanation"):
        pool.explain(race)
    # a pool pickled before the logit existed (no `serve`, three bases) still predicts
    state = {k: v for k, v in pool.__dict__.items() if k not in ("serve", "_clogit")}
    total = sum(pool.weights[k] for k in ("elo", "rf", "xgb"))
    state["weights"] = {k: pool.weights[k] / total for k in ("elo", "rf", "xgb")}
    old = pickle.loads(pickle.dumps(pool))
    old.__dict__.clear()
    old.__setstate__(state)
    forecast = old.predict(race)
    assert old.serve == "pool" and "clogit" not in forecast.columns
    assert forecast["ensemble"].sum() == pytest.approx(1.0)


def test_walk_forward_report_shape_and_cli(published: Path, tmp_path: Path, s3: S3) -> None:
    """…and the CLI's report reaches S3 (moto's server): published under reports/backtest/ and
    logged as MLflow artifacts under the experiment's s3:// location, both read back intact."""
    mlflow_db = tmp_path / "mlflow.db"  # a new tracking store: the experiment is created here
    rows = labelled(make_engine(), "pre_quali", since=2010)
    forecasts, _ = walk_forward(rows, "pre_quali", 2023, 2024, start=2012)
    result = report(forecasts, "pre_quali")
    assert result["seasons"] == [2023, 2024] and result["stage"] == "pre_quali"
    # before qualifying, no baseline knows the grid
    assert set(result["overall"]) == {
        *(
            ("elo", "rf", "xgb", "clogit", "pool")
            if "pool" in forecasts
            else (spec.stage("pre_quali").model.served,)
        ),
        "ensemble",
        "uniform",
        "leader",
        "last_winner",
        "elo_favourite",
    }
    assert result["baseline"] == "last_winner"
    pairs = {(c["a"], c["b"]) for c in result["comparisons"]}
    assert all(b in forecasts for _, b in pairs) and ("ensemble", "last_winner") not in pairs
    for pair in result["comparisons"]:
        cell = pair["log_loss"]
        assert pair["races"] == 46 and cell["low"] <= cell["diff"] <= cell["high"]
    assert result["overall"]["ensemble"]["races"] == 22 + 24
    assert result["overall"]["uniform"]["log_loss"] == pytest.approx(3.0, abs=0.1)
    assert set(result["by_season"]["2024"]["last_winner"]) == {
        "top1",
        "top3",
        "log_loss",
        "brier",
        "ece",
        "races",
    }

    out = tmp_path / "report.json"
    done = CliRunner(env={"MLFLOW_TRACKING_URI": f"sqlite:///{mlflow_db}"}).invoke(
        app,
        [
            "backtest",
            "--stage",
            "post_quali",
            "--from",
            "2024",
            "--to",
            "2024",
            "--start",
            "2016",
            "--out",
            str(out),
        ],
    )
    assert done.exit_code == 0, done.output
    written = json.loads(out.read_text())
    assert written["seasons"] == [2024] and written["overall"]["ensemble"]["races"] == 24
    assert "logged to MLflow as run " in done.stdout
    for suffix in ("reliability", "by-season", "comparisons", "importance"):
        png = tmp_path / f"report-{suffix}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    names = [
        "report.json",
        *(f"report-{s}.png" for s in ("by-season", "comparisons", "importance", "reliability")),
    ]
    prefix = "platform/reports/backtest/post_quali-2024-2024/"
    assert s3.keys(prefix) == sorted(prefix + name for name in names)
    for name in names:
        assert s3.read(prefix + name) == (tmp_path / name).read_bytes()

    import mlflow

    run_id = done.stdout.split("logged to MLflow as run ")[1].split()[0]
    run = mlflow.get_run(run_id)
    assert run.info.artifact_uri == (
        f"s3://{s3.bucket}/platform/mlflow/f1_winner_post_quali/{run_id}/artifacts"
    )
    logged = s3.keys(f"platform/mlflow/f1_winner_post_quali/{run_id}/artifacts/backtest/")
    assert sorted(key.rsplit("/", 1)[1] for key in logged) == sorted(names)
    back = Path(mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path / "dl")))
    assert (back / "backtest" / "report.json").read_bytes() == out.read_bytes()
