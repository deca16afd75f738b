"""Our model's side of the trade: the champion's win probabilities for a race, as `f1_score`
stored them in the warehouse (after each ingest, for the next race). The post-qualifying model
is used once its prediction is stored, the pre-qualifying one before."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, select

from models.registry import CHAMPION, alias_version, model_name
from spec import STAGE_NAMES
from warehouse.db import session_factory
from warehouse.schema import Driver, Prediction


@dataclass(frozen=True)
class RaceProbabilities:
    race_id: int
    model: str  # "f1_winner_post_quali v3"
    by_driver: dict[str, float]  # driver_ref → probability of winning


# which version is champion, by model name (a function so tests and the backtest can pin it)
ChampionLookup = Callable[[str], str | None]


def champion_version(name: str) -> str | None:
    return alias_version(name, CHAMPION)


def race_probabilities(
    engine: Engine, race_id: int, champion: ChampionLookup = champion_version
) -> RaceProbabilities | None:
    """The champion's stored probabilities for the race, post-qualifying first; None when the
    champion has stored none for it (f1_score has not run since the champion changed)."""
    with session_factory(engine)() as session:
        for stage in reversed(STAGE_NAMES):  # the freshest stage first
            name = model_name(stage)
            version = champion(name)
            if version is None:
                continue
            rows = (
                session.execute(
                    select(Driver.ref, Prediction.probability)
                    .join(Driver, Driver.id == Prediction.driver_id)
                    .where(
                        Prediction.race_id == race_id,
                        Prediction.stage == stage,
                        Prediction.model_name == name,
                        Prediction.model_version == version,
                    )
                )
                .tuples()
                .all()
            )
            if rows:
                return RaceProbabilities(race_id, f"{name} v{version}", dict(rows))
    return None
