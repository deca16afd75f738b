"""The bot's side of a trade: the champion's freshest stored stage of the race."""

from __future__ import annotations

from sqlalchemy import Engine, delete, select

from bot.signals import race_probabilities
from tests.servers.polymarket import PROBABILITIES, seed_bot_warehouse
from warehouse.db import transaction
from warehouse.schema import Driver, Prediction

PRE = {"max_verstappen": 0.45, "norris": 0.40, "leclerc": 0.10, "piastri": 0.05}


def champions(name: str) -> str | None:
    return {"f1_winner_post_quali": "7", "f1_winner_pre_quali": "3"}.get(name)


def test_post_qualifying_once_stored_else_pre_qualifying(migrated: Engine) -> None:
    race_id = seed_bot_warehouse(migrated)  # post_quali v7 stored
    with transaction(migrated) as session:
        drivers = dict(session.execute(select(Driver.ref, Driver.id)).tuples().all())
        session.add_all(
            Prediction(
                race_id=race_id,
                driver_id=drivers[ref],
                stage="pre_quali",
                model_name="f1_winner_pre_quali",
                model_version="3",
                probability=p,
                alias="champion",
            )
            for ref, p in PRE.items()
        )
    both = race_probabilities(migrated, race_id, champions)
    assert both is not None and both.model == "f1_winner_post_quali v7"
    assert both.by_driver == {ref: PROBABILITIES[ref] for ref in both.by_driver}

    with transaction(migrated) as session:  # before qualifying: only pre_quali is stored
        session.execute(delete(Prediction).where(Prediction.stage == "post_quali"))
    before = race_probabilities(migrated, race_id, champions)
    assert before is not None and before.model == "f1_winner_pre_quali v3"
    assert before.by_driver == PRE
