"""Parsers of the text values F1 sources send (CSV cells, Ergast JSON strings).

Each raises ValueError with a message that says what was wrong with the value.
"""

from __future__ import annotations

import datetime as dt


def integer(text: str) -> int:
    """A whole number, e.g. `3`."""
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None


def number(text: str) -> float:
    """A decimal number, e.g. `1.33`."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def date(text: str) -> dt.date:
    """An ISO date, e.g. `2024-03-02`."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def clock(text: str) -> dt.time:
    """A time of day, e.g. `15:00:00`."""
    try:
        return dt.time.fromisoformat(text.removesuffix("Z"))
    except ValueError:
        raise ValueError(f"{text!r} is not a time of day (HH:MM:SS)") from None


def text(value: str) -> str:
    """Any non-empty text."""
    if not value:
        raise ValueError("is empty")
    return value


def lap_millis(text: str) -> int:
    """A lap time in milliseconds, from `1:26.543` (or `86.543`)."""
    minutes, _, seconds = text.rpartition(":")
    try:
        millis = round((int(minutes or 0) * 60 + float(seconds)) * 1000)
    except ValueError:
        raise ValueError(f"{text!r} is not a lap time (m:ss.fff)") from None
    if millis <= 0:
        raise ValueError(f"{text!r} is not a lap time (m:ss.fff)")
    return millis
