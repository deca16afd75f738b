"""Helpers shared by the suites: named expectations and descriptive check columns."""

from __future__ import annotations

from typing import Any

import great_expectations as gx
import pandas as pd

OK = "ok"


def named(expectation: Any, name: str) -> Any:
    """Give an expectation the name reports use."""
    expectation.meta = {**(expectation.meta or {}), "name": name}
    expectation.description = name
    return expectation


def all_ok(column: str, name: str) -> Any:
    """Every value of a check column (built by a dataset's prepare()) is "ok"."""
    return named(gx.expectations.ExpectColumnValuesToBeInSet(column=column, value_set=[OK]), name)


def label(frame: pd.DataFrame, who: str | None = None) -> pd.Series:
    """`2024 R3 · hamilton`: how a row is named in a report's examples."""
    text = frame["season"].astype(str) + " R" + frame["round"].astype(str)
    if who is not None:
        text = text + " · " + frame[who].fillna("?").astype(str)
    return text


def new_suite(name: str, expectations: list[Any]) -> gx.ExpectationSuite:
    """A suite holding `expectations` (built without a context; the runner adds it to one)."""
    return gx.ExpectationSuite(name=name, expectations=expectations)
