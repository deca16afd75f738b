"""The web app's charts: Vega-Lite specs built with Altair on the server, drawn in the browser
by the vendored vega-embed (static/app.js). Every chart is shown beside a table of the same
numbers (the templates), for readers who cannot see it."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

WIDTH = "container"  # the figure's width: a phone's or a desktop's


def _spec(chart: alt.TopLevelMixin, title: str) -> dict[str, Any]:
    spec: dict[str, Any] = chart.properties(width=WIDTH, title=title).to_dict(validate=False)
    spec.pop("$schema", None)  # vega-embed knows the version; no URL to resolve
    return spec


def probability_bars(entries: list[dict[str, Any]], title: str) -> dict[str, Any]:
    """One bar per driver: its probability (entries as the prediction answer gives them)."""
    frame = pd.DataFrame(
        {
            "driver": [e["driver_name"] for e in entries],
            "probability": [e["probability"] for e in entries],
        }
    )
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("probability:Q", axis=alt.Axis(format="%"), title="P(win)"),
            y=alt.Y("driver:N", sort=None, title=None),
            tooltip=["driver", alt.Tooltip("probability:Q", format=".1%")],
        )
        .properties(height=max(120, 18 * len(frame)))
    )
    return _spec(chart, title)


def position_heatmap(entries: list[dict[str, Any]], title: str) -> dict[str, Any]:
    """P(finishes k-th) per driver and place, and P(DNF), from the markets."""
    rows = []
    for e in entries:
        markets = e.get("markets") or {}
        for k, p in enumerate(markets.get("positions", []), start=1):
            rows.append({"driver": e["driver_name"], "place": str(k), "probability": p})
        if "dnf" in markets:
            rows.append({"driver": e["driver_name"], "place": "DNF", "probability": markets["dnf"]})
    places = [str(k) for k in range(1, 41)] + ["DNF"]
    chart = (
        alt.Chart(pd.DataFrame(rows))
        .mark_rect()
        .encode(
            x=alt.X("place:O", sort=places, title="finishing place"),
            y=alt.Y("driver:N", sort=None, title=None),
            color=alt.Color("probability:Q", scale=alt.Scale(scheme="blues"), title="P"),
            tooltip=["driver", "place", alt.Tooltip("probability:Q", format=".1%")],
        )
        .properties(height=max(120, 18 * len(entries)))
    )
    return _spec(chart, title)


def time_axis(dates: pd.Series) -> alt.Axis:
    """A time axis whose labels always carry the year: "2019" over a long span, "Mar 2024"
    over a short one (Vega-Lite's default shows bare months)."""
    when = pd.to_datetime(dates, errors="coerce").dropna()
    span_days = (when.max() - when.min()).days if len(when) else 0
    if span_days >= 730:
        return alt.Axis(format="%Y", labelOverlap=True)
    return alt.Axis(format="%b %Y", labelOverlap=True, tickCount=6)


def rating_line(points: list[dict[str, Any]], title: str, field: str = "elo") -> dict[str, Any]:
    """A rating over time: points of {date, elo, race}; the axis in years (months and years
    when the span is under two years)."""
    frame = pd.DataFrame(points)
    chart = (
        alt.Chart(frame)
        .mark_line(point=False)
        .encode(
            x=alt.X("date:T", title=None, axis=time_axis(frame["date"])),
            y=alt.Y(f"{field}:Q", scale=alt.Scale(zero=False), title="ELO"),
            tooltip=["race", alt.Tooltip(f"{field}:Q", format=".0f")],
        )
        .properties(height=220)
    )
    return _spec(chart, title)


def track_record(rows: list[dict[str, Any]], title: str) -> dict[str, Any]:
    """Log loss per race of the model and of grid-only: rows of {race, when, forecaster,
    log_loss}."""
    chart = (
        alt.Chart(pd.DataFrame(rows))
        .mark_line(point=True)
        .encode(
            x=alt.X("when:T", title=None, axis=time_axis(pd.Series([r["when"] for r in rows]))),
            y=alt.Y("log_loss:Q", title="log loss (lower is better)"),
            color=alt.Color("forecaster:N", title=None),
            tooltip=["race", "forecaster", alt.Tooltip("log_loss:Q", format=".3f")],
        )
        .properties(height=240)
    )
    return _spec(chart, title)


def calibration(rows: list[dict[str, Any]], title: str) -> dict[str, Any]:
    """Mean forecast against the observed rate per bin: rows of {forecast, observed, n}."""
    frame = pd.DataFrame(rows)
    diagonal = (
        alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]}))
        .mark_line(strokeDash=[4, 4], color="gray")
        .encode(x="x:Q", y="y:Q")
    )
    dots = (
        alt.Chart(frame)
        .mark_circle()
        .encode(
            x=alt.X("forecast:Q", title="forecast P(win)", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("observed:Q", title="observed win rate", scale=alt.Scale(domain=[0, 1])),
            size=alt.Size("n:Q", title="entries"),
            tooltip=[
                alt.Tooltip("forecast:Q", format=".2f"),
                alt.Tooltip("observed:Q", format=".2f"),
                "n",
            ],
        )
    )
    return _spec((diagonal + dots).properties(height=260), title)


def title_odds(rows: list[dict[str, Any]], title: str) -> dict[str, Any]:
    """P(title) after each round per driver: rows of {round, driver, p_title}."""
    chart = (
        alt.Chart(pd.DataFrame(rows))
        .mark_line(point=True)
        .encode(
            x=alt.X("round:Q", title="after round"),
            y=alt.Y("p_title:Q", axis=alt.Axis(format="%"), title="P(title)"),
            color=alt.Color("driver:N", title=None),
            tooltip=["driver", "round", alt.Tooltip("p_title:Q", format=".1%")],
        )
        .properties(height=240)
    )
    return _spec(chart, title)


def equity_curve(rows: list[dict[str, Any]], title: str) -> dict[str, Any]:
    """The bot's equity after each cycle: rows of {when, equity, race}."""
    chart = (
        alt.Chart(pd.DataFrame(rows))
        .mark_line(point=True)
        .encode(
            x=alt.X("when:T", title=None),
            y=alt.Y("equity:Q", scale=alt.Scale(zero=False), title="equity (USDC)"),
            tooltip=["race", alt.Tooltip("equity:Q", format=",.2f")],
        )
        .properties(height=220)
    )
    return _spec(chart, title)
