"""The hardened spreadsheet writers and the SVG charts (pure code)."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import date, datetime

import pytest

from learning.hr import charts
from learning.hr.exports import escape_cell, stream_csv, stream_xlsx


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+7 701", "'+7 701"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Айгерим", "Айгерим"),
        ("a=b", "a=b"),
        ("", ""),
        (-2, -2),
        (3.5, 3.5),
        (None, None),
    ],
)
def test_escape_cell(value, expected):
    assert escape_cell(value) == expected


def test_csv_has_bom_crlf_and_escapes():
    rows = [["=1+1", 5, None, date(2026, 1, 2), datetime(2026, 1, 2, 3, 4), 'He said "hi"\nbye']]
    data = b"".join(stream_csv(["Имя", "n", "x", "d", "t", "s"], rows))
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert parsed == [
        ["Имя", "n", "x", "d", "t", "s"],
        ["'=1+1", "5", "", "2026-01-02", "2026-01-02 03:04", 'He said "hi"\nbye'],
    ]


def test_csv_streams_in_chunks_with_flat_memory():
    def rows():
        for i in range(60_000):
            yield [f"Person {i}", "unit", i, 87.5]

    tracemalloc.start()
    chunks = 0
    for _chunk in stream_csv(["a", "b", "c", "d"], rows()):
        chunks += 1
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert chunks > 100
    assert peak < 5_000_000  # never the whole file in memory


def test_xlsx_writes_text_never_formulas():
    from openpyxl import load_workbook

    data = b"".join(
        stream_xlsx(
            ["Name", "Score"], [['=HYPERLINK("x")\x00', 90.0], ["Әсем", None]], widths=[20, 8]
        )
    )
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet["A2"].value == '\'=HYPERLINK("x")' and sheet["A2"].data_type == "s"
    assert sheet["B2"].value == 90.0 and sheet["A3"].value == "Әсем"


def test_charts_escape_labels_and_have_titles():
    svg = charts.bar_chart([("<script>alert(1)</script>", 50.0, "1/2")], "Rate & more")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "<title>Rate &amp; more</title>" in svg and 'role="img"' in svg
    assert "style=" not in svg
    line = charts.line_chart([("2026-01", 0), ("2026-02", 5)], "Line")
    assert "<polyline" in line and "style=" not in line
    hist = charts.histogram([("0–9", 0), ("90–100", 3)], "Hist")
    assert hist.count("<rect") == 2
    assert charts.line_chart([], "Empty").startswith("<svg")
