"""The feature table: keys, and each feature within its documented range, present where the
model needs it. The columns come from the feature view, passed in as plain data."""

from __future__ import annotations

from collections.abc import Iterable

import great_expectations as gx
import pandas as pd

from expectations.common import label, named, new_suite

# (name, nullable, low, high) per feature
Column = tuple[str, bool, float | None, float | None]


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Add `row`."""
    frame = frame.reset_index(drop=True)
    frame["row"] = label(frame, "driver_ref") + " (" + frame["stage"] + ")"
    return frame


def suite(columns: Iterable[Column]) -> gx.ExpectationSuite:
    """The features suite for the given feature columns."""
    e = gx.expectations
    expectations = [
        named(
            e.ExpectCompoundColumnsToBeUnique(column_list=["race_id", "driver_id", "stage"]),
            "one row per (race, driver, stage)",
        ),
    ]
    for name, nullable, low, high in columns:
        if not nullable:
            expectations.append(
                named(
                    e.ExpectColumnValuesToNotBeNull(column=name),
                    f"{name} present (the model needs it)",
                )
            )
        if low is not None or high is not None:
            expectations.append(
                named(
                    e.ExpectColumnValuesToBeBetween(column=name, min_value=low, max_value=high),
                    f"{name} within [{low}, {high}]",
                )
            )
    return new_suite("features", expectations)
