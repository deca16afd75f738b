"""Free practice: one entry per driver and session, sessions FP1–FP4, and best laps that parse
and agree with their milliseconds."""

from __future__ import annotations

import re

import great_expectations as gx
import pandas as pd

from expectations.common import OK, all_ok, label, named, new_suite

SQL = (
    "SELECT r.season, r.round, p.race_id, p.session, d.ref AS driver_ref, t.ref AS team_ref, "
    "p.position, p.time_text, p.milliseconds, p.laps FROM practice_results p "
    "JOIN races r ON r.id = p.race_id LEFT JOIN drivers d ON d.id = p.driver_id "
    "LEFT JOIN teams t ON t.id = p.team_id"
)
LAP = re.compile(r"^(?:(\d{1,2}):)?(\d{1,3})\.(\d{1,3})$")  # 1:18.601, 59.9


def _milliseconds(text: str) -> int | None:
    found = LAP.match(text)
    if found is None:
        return None
    minutes, seconds, fraction = found.groups()
    return (int(minutes or 0) * 60 + int(seconds)) * 1000 + int(fraction.ljust(3, "0"))


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Add `row` and `lap_times`: a best lap that does not parse, or whose milliseconds say
    another time."""
    frame = frame.sort_values(["season", "round", "session", "position"]).reset_index(drop=True)
    frame["row"] = label(frame, "driver_ref") + " FP" + frame["session"].astype(str)
    checks = []
    for row, text, ms in zip(frame["row"], frame["time_text"], frame["milliseconds"], strict=True):
        if text is None or text != text or text == "":
            checks.append(OK if ms is None or ms != ms else f"{row}: milliseconds without a time")
            continue
        parsed = _milliseconds(str(text))
        if parsed is None:
            checks.append(f"{row}: lap time {text!r} does not parse")
        elif ms is None or ms != ms or int(ms) != parsed:
            checks.append(f"{row}: lap time {text} is not its milliseconds {ms}")
        else:
            checks.append(OK)
    frame["lap_times"] = checks
    return frame


def suite() -> gx.ExpectationSuite:
    """The practice suite."""
    e = gx.expectations
    return new_suite(
        "practice",
        [
            named(
                e.ExpectCompoundColumnsToBeUnique(column_list=["race_id", "session", "driver_ref"]),
                "one entry per driver, session and race",
            ),
            named(
                e.ExpectColumnValuesToBeBetween(column="session", min_value=1, max_value=4),
                "sessions are FP1 to FP4",
            ),
            named(
                e.ExpectColumnValuesToBeBetween(column="position", min_value=1, max_value=60),
                "practice positions between 1 and 60",
            ),
            named(
                e.ExpectColumnValuesToBeBetween(column="laps", min_value=0, max_value=200),
                "laps run between 0 and 200 (when known)",
            ),
            named(
                e.ExpectColumnValuesToNotBeNull(column="driver_ref"),
                "every entry's driver is known",
            ),
            named(
                e.ExpectColumnValuesToNotBeNull(column="team_ref"), "every entry's team is known"
            ),
            all_ok("lap_times", "best laps parse as m:ss.fff and match their milliseconds"),
        ],
    )
