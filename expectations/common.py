"""Helpers shared by the suites: named expectations and descriptive check columns."""

from __future__ import annotations

from typing import Any

import great_expectations as gx
import pandas as pd

OK = "ok"


def named(expectation: Any, name: str, described: bool = False) -> Any:
    """Give an expectation the name reports use; `described`: its failing values already say
    which row they are (check columns), so reports show them as they are."""
    expectation.meta = {**(expectation.meta or {}), "name": name, "described": described}
    expectation.description = name
    return expectation


def all_ok(column: str, name: str) -> Any:
    """Every value of a check column (built by a dataset's prepare()) is "ok"."""
    expectation = gx.expectations.ExpectColumnValuesToBeInSet(column=column, value_set=[OK])
    return named(expectation, name, described=True)


def label(frame: pd.DataFrame, who: str | None = None) -> pd.Series:
    """`2024 R3 · hamilton`: how a row is named in a report's examples."""
    text = frame["season"].astype(str) + " R" + frame["round"].astype(str)
    if who is not None:
        text = text + " · " + frame[who].fillna("?").astype(str)
    return text


def new_suite(name: str, expectations: list[Any]) -> gx.ExpectationSuite:
    """A suite holding `expectations` (built without a context; the runner adds it to one)."""
    return gx.ExpectationSuite(name=name, expectations=expectations)
