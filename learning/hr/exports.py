"""Spreadsheet writers for the HR report: hardened CSV and XLSX, both streamed.

The CSV starts with a UTF-8 byte-order mark (so Excel reads Cyrillic correctly) and
neutralises formula injection: a text cell starting with = + - @ TAB or CR gets a
leading apostrophe (OWASP "CSV injection"). The XLSX uses openpyxl's write-only mode
(rows go to a temporary file, never all into memory) and the same neutralisation; text
cells never become formulas.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_STARTS = frozenset(FORMULA_PREFIXES)
BOM = "\ufeff"
# Characters XML 1.0 (and so XLSX) cannot hold.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
CHUNK_ROWS = 500
CHUNK_BYTES = 64 * 1024

Cell = str | int | float | date | datetime | None


def escape_cell(value: Cell) -> Cell:
    """Neutralise a text cell a spreadsheet would run as a formula; other values pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_value(value: Cell) -> str | int | float:
    cls = value.__class__
    if cls is str:
        return "'" + value if value[:1] in _FORMULA_STARTS else value
    if value is None:
        return ""
    if cls is datetime:
        return value.strftime("%Y-%m-%d %H:%M")
    if cls is date:
        return value.isoformat()
    return escape_cell(value)


def stream_csv(header: list[str], rows: Iterable[list[Cell]]) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM, yielded in chunks of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([escape_cell(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
        count += 1
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def escape_csv_text(value: str) -> str:
    """escape_cell for a text known to be a str (the CSV's hot path)."""
    return "'" + value if value[:1] in _FORMULA_STARTS else value


def _xlsx_value(value: Cell) -> Cell:
    if isinstance(value, str):
        return escape_cell(_ILLEGAL_XML.sub("", value))
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones; callers pass local times
    return value


def stream_xlsx(
    header: list[str],
    rows: Iterable[list[Cell]],
    *,
    sheet_title: str = "Report",
    widths: list[int] | None = None,
) -> Iterator[bytes]:
    """An XLSX workbook built in write-only mode in a temporary file, then yielded in chunks."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_ILLEGAL_XML.sub("", sheet_title)[:31] or "Report")
    for index, width in enumerate(widths or [], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for title in header:
        cell = WriteOnlyCell(sheet, value=_xlsx_value(title))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_xlsx_value(v) for v in row])
    with tempfile.TemporaryFile() as output:
        workbook.save(output)
        output.seek(0)
        while chunk := output.read(CHUNK_BYTES):
            yield chunk


def _header_text(header: list[str]) -> io.StringIO:
    buffer = io.StringIO()
    buffer.write(BOM)
    csv.writer(buffer, lineterminator="\r\n").writerow([escape_cell(h) for h in header])
    return buffer


def stream_csv_lines(header: list[str], lines: Iterable[str]) -> Iterator[bytes]:
    """The CSV from text already written as CSV lines (queries.iter_export_lines), after the
    BOM and header, yielded in chunks of about CHUNK_BYTES."""
    parts = [_header_text(header).getvalue()]
    size = 0
    for text in lines:
        parts.append(text)
        size += len(text)
        if size >= CHUNK_BYTES:
            yield "".join(parts).encode("utf-8")
            parts.clear()
            size = 0
    if parts:
        yield "".join(parts).encode("utf-8")


def stream_csv_records(header: list[str], records: Iterable[bytes | memoryview]) -> Iterator[bytes]:
    """The CSV from records already written by PostgreSQL's COPY (FORMAT csv), each one row
    ending in '\\n': the BOM and header first, each record's end made '\\r\\n' as csv.writer
    writes it (a newline inside a quoted cell stays as it is), yielded in ~CHUNK_BYTES chunks."""
    out = bytearray(_header_text(header).getvalue().encode("utf-8"))
    for record in records:
        out += record[:-1]
        out += b"\r\n"
        if len(out) >= CHUNK_BYTES:
            yield bytes(out)
            out.clear()
    if out:
        yield bytes(out)
