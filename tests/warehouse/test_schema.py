"""Constraints make bad or duplicate rows impossible, and keep real F1 oddities possible."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warehouse.schema import Circuit, Driver, Prediction, Race, RaceResult, Team


def _seed(session: Session) -> tuple[Race, Driver, Team]:
    circuit = Circuit(ref="monza", name="Autodromo Nazionale di Monza")
    driver = Driver(ref="ascari", forename="Alberto", surname="Ascari")
    team = Team(ref="ferrari", name="Ferrari")
    session.add_all([circuit, driver, team])
    session.flush()
    race = Race(
        season=1951, round=7, circuit_id=circuit.id, name="Italian GP", date=dt.date(1951, 9, 16)
    )
    session.add(race)
    session.flush()
    return race, driver, team


def _result(race: Race, driver: Driver, team: Team, order: int, **values: object) -> RaceResult:
    fields: dict[str, object] = {
        "grid": 1,
        "position": order,
        "position_text": str(order),
        "position_order": order,
        "points": 0.0,
        "laps": 80,
        "status": "Finished",
    }
    fields.update(values)
    return RaceResult(race_id=race.id, driver_id=driver.id, team_id=team.id, **fields)


def test_a_shared_drive_gives_one_driver_two_rows_but_an_order_is_taken_once(migrated) -> None:
    with Session(migrated) as session:
        race, driver, team = _seed(session)
        session.add_all([_result(race, driver, team, 1), _result(race, driver, team, 5)])
        session.commit()
        assert (
            len(session.scalars(select(RaceResult).where(RaceResult.driver_id == driver.id)).all())
            == 2
        )

        session.add(_result(race, driver, team, 5))
        with pytest.raises(IntegrityError):
            session.commit()


def test_a_retirement_keeps_null_position_and_its_status(migrated) -> None:
    with Session(migrated) as session:
        race, driver, team = _seed(session)
        session.add(
            _result(race, driver, team, 9, position=None, position_text="R", status="Gearbox")
        )
        session.commit()
    with Session(migrated) as session:
        row = session.scalars(select(RaceResult)).one()
        assert (row.position, row.position_text, row.status) == (None, "R", "Gearbox")


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (
            lambda r, d, t: Race(
                season=1951, round=7, circuit_id=r.circuit_id, name="again", date=r.date
            ),
            "race key",
        ),
        (lambda r, d, t: Driver(ref="ascari", forename="A", surname="Ascari"), "driver ref"),
        (lambda r, d, t: _result(r, d, t, 1, grid=-1), "negative grid"),
        (lambda r, d, t: _result(r, d, t, 1, laps=-3), "negative laps"),
        (lambda r, d, t: _result(r, d, t, 1, points=-1.0), "negative points"),
        (lambda r, d, t: _result(r, d, t, 0), "order 0"),
        (
            lambda r, d, t: RaceResult(
                race_id=r.id,
                driver_id=9999,
                team_id=t.id,
                grid=1,
                position=1,
                position_text="1",
                position_order=1,
                points=0.0,
                laps=1,
                status="Finished",
            ),
            "unknown driver",
        ),
        (
            lambda r, d, t: Prediction(
                race_id=r.id,
                driver_id=d.id,
                stage="post_quali",
                model_name="m",
                model_version="1",
                probability=1.5,
            ),
            "probability above 1",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_constraints_refuse(migrated, make, why) -> None:
    with Session(migrated) as session:
        race, driver, team = _seed(session)
        session.commit()
        session.add(make(race, driver, team))
        with pytest.raises(IntegrityError):
            session.commit()


def test_one_prediction_per_driver_stage_and_model_version(migrated) -> None:
    with Session(migrated) as session:
        race, driver, _ = _seed(session)
        key = {"race_id": race.id, "driver_id": driver.id, "stage": "pre_quali", "model_name": "m"}
        session.add_all(
            [
                Prediction(**key, model_version="1", probability=0.2),
                Prediction(**key, model_version="2", probability=0.3),
            ]
        )
        session.commit()
        session.add(Prediction(**key, model_version="2", probability=0.4))
        with pytest.raises(IntegrityError):
            session.commit()
