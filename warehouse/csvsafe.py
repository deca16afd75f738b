"""CSV that a spreadsheet will not run: every CSV the platform writes goes through `writer`.

OWASP's advice against CSV (formula) injection: a text cell that begins with `=`, `+`, `-`,
`@`, a tab or a carriage return is read as a formula by Excel, LibreOffice and Google Sheets,
so it is written with a leading single quote, which they show as text. Numbers are written as
they are (a negative number is not text). The csv module quotes what needs quoting.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value`, with a leading `'` when it is text a spreadsheet would take for a formula."""
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer whose rows are neutralised cell by cell."""

    def __init__(self, handle: IO[str]) -> None:
        self._writer = csv.writer(handle)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])


def writer(handle: IO[str]) -> SafeWriter:
    """The CSV writer every export uses."""
    return SafeWriter(handle)
