"""Which race and driver a Polymarket market is about: the event's title names the Grand Prix,
the market's group item title (or question) names the driver. An unmapped market keeps its
reason and is never traded."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from bot.models import MarketData
from warehouse.db import session_factory
from warehouse.schema import Driver, Race, RaceResult


@dataclass(frozen=True)
class Mapping:
    race_id: int | None
    driver_ref: str | None
    reason: str  # "mapped", or why not


def _plain(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9 ]+", " ", ascii_text.lower()).strip()


class Mapper:
    """Maps markets with the warehouse's races (of the market's season) and drivers (those who
    raced in the last two seasons, so names are not ambiguous with the 1950s)."""

    def __init__(self, engine: Engine) -> None:
        with session_factory(engine)() as session:
            self.races = session.execute(select(Race.id, Race.season, Race.name, Race.date)).all()
            latest = session.scalar(
                select(Race.season).join(RaceResult).order_by(Race.season.desc()).limit(1)
            )
            recent = (
                select(RaceResult.driver_id)
                .join(Race, Race.id == RaceResult.race_id)
                .where(Race.season >= (latest or 0) - 1)
            )
            self.drivers = session.execute(
                select(Driver.ref, Driver.forename, Driver.surname).where(Driver.id.in_(recent))
            ).all()

    def map(self, event: dict[str, Any], market: MarketData) -> Mapping:
        title = _plain(str(event.get("title", "")))
        kind = _not_a_winner_market(title, _plain(market.question))
        if kind is not None:
            # our model gives win probabilities: a podium price is not comparable with them
            return Mapping(None, None, f"not a race-winner market ({kind})")
        when = market.end_date or _parse(event.get("endDate"))
        if when is None:
            return Mapping(None, None, "the market has no end date to find its season")
        races = [r for r in self.races if r.season == when.year and _plain(r.name) in title]
        if not races:
            return Mapping(None, None, f"no {when.year} Grand Prix named in {event.get('title')!r}")
        race = min(races, key=lambda r: abs((r.date - when.date()).days))
        who = _plain(market.group_item_title or market.question)
        full = [d for d in self.drivers if _plain(f"{d.forename} {d.surname}") in who]
        by_surname = [d for d in self.drivers if re.search(rf"\b{_plain(d.surname)}\b", who)]
        found = full or by_surname
        if len(found) != 1:
            problem = "no driver" if not found else f"{len(found)} drivers"
            return Mapping(
                race.id,
                None,
                f"{problem} of ours named in {market.group_item_title or market.question!r}",
            )
        return Mapping(race.id, found[0].ref, "mapped")


OTHER_KINDS = ("podium", "pole", "fastest lap", "constructor", "head to head", " vs ", "top ")


def _not_a_winner_market(title: str, question: str) -> str | None:
    """What kind of market this is when it is not "who wins the race", else None."""
    text = f" {title} {question} "
    for kind in OTHER_KINDS:
        if kind in text:
            return kind.strip()
    if "winner" not in title and not re.search(r"\bwin\b", question):
        return "neither the event nor the question is about winning"
    return None


def _parse(value: Any) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
