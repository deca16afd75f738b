"""The season a replay plays: its data, its weekends, the simulated clock and what the local F1
API may reveal at each moment of it."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.weekend import PRE_WEEKEND_LEAD, published_at
from replay.ergast import NULL, ErgastData
from replay.openf1 import OpenF1Data
from replay.tables import Table, cut_before, read_folders, write_folder
from warehouse.calendar import PRACTICE_PUBLISHED, SESSIONS, Weekend, session_start

# what each endpoint reveals once published: results and standings after the race
REVEALED_BY = {
    "results": "race",
    "laps": "race",
    "driverstandings": "race",
    "constructorstandings": "race",
    "qualifying": "quali",
    "sprint": "sprint",
}


class Clock:
    """The simulated time, moved forward by the replay (thread-safe: the API reads it)."""

    def __init__(self, start: dt.datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def set(self, moment: dt.datetime) -> None:
        with self._lock:
            self._now = moment


def _day(value: str) -> dt.date | None:
    return None if value in ("", NULL) else dt.date.fromisoformat(value)


def _time(value: str) -> dt.time | None:
    return None if value in ("", NULL) else dt.time.fromisoformat(value.rstrip("Z"))


def weekend_of_row(row: dict[str, str]) -> Weekend:
    """A races.csv row as a weekend (its raceId standing in for the warehouse's id)."""
    starts = {}
    for kind in SESSIONS:
        prefix = "" if kind == "race" else f"{kind}_"
        at = session_start(
            _day(row.get(f"{prefix}date", NULL)), _time(row.get(f"{prefix}time", NULL))
        )
        if at is not None:
            starts[kind] = at
    return Weekend(int(row["raceId"]), int(row["year"]), int(row["round"]), row["name"], starts)


@dataclass
class ReplaySeason:
    """SEASON's rounds `first`–`last` from the merged `--data` folders."""

    tables: dict[str, Table]
    season: int
    first: int
    last: int
    weekends: list[Weekend] = field(default_factory=list)

    @classmethod
    def load(
        cls, folders: list[Path], season: int, rounds: tuple[int, int] | None = None
    ) -> ReplaySeason:
        """Read the folders; every round of the season unless `rounds` narrows them."""
        tables = read_folders(folders)
        weekends = sorted(
            (weekend_of_row(r) for r in tables["races.csv"].rows if int(r["year"]) == season),
            key=lambda w: w.round,
        )
        if not weekends:
            raise ValueError(f"the --data folders hold no race of {season}")
        known = [w.round for w in weekends]
        first, last = rounds or (known[0], known[-1])
        if first > last or first not in known or last not in known:
            raise ValueError(
                f"rounds {first}-{last} are not in {season}, which has rounds "
                f"{known[0]}-{known[-1]}"
            )
        with_results = {row["raceId"] for row in tables.get("results.csv", Table()).rows}
        unrun = [w.round for w in weekends if first <= w.round <= last and
                 str(w.race_id) not in with_results]  # fmt: skip
        if unrun:
            raise ValueError(f"{season} rounds {unrun} have no results in the --data folders")
        return cls(tables, season, first, last, weekends)

    @property
    def played(self) -> list[Weekend]:
        """The weekends replayed."""
        return [w for w in self.weekends if self.first <= w.round <= self.last]

    @property
    def start(self) -> dt.datetime:
        """When the simulated clock starts: an hour before the first replayed weekend's
        first action (a day before its first session)."""
        first = self.played[0]
        return first.first_session - PRE_WEEKEND_LEAD - dt.timedelta(hours=1)

    @property
    def end(self) -> dt.datetime:
        """When it stops: once the last replayed race's results are in."""
        end = published_at(self.played[-1], "race")
        assert end is not None
        return end

    def history(self, folder: Path) -> Path:
        """The warehouse's starting point as an Ergast-layout folder: every season before,
        and this season's rounds before the first replayed one."""
        return write_folder(cut_before(self.tables, self.season, self.first), folder)

    def api_data(self) -> ErgastData:
        """Everything the local API can ever serve (hidden until its time by `visible`)."""
        return ErgastData(self.tables)

    def visible(self, clock: Clock) -> VisibleRule:
        """What the local API reveals at the clock's time."""
        return VisibleRule(self, clock)

    def openf1_data(self) -> OpenF1Data:
        """Every practice session the local OpenF1 can ever serve (its classification hidden
        until published on the clock)."""
        weekends = [weekend_of_row(r) for r in self.tables["races.csv"].rows]
        return OpenF1Data(self.tables, weekends)

    def practice_revealed(self, clock: Clock) -> Callable[[int, dt.datetime], bool]:
        """Whether a practice session (by race id and start) has its classification out at the
        clock's time: PRACTICE_PUBLISHED after it starts."""
        return lambda _race_id, start: start + PRACTICE_PUBLISHED <= clock.now()


@dataclass(frozen=True)
class VisibleRule:
    """An endpoint's data of a race is visible once published on the simulated clock (seasons
    before the replayed one always; later ones never); the schedule always is."""

    replay: ReplaySeason
    clock: Clock

    def __call__(self, endpoint: str, race: tuple[int, int]) -> bool:
        season, round_ = race
        if season != self.replay.season:
            return season < self.replay.season
        weekend = next((w for w in self.replay.weekends if w.round == round_), None)
        if weekend is None:
            return False
        published = published_at(weekend, REVEALED_BY[endpoint])
        return published is not None and published <= self.clock.now()
