"""CSV documents people open in a spreadsheet: a byte order mark (Excel reads UTF-8 without one
in the machine's ANSI code page and garbles Chinese), CRLF lines, and cells that start like a
formula made inert (CSV injection). Pure: no web framework, so queries may use it; a view turns
the lines into a download."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

__all__ = ["BOM", "FORMULA_STARTS", "csv_lines", "inert"]

BOM = "\ufeff"
"""Opens every CSV written for people: Excel reads a file without it in the machine's ANSI code
page and garbles Chinese; ``csv`` readers take it off with ``encoding="utf-8-sig"``."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""How a cell starts that Excel, LibreOffice or Numbers would run as a formula (or a DDE command)."""
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def inert(value: object) -> object:
    """``value`` as a CSV cell a spreadsheet shows rather than runs (CSV injection): a text that
    starts like a formula (:data:`FORMULA_STARTS`) gets a leading ``'``, which spreadsheets take
    as "this is text". Anything else is as given: numbers, and a text that is only a number (a
    floor ``-1``, money ``-5.00``), which has nothing to run."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_lines(head: Sequence[str], keys: Sequence[str], rows: Iterable[Mapping[str, object]]) -> Iterator[str]:
    """A CSV document line by line (a generator, so a long one is streamed): the byte order mark
    and ``head``, then each row's ``keys`` (missing ones and ``None`` empty, texts made
    :func:`inert`), lines ended CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(head)
    yield BOM + out.getvalue()
    for row in rows:
        out.seek(0)
        out.truncate()
        writer.writerow(["" if row.get(key) is None else inert(row.get(key)) for key in keys])
        yield out.getvalue()
