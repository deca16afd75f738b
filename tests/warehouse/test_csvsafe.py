"""CSV formula injection (OWASP): text a spreadsheet would run is written as text, in every
CSV the platform writes."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy import literal, select

from warehouse import csvsafe
from warehouse.db import make_engine
from warehouse.exports import write_csv

DANGEROUS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1", '=HYPERLINK("http://x","y")']


def test_cells_a_spreadsheet_would_run_are_written_as_text() -> None:
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)
    writer.writerow([*DANGEROUS, "Ana Lima", "a=b", -3, 2.5, None])
    (row,) = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert row[: len(DANGEROUS)] == ["'" + cell for cell in DANGEROUS]
    assert row[len(DANGEROUS) :] == ["Ana Lima", "a=b", "-3", "2.5", ""]  # numbers stay numbers


def test_the_season_export_file_goes_through_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    query = select(literal("=cmd|' /C calc'!A0").label("name"), literal(-1).label("delta"))
    count = write_csv(engine, query, ("name", "delta"), tmp_path / "out.csv")
    engine.dispose()
    rows = list(csv.reader((tmp_path / "out.csv").open()))
    assert count == 1 and rows == [["name", "delta"], ["'=cmd|' /C calc'!A0", "-1"]]
