"""`f1 release`: the checks a release goes through (see docs/RELEASE.md)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cli.console import console, fail, working

app = typer.Typer(help="Release checks: the canary decision.", no_args_is_help=True)


@app.command()
def canary(
    stable: Annotated[
        str | None, typer.Option(help="The stable version's base URL (its /metrics is read).")
    ] = None,
    canary_url: Annotated[
        str | None, typer.Option("--canary", help="The canary version's base URL.")
    ] = None,
    prometheus: Annotated[
        str | None,
        typer.Option(help='Ask this Prometheus instead (pods labelled track="stable|canary").'),
    ] = None,
    window: Annotated[
        str, typer.Option(help="The window: seconds for URLs, a Prometheus range (10m) else.")
    ] = "60",
    selector: Annotated[str, typer.Option(help="Prometheus label matchers.")] = 'job="f1-service"',
    drive: Annotated[
        int,
        typer.Option(help="Send this many requests, 10% to the canary, instead of waiting."),
    ] = 0,
    path: Annotated[list[str] | None, typer.Option(help="A path to drive (repeatable).")] = None,
    min_requests: Annotated[int, typer.Option(help="Canary requests needed to judge.")] = 100,
    max_p95_ratio: Annotated[
        float, typer.Option(help="Roll back above the stable p95 times this…")
    ] = 1.25,
    min_p95_increase_ms: Annotated[
        float, typer.Option(help="…and this many milliseconds more.")
    ] = 25.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
) -> None:
    """Compare the canary with the stable version over a window (error rate, p95) and say
    promote (exit 0) or roll back (exit 1; also when there was too little traffic to judge)."""
    from cli.canary import Drive, Thresholds, compare_instances, from_prometheus

    limits = Thresholds(
        min_requests=min_requests,
        max_p95_ratio=max_p95_ratio,
        min_p95_increase_ms=min_p95_increase_ms,
    )
    if prometheus:
        with working(f"asking {prometheus} about the last {window}"):
            verdict = from_prometheus(prometheus, window, selector, limits)
    elif stable and canary_url:
        try:
            seconds = float(window)
        except ValueError:
            fail(f"--window {window!r}: give seconds when comparing two URLs", code=2)
        paths = path or ["/api/v1/races", "/api/v1/drivers", "/health"]
        driver = Drive(paths, drive) if drive else None
        with working("comparing the canary with the stable version"):
            verdict = compare_instances(stable, canary_url, seconds, driver, limits)
    else:
        fail("give --stable and --canary URLs, or --prometheus", code=2)
    if as_json:
        typer.echo(json.dumps(verdict.as_dict()))
    else:
        colour = {"promote": "green", "rollback": "red", "inconclusive": "yellow"}
        shown = (
            verdict.decision if verdict.decision != "inconclusive" else "roll back (inconclusive)"
        )
        console.print(f"[bold {colour[verdict.decision]}]{shown}[/]")
        for reason in verdict.reasons:
            console.print(f"  {reason}")
    raise typer.Exit(0 if verdict.decision == "promote" else 1)
