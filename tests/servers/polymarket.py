"""Polymarket's Gamma and CLOB APIs as a local HTTP server serving recorded JSON (written by us
in the documented formats), and a small warehouse with the 2024 Abu Dhabi Grand Prix, its
drivers and a stored champion prediction, for whole bot cycles."""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from warehouse.db import transaction
from warehouse.schema import Circuit, Driver, Prediction, Race, RaceResult, Team

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "polymarket"
EVENTS: list[dict[str, Any]] = json.loads((RECORDED / "gamma_events.json").read_text())
BOOKS: dict[str, Any] = json.loads((RECORDED / "clob_books.json").read_text())
HISTORY: dict[str, Any] = json.loads((RECORDED / "clob_prices_history.json").read_text())

# the champion's stored post-qualifying probabilities for Abu Dhabi 2024 (sum 1)
CHAMPION = "7"
PROBABILITIES = {
    "max_verstappen": 0.30,
    "norris": 0.62,
    "leclerc": 0.05,
    "piastri": 0.03,
}
DRIVERS = [
    ("max_verstappen", "Max", "Verstappen"),
    ("norris", "Lando", "Norris"),
    ("leclerc", "Charles", "Leclerc"),
    ("piastri", "Oscar", "Piastri"),
]
BEFORE_RACE = dt.datetime(2024, 12, 6, 12, 0, tzinfo=dt.UTC)


def champion(name: str) -> str | None:
    """The registry's answer: v7 is the post-qualifying champion; no pre-qualifying model."""
    return CHAMPION if name == "f1_winner_post_quali" else None


@dataclass
class Polymarket:
    """What the server answers; tests change it between cycles."""

    events: list[dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(EVENTS))
    books: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(BOOKS))
    closed: dict[str, dict[str, Any]] = field(default_factory=dict)  # market id → closed market

    def route(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        if path == "/events":
            offset, limit = int(query.get("offset", 0)), int(query.get("limit", 100))
            return 200, self.events[offset : offset + limit]
        if path.startswith("/markets/"):
            market_id = path.rsplit("/", 1)[1]
            if market_id in self.closed:
                return 200, self.closed[market_id]
            for event in self.events:
                for market in event["markets"]:
                    if market["id"] == market_id:
                        return 200, market
            return 404, {"error": "market not found"}
        if path == "/book":
            token = query.get("token_id", "")
            if token in self.books:
                return 200, self.books[token]
            return 404, {"error": "No orderbook exists for the requested token id"}
        if path == "/prices-history":
            return 200, HISTORY
        return 404, {"error": "not found"}

    def move_to(self, race_day: dt.date) -> None:
        """The same markets, for a race on `race_day` (ending at 13:00 UTC that day)."""
        ends = f"{race_day.isoformat()}T13:00:00Z"
        for event in self.events:
            event["endDate"] = ends
            for market in event["markets"]:
                market["endDate"] = ends

    def market(self, title: str) -> dict[str, Any]:
        return next(m for m in self.events[0]["markets"] if m["groupItemTitle"] == title)

    def resolve(self, winner: str) -> None:
        """The race is run: the event closes, each market resolves Yes for `winner` only."""
        for market in self.events[0]["markets"]:
            won = market["groupItemTitle"] == winner
            self.closed[market["id"]] = {
                **market,
                "closed": True,
                "active": False,
                "outcomePrices": json.dumps(["1", "0"] if won else ["0", "1"]),
            }
        self.events = []


def seed_bot_warehouse(
    engine: Engine, version: str = CHAMPION, race_day: dt.date = dt.date(2024, 12, 8)
) -> int:
    """Abu Dhabi on `race_day` (no result yet), the Qatar race a week before (so the drivers
    are recent),
    four drivers and the stored prediction of post-qualifying `version`. Returns the Abu Dhabi
    race id."""
    with transaction(engine) as session:
        circuit = Circuit(ref="yas_marina", name="Yas Marina Circuit")
        team = Team(ref="mclaren", name="McLaren")
        session.add_all([circuit, team])
        session.flush()
        qatar = Race(
            season=race_day.year, round=23, circuit_id=circuit.id, name="Qatar Grand Prix",
            date=race_day - dt.timedelta(days=7),
        )  # fmt: skip
        abu_dhabi = Race(
            season=race_day.year, round=24, circuit_id=circuit.id, name="Abu Dhabi Grand Prix",
            date=race_day,
        )  # fmt: skip
        drivers = [Driver(ref=ref, forename=f, surname=s) for ref, f, s in DRIVERS]
        session.add_all([qatar, abu_dhabi, *drivers])
        session.flush()
        for place, driver in enumerate(drivers, start=1):
            session.add(
                RaceResult(
                    race_id=qatar.id,
                    driver_id=driver.id,
                    team_id=team.id,
                    grid=place,
                    position=place,
                    position_text=str(place),
                    position_order=place,
                    points=0.0,
                    laps=57,
                    status="Finished",
                )  # fmt: skip
            )
            session.add(
                Prediction(
                    race_id=abu_dhabi.id,
                    driver_id=driver.id,
                    stage="post_quali",
                    model_name="f1_winner_post_quali",
                    model_version=version,
                    probability=PROBABILITIES[driver.ref],
                )  # fmt: skip
            )
        return abu_dhabi.id
