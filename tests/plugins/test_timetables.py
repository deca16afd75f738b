"""The calendar timetable and cron without catch-up, on the stored 2024 calendar."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pendulum
import pytest
from airflow.timetables.base import DataInterval, TimeRestriction

from pipelines.weekend import weekend_actions
from plugins.timetables import GRACE, FutureCronTimetable, RaceWeekendTimetable
from warehouse.calendar import Weekend


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


START = TimeRestriction(earliest=pendulum.instance(at(2024, 1, 1)), latest=None, catchup=True)


def runs(timetable, first: dt.datetime, count: int) -> list[dt.datetime]:  # type: ignore[no-untyped-def]
    """The next `count` run times from `first` on, as the scheduler asks for them."""
    restriction = TimeRestriction(pendulum.instance(first), None, catchup=True)
    last, out = None, []
    for _ in range(count):
        info = timetable.next_dagrun_info(
            last_automated_data_interval=last, restriction=restriction
        )
        out.append(info.run_after)
        last = info.data_interval
    return out


def test_a_weekend_runs_before_it_after_qualifying_after_the_race_and_on_monday(
    history_copy: Path,
) -> None:
    # Singapore 2024: FP1 Fri 09:30, FP3 Sat 09:30, qualifying Sat 13:00, race Sun 12:00 (UTC);
    # Austin 2024, a sprint weekend: FP1 Fri 17:30, sprint Sat 18:00, qualifying Sat 22:00
    assert runs(RaceWeekendTimetable(), at(2024, 9, 19), 13) == [
        at(2024, 9, 19, 9, 30),  # a day before the first session
        at(2024, 9, 21, 11, 0),  # FP3 published (OpenF1)
        at(2024, 9, 21, 15, 0),  # qualifying published
        at(2024, 9, 22, 15, 0),  # results published
        at(2024, 9, 23, 6, 0),  # the Monday backstop
        at(2024, 9, 30, 6, 0),
        at(2024, 10, 7, 6, 0),
        at(2024, 10, 14, 6, 0),
        at(2024, 10, 17, 17, 30),
        at(2024, 10, 19, 20, 0),  # the sprint before qualifying published: practice's stage
        at(2024, 10, 20, 0, 0),  # qualifying published
        at(2024, 10, 20, 22, 0),
        at(2024, 10, 21, 6, 0),
    ]


def test_a_sprint_after_qualifying_is_acted_upon() -> None:
    # the 2023 format: qualifying on Friday, the sprint (a post_quali feature) on Saturday
    baku = Weekend(
        1,
        2023,
        4,
        "Azerbaijan Grand Prix",
        {
            "fp1": at(2023, 4, 28, 9, 30),
            "quali": at(2023, 4, 28, 13, 0),
            "sprint_quali": at(2023, 4, 29, 8, 30),
            "sprint": at(2023, 4, 29, 12, 30),
            "race": at(2023, 4, 30, 11, 0),
        },
    )
    assert [(a.kind, a.at) for a in weekend_actions(baku)] == [
        ("pre_weekend", at(2023, 4, 27, 9, 30)),
        ("after_practice", at(2023, 4, 28, 11, 0)),  # FP1, the one practice before qualifying
        ("after_quali", at(2023, 4, 28, 15, 0)),
        ("after_sprint", at(2023, 4, 29, 14, 30)),
        ("after_race", at(2023, 4, 30, 14, 0)),
    ]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(2024, 9, 18, 12), at(2024, 9, 19, 9, 30)),
        # first scheduled (or unpaused) 5 minutes after qualifying was published: the missed
        # run is not started, the next one waits for the race
        (at(2024, 9, 21, 15, 5), at(2024, 9, 22, 15, 0)),
    ],
)
def test_first_scheduling_never_starts_a_run_in_the_past(
    history_copy: Path, now: dt.datetime, expected: dt.datetime
) -> None:
    no_catch_up = START._replace(catchup=False)
    info = RaceWeekendTimetable(clock=lambda: now).next_dagrun_info(
        last_automated_data_interval=None, restriction=no_catch_up
    )
    assert info is not None and info.run_after == expected


def test_a_run_late_by_less_than_the_grace_still_runs_a_later_one_does_not(
    history_copy: Path,
) -> None:
    no_catch_up = START._replace(catchup=False)
    last = DataInterval.exact(pendulum.instance(at(2024, 9, 19, 9, 30)))
    for late, expected in (
        (GRACE - dt.timedelta(minutes=1), at(2024, 9, 21, 15, 0)),
        (GRACE + dt.timedelta(minutes=1), at(2024, 9, 22, 15, 0)),
    ):
        timetable = RaceWeekendTimetable(clock=lambda late=late: at(2024, 9, 21, 15) + late)
        info = timetable.next_dagrun_info(
            last_automated_data_interval=last, restriction=no_catch_up
        )
        assert info is not None and info.run_after == expected


def test_without_a_calendar_only_the_backstop_runs(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("F1_DATABASE_URL", f"sqlite:///{tmp_path / 'missing' / 'none.db'}")
    assert runs(RaceWeekendTimetable(), at(2025, 1, 1), 2) == [
        at(2025, 1, 6, 6),
        at(2025, 1, 13, 6),
    ]


def test_future_cron_never_catches_up() -> None:
    monthly = FutureCronTimetable("0 7 * * 1#1", clock=lambda: at(2024, 10, 8, 12))
    info = monthly.next_dagrun_info(
        last_automated_data_interval=None, restriction=START._replace(catchup=False)
    )
    assert info is not None and info.run_after == at(2024, 11, 4, 7)  # not Monday Oct 7
    assert runs(monthly, at(2024, 9, 1), 3) == [
        at(2024, 9, 2, 7),
        at(2024, 10, 7, 7),
        at(2024, 11, 4, 7),
    ]


def test_timetables_survive_serialization() -> None:
    weekend = RaceWeekendTimetable.deserialize(RaceWeekendTimetable("0 5 * * 2").serialize())
    assert isinstance(weekend, RaceWeekendTimetable) and weekend.cron == "0 5 * * 2"
    assert FutureCronTimetable.deserialize(
        FutureCronTimetable("*/15 * * * *").serialize()
    ).cron == ("*/15 * * * *")
