"""Which race, driver and kind of market a Polymarket market is about: the event's title names
the Grand Prix, the market's group item title (or question) names the driver, the title and
question say whether it asks who wins, who reaches the podium, the top 6 or the points (the
finishing-order distribution prices those). An unmapped market keeps its reason and is never
traded: nothing the model cannot price is."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from bot.models import MarketData
from spec import MARKETS
from spec import market as spec_market
from warehouse.db import session_factory
from warehouse.schema import Driver, Race, RaceResult, Team


def top_markets() -> dict[str, int]:
    """What each top-N race market asks of a driver (the spec's markets): to finish in the top
    N (the winner: the top 1; the points: the top 10)."""
    return {m.name: m.top for m in MARKETS if m.settles in ("top", "points") and m.top}


def titles() -> dict[str, str]:
    """The season's title markets, priced by the stored championship odds: market type ->
    whose title (the kind as championship_odds has it)."""
    return {m.name: m.title_of for m in MARKETS if m.settles == "title"}


@dataclass(frozen=True)
class Mapping:
    race_id: int | None
    driver_ref: str | None
    reason: str  # "mapped", or why not
    market_type: str = "winner"
    season: int | None = None  # a title market's season (a race market's is its race's)
    team_ref: str | None = None  # a constructors' title market's team
    priced: str = "Yes"  # the outcome priced: Yes, or a head-to-head's first-named driver


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
            teams = (
                select(RaceResult.team_id)
                .join(Race, Race.id == RaceResult.race_id)
                .where(Race.season >= (latest or 0) - 1)
            )
            self.teams = session.execute(
                select(Team.ref, Team.name).where(Team.id.in_(teams))
            ).all()
            # each recent driver's team in their latest race (teammates share it)
            latest_team = (
                select(Driver.ref, RaceResult.team_id)
                .join(RaceResult, RaceResult.driver_id == Driver.id)
                .join(Race, Race.id == RaceResult.race_id)
                .where(Race.season >= (latest or 0) - 1)
                .order_by(Race.date)
            )
            self.teams_of = dict(session.execute(latest_team).tuples().all())

    def map(self, event: dict[str, Any], market: MarketData) -> Mapping:
        title = _plain(str(event.get("title", "")))
        kind, unpriced = market_kind(title, _plain(market.question))
        if kind is None:
            return Mapping(None, None, unpriced or "not a market we price", "unmapped")
        when = market.end_date or _parse(event.get("endDate"))
        year = re.search(r"\b(19[5-9]\d|20\d\d)\b", title)
        if kind in titles():
            season = int(year[1]) if year else when.year if when else None
            if season is None:
                return Mapping(None, None, "no season named or implied by an end date", kind)
            return self._title(market, kind, season)
        if when is None:
            return Mapping(None, None, "the market has no end date to find its season")
        races = [r for r in self.races if r.season == when.year and _plain(r.name) in title]
        if not races:
            return Mapping(None, None, f"no {when.year} Grand Prix named in {event.get('title')!r}")
        race = min(races, key=lambda r: abs((r.date - when.date()).days))
        if spec_market(kind).settles == "ahead_of_teammate":
            return self._head_to_head(market, race.id)
        named = market.group_item_title or market.question
        found = self._drivers(named)
        if len(found) != 1:
            problem = "no driver" if not found else f"{len(found)} drivers"
            return Mapping(race.id, None, f"{problem} of ours named in {named!r}", kind)
        return Mapping(race.id, found[0], "mapped", kind)

    def _drivers(self, name: str) -> list[str]:
        """The recent drivers `name` names: by full name, else by surname."""
        who = _plain(name)
        full = [d for d in self.drivers if _plain(f"{d.forename} {d.surname}") in who]
        by_surname = [d for d in self.drivers if re.search(rf"\b{_plain(d.surname)}\b", who)]
        return [d.ref for d in full or by_surname]

    def _head_to_head(self, market: MarketData, race_id: int) -> Mapping:
        """A duel whose two outcomes name two teammates: priced as P(the first ahead of the
        second), the finishing-order distribution's teammate head-to-head."""
        named = [self._drivers(outcome) for outcome in market.outcomes]
        if len(named) != 2 or any(len(n) != 1 for n in named) or named[0] == named[1]:
            why = f"not a market we price (head to head of {market.outcomes}: not two drivers)"
            return Mapping(race_id, None, why, "unmapped")
        (first,), (second,) = named
        if self.teams_of.get(first) != self.teams_of.get(second):
            why = f"not a market we price (head to head of {first} and {second}: not teammates)"
            return Mapping(race_id, None, why, "unmapped")
        return Mapping(race_id, first, "mapped", "h2h", priced=market.outcomes[0])

    def _title(self, market: MarketData, kind: str, season: int) -> Mapping:
        """A drivers' or constructors' title market of `season`: whose title it asks about."""
        named = market.group_item_title or market.question
        if titles()[kind] == "constructor":
            who = _plain(named)
            teams = [t for t in self.teams if re.search(rf"\b{_plain(t.name)}\b", who)]
            if len(teams) != 1:
                problem = "no team" if not teams else f"{len(teams)} teams"
                return Mapping(None, None, f"{problem} of ours named in {named!r}", kind, season)
            return Mapping(None, None, "mapped", kind, season, teams[0].ref)
        found = self._drivers(named)
        if len(found) != 1:
            problem = "no driver" if not found else f"{len(found)} drivers"
            return Mapping(None, None, f"{problem} of ours named in {named!r}", kind, season)
        return Mapping(None, found[0], "mapped", kind, season)


UNPRICED = ("pole", "fastest lap", "constructor")
HEAD_TO_HEAD = ("head to head", " vs ")


def market_kind(title: str, question: str) -> tuple[str | None, str | None]:
    """(market type, None) for a market the model prices, else (None, why not); `title` and
    `question` as `_plain` gives them."""
    text = f" {title} {question} "
    if re.search(r"\bconstructors?\s+(world\s+)?champion", text):
        return "constructors_title", None
    if re.search(r"\b(drivers?\s+(world\s+)?champion|world\s+champion)", text):
        return "drivers_title", None
    for kind in UNPRICED:
        if kind in text:
            return None, f"not a market we price ({kind.strip()})"
    if any(kind in text for kind in HEAD_TO_HEAD):
        return "h2h", None  # priced when its two drivers are teammates (Mapper.map)
    if "podium" in text:
        return "podium", None
    top = re.search(r"\btop (\d+)\b", text)
    if top is not None:
        wanted = int(top[1])
        for market_type, n in top_markets().items():
            if n == wanted:
                return market_type, None
        return None, f"not a market we price (top {wanted}: we price the top 3, 6 and 10)"
    if re.search(r"\b(score|scores|in the) points\b", text):
        return "points", None
    if "winner" in title or re.search(r"\bwin\b", question):
        return "winner", None
    return None, (
        "not a market we price (neither the event nor the question is about winning, the "
        "podium, the top 6 or the points)"
    )


def _parse(value: Any) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
