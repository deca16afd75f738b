"""Champion/challenger: the offline gate, the online gate, manual promotion and rollback.

Every alias move is written twice: as tags on the MLflow model version (`promoted_at`,
`promotion_reason`, `promotion_evidence`) and as a `model_events` row in the warehouse. When
the warehouse write fails the alias is put back (`models.registry.move_champion`), so no move
is left unrecorded.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, select

import spec
from feature_store.view import NAME, feature_names
from models.registry import (
    CHALLENGER,
    CHAMPION,
    PromotionError,
    alias_version,
    load_version,
    model_name,
)
from models.registry import client as registry_client
from models.registry import move_champion as registry_move
from warehouse import model_events as events
from warehouse.db import session_factory
from warehouse.schema import MarketAccuracy, ModelEvent, PredictionAccuracy

log = logging.getLogger(__name__)
CONFIDENCE = 0.90
MIN_ONLINE_RACES = 5
RESAMPLES = 10_000
PER_RACE = "validation/per_race.csv"


@dataclass
class Decision:
    """What a gate concluded, and on what evidence."""

    name: str
    champion: str | None
    challenger: str | None
    promoted: bool
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


def paired_bootstrap(
    champion: np.ndarray, challenger: np.ndarray, resamples: int = RESAMPLES, seed: int = 0
) -> float:
    """Share of bootstrap resamples of the races in which the challenger's mean log loss is
    lower than the champion's (the races resampled in pairs)."""
    diff = np.asarray(champion, dtype=float) - np.asarray(challenger, dtype=float)
    if diff.size == 0:
        return 0.0
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, diff.size, size=(resamples, diff.size))
    return float((diff[picks].mean(axis=1) > 0).mean())


def compare(
    champion: pd.DataFrame,
    challenger: pd.DataFrame,
    on: tuple[str, ...] = ("season", "round"),
    score: str = "log_loss",
) -> dict[str, Any]:
    """Paired comparison of a per-race score (`score`, lower is better: the target's first
    metric) on the races both forecast, matched on the key columns `on`."""
    both = champion.merge(challenger, on=list(on), suffixes=("_champion", "_challenger"))
    a, b = both[f"{score}_champion"].to_numpy(), both[f"{score}_challenger"].to_numpy()
    return {
        "score": score,
        "races": len(both),
        f"champion_{score}": float(a.mean()) if len(both) else None,
        f"challenger_{score}": float(b.mean()) if len(both) else None,
        "confidence": paired_bootstrap(a, b),
    }


# --- MLflow access -------------------------------------------------------------------------


def per_race_validation(name: str, version: str) -> pd.DataFrame:
    """The per-race log losses a training run stored for its offline evaluation."""
    import mlflow

    client = registry_client()
    run_id = client.get_model_version(name, version).run_id
    path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=PER_RACE)
    return pd.read_csv(path)


def sanity(name: str, version: str, stage: str, rows: pd.DataFrame) -> list[str]:
    """Problems that forbid serving this version (empty when it is fit to serve): its inputs
    must be the feature view's, and on `rows` its probabilities must be finite and sum to 1
    (a finishing-order version: its markets must be coherent, `market_problems`)."""
    problems = []
    model = load_version(name, version)
    if spec.parse_model_name(name)[0].normalisation == "finishing_order":
        sizes = rows.groupby("race_id")["race_id"].transform("size")
        return market_problems(model.predict(rows.assign(p_win=1.0 / sizes)), rows)
    wanted = ["race_id", "driver_id", *feature_names(stage)]
    schema = model.metadata.get_input_schema()
    inputs = schema.input_names() if schema is not None else []
    if list(inputs) != wanted:
        problems.append(f"signature inputs {list(inputs)} differ from the view's {wanted}")
    view = (model.metadata.metadata or {}).get("feature_view")
    if view != NAME:
        problems.append(f"model was built for feature view {view!r}, the store serves {NAME!r}")
    if problems:
        return problems
    out = model.predict(rows[wanted])
    probs = out["probability"].to_numpy(dtype=float)
    if not np.isfinite(probs).all():
        problems.append("probabilities contain NaN or infinity")
    sums = out.groupby("race_id")["probability"].sum()
    if not np.allclose(sums.to_numpy(), 1.0, atol=1e-6):
        worst = float((sums - 1).abs().max())
        problems.append(f"probabilities do not sum to 1 per race (off by up to {worst:.2e})")
    return problems


