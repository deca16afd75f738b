"""Registers the platform's timetables with Airflow (loaded from the plugins folder)."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from plugins.timetables import FutureCronTimetable, RaceWeekendTimetable


class F1Plugin(AirflowPlugin):
    """The race calendar's timetable and cron without catch-up."""

    name = "f1"
    timetables = [RaceWeekendTimetable, FutureCronTimetable]