def market_problems(markets: pd.DataFrame, rows: pd.DataFrame) -> list[str]:
    """What is incoherent in a finishing-order version's markets of `rows`' races: each
    entrant's positions and DNF must sum to 1, and P(win) ≤ P(podium) ≤ P(top 6) ≤ P(points)."""
    problems = []
    numbers = markets.drop(columns=["teammate_ahead"], errors="ignore")
    if not np.isfinite(numbers.select_dtypes("number").to_numpy(dtype=float)).all():
        problems.append("markets contain NaN or infinity")
        return problems
    sizes = rows.groupby("race_id")["race_id"].transform("size").to_numpy()
    position = np.array(
        [markets[[f"p{k}" for k in range(1, n + 1)]].iloc[i].sum() for i, n in enumerate(sizes)]
    )
    worst = float(np.abs(position + markets["dnf"].to_numpy() - 1).max())
    if worst > 1e-6:
        problems.append(f"positions and DNF do not sum to 1 (off by up to {worst:.2e})")
    # the top-N markets, narrowest first: each at most as likely as the next wider one
    tops = sorted((m for m in spec.MARKETS if m.settles in ("top", "points")), key=lambda m: m.top)
    ladder = markets[[m.column for m in tops]].to_numpy()
    if (np.diff(ladder, axis=1) < -1e-9).any():
        said = " ≤ ".join(f"P({m.column})" for m in tops)
        problems.append(f"{said} does not hold")
    return problems


# --- alias moves ---------------------------------------------------------------------------


def move_champion(
    engine: Engine | Connection,
    name: str,
    version: str,
    action: str,
    reason: str,
    evidence: dict[str, Any] | None = None,
    actor: str = "f1_promote",
) -> ModelEvent:
    """Give `version` the champion alias, recorded as MLflow version tags and in the
    warehouse (`model_events`)."""
    evidence = evidence or {}
    return registry_move(
        name,
        version,
        action,
        reason,
        evidence,
        actor,
        lambda previous, when: events.record(
            engine, name, version, previous, action, reason, evidence, actor, when
        ),
    )


def record_initial(engine: Engine | Connection, name: str, version: str) -> None:
    """Record that the very first version became champion without a contest."""
    now = dt.datetime.now(dt.UTC)
    events.record(
        engine, name, version, None, "initial", "first registered version", {}, "f1 train", now
    )


def history(engine: Engine | Connection, name: str) -> list[ModelEvent]:
    """The alias moves of `name`, oldest first."""
    return events.history(engine, name)


def promote(
    engine: Engine | Connection, name: str, version: str, actor: str, reason: str = "by hand"
) -> ModelEvent:
    """Make `version` the champion by hand."""
    return move_champion(engine, name, version, "manual", reason, actor=actor)


def rollback(engine: Engine | Connection, name: str, actor: str) -> ModelEvent:
    """Bring back the champion that served before the current one (rolling back twice goes
    two promotions back, not forth again)."""
    current = alias_version(name, CHAMPION)
    if current is None:
        raise PromotionError(f"{name} has no champion to roll back")
    previous = events.previous_champion(events.history(engine, name), current)
    if previous is None:
        raise PromotionError(f"{name} @champion v{current} has no earlier champion to restore")
    return move_champion(
        engine,
        name,
        previous,
        "rollback",
        f"rolled back from version {current}",
        {"from": current},
        actor=actor,
    )


# --- the gates -----------------------------------------------------------------------------


def offline_gate(
    engine: Engine, stage: str, rows: pd.DataFrame, target: str = "winner"
) -> Decision:
    """Promote the challenger when its per-race validation score (the target's first metric:
    log loss of the winner, RPS of the finishing order) beats the champion's on the same races
    with ≥ 90% paired-bootstrap confidence and it passes the sanity checks.

    `rows`: feature rows of at least one race (with race_id) for the sanity check."""
    name, champion, challenger = _contenders(stage, target)
    if champion is None or challenger is None or challenger == champion:
        return Decision(name, champion, challenger, False, "no distinct challenger to judge")
    evidence: dict[str, Any] = {"gate": "offline"}
    evidence.update(
        compare(
            per_race_validation(name, champion),
            per_race_validation(name, challenger),
            score=spec.target(target).metrics[0],
        )
    )
    problems = sanity(name, challenger, stage, rows)
    evidence["sanity"] = problems or "ok"
    refusal = None
    if problems:
        refusal = "challenger failed sanity checks: " + "; ".join(problems)
    elif evidence["races"] == 0:
        refusal = "champion and challenger share no validation races"
    return _judge(engine, name, champion, challenger, evidence, refusal)


def online_gate(engine: Engine, stage: str, target: str = "winner") -> Decision:
    """Promote the challenger when, over ≥ 5 races scored for both, its live score (log loss
    of the winner; RPS of the finishing order, `market_accuracy`) beats the champion's with
    ≥ 90% paired-bootstrap confidence."""
    name, champion, challenger = _contenders(stage, target)
    if champion is None or challenger is None or challenger == champion:
        return Decision(name, champion, challenger, False, "no distinct challenger to judge")
    score = spec.target(target).metrics[0]
    frames = {}
    with session_factory(engine)() as session:
        for version in (champion, challenger):
            query: Any
            if score == "rps":
                query = select(MarketAccuracy.race_id, MarketAccuracy.rps).where(
                    MarketAccuracy.model_name == name,
                    MarketAccuracy.model_version == version,
                    MarketAccuracy.stage == stage,
                    MarketAccuracy.market == "position",
                )
            else:
                query = select(PredictionAccuracy.race_id, PredictionAccuracy.log_loss).where(
                    PredictionAccuracy.model_name == name,
                    PredictionAccuracy.model_version == version,
                    PredictionAccuracy.stage == stage,
                )
            frames[version] = pd.DataFrame(session.execute(query).all(), columns=["race_id", score])
    evidence: dict[str, Any] = {"gate": "online"}
    evidence.update(compare(frames[champion], frames[challenger], on=("race_id",), score=score))
    refusal = None
    if evidence["races"] < MIN_ONLINE_RACES:
        refusal = f"only {evidence['races']} races scored for both (needs {MIN_ONLINE_RACES})"
    return _judge(engine, name, champion, challenger, evidence, refusal)


def _contenders(stage: str, target: str = "winner") -> tuple[str, str | None, str | None]:
    """The stage's model name of `target` and the versions behind champion and challenger."""
    name = model_name(stage, target)
    return name, alias_version(name, CHAMPION), alias_version(name, CHALLENGER)


def _judge(
    engine: Engine,
    name: str,
    champion: str,
    challenger: str,
    evidence: dict[str, Any],
    refusal: str | None,
) -> Decision:
    """Promote on ≥ 90% confidence unless a gate-specific `refusal` stands; the decision."""
    gate, races, confidence = evidence["gate"], evidence["races"], evidence["confidence"]
    if refusal is None and confidence < CONFIDENCE:
        refusal = (
            f"challenger better with only {confidence:.1%} confidence "
            f"(needs {CONFIDENCE:.0%}) over {races} {gate} races"
        )
    if refusal is not None:
        log.info("%s: challenger v%s stays: %s", name, challenger, refusal)
        return Decision(name, champion, challenger, False, refusal, evidence)
    score = evidence.get("score", "log_loss")
    reason = (
        f"{gate}: {score.replace('_', ' ')} {evidence[f'challenger_{score}']:.3f} vs "
        f"{evidence[f'champion_{score}']:.3f} over {races} races, {confidence:.1%} confidence"
    )
    move_champion(engine, name, challenger, "promote", reason, evidence)
    return Decision(name, champion, challenger, True, reason, evidence)


def decision_dict(decision: Decision) -> dict[str, Any]:
    """JSON-able form of a gate's decision."""
    return asdict(decision)


def versions(name: str) -> list[dict[str, Any]]:
    """Every version of `name`, newest first: version, aliases, created, run_id and its
    validation log loss."""
    from mlflow.exceptions import MlflowException

    client = registry_client()
    try:
        aliases = client.get_registered_model(name).aliases  # {alias: version}
    except MlflowException:
        return []
    rows = []
    for version in client.search_model_versions(f"name = '{name}'"):
        run = client.get_run(version.run_id) if version.run_id else None
        created = dt.datetime.fromtimestamp(version.creation_timestamp / 1000, dt.UTC)
        rows.append(
            {
                "version": str(version.version),
                "aliases": sorted(a for a, v in aliases.items() if str(v) == str(version.version)),
                "created": created.strftime("%Y-%m-%d %H:%M"),
                "run_id": version.run_id,
                "log_loss": run.data.metrics.get("validation_log_loss") if run else None,
            }
        )
    return sorted(rows, key=lambda r: int(r["version"]), reverse=True)


def sanity_rows(stage: str, races: int = 3) -> pd.DataFrame:
    """Feature rows of the last `races` races in the published store (for the sanity check)."""
    from feature_store.store import read_offline

    rows = read_offline(stage)
    recent = rows.drop_duplicates("race_id").sort_values(["season", "round"])["race_id"]
    return rows[rows["race_id"].isin(recent.tail(races))].reset_index(drop=True)


def offline_gate_task(stage: str, target: str = "winner") -> dict[str, Any]:
    """The `f1_promote` DAG's task: the offline gate of one (stage, target) on the configured
    stores."""
    from warehouse.db import make_engine

    engine = make_engine()
    try:
        return decision_dict(offline_gate(engine, stage, sanity_rows(stage), target))
    finally:
        engine.dispose()
