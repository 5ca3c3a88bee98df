"""Downloads people open in a spreadsheet: a report as CSV, with its headers in the reader's
language (or its keys, for programs) and a file name (:func:`csv_download`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import Response

from shared.csv import csv_lines
from shared.http.languages import current_locale
from shared.i18n import Text, render

HEADERS = ("labels", "keys")
"""``header=labels`` (the default): the columns' names in the reader's language; ``keys``: their codes."""


def csv_download(
    columns: Mapping[str, Text], rows: Iterable[Mapping[str, object]], *, header: str, filename: str
) -> Response:
    """A CSV answer (``shared.csv``: byte order mark, CRLF, formula-like cells made inert) of
    ``rows``, a column per key of ``columns`` headed by its name (``header="labels"``) or its key
    (``"keys"``), sent as the attachment ``filename``."""
    head = list(columns) if header == "keys" else [render(text, current_locale()) for text in columns.values()]
    response = Response("".join(csv_lines(head, list(columns), rows)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


CSV_RESPONSE: dict[str, Any] = {
    "description": "The report as CSV, one row per group (UTF-8 with a byte order mark; headers in the "
    "reader's language unless header=keys).",
    "content": {"text/csv": {"schema": {"type": "string"}}},
}
"""The OpenAPI response of a report's CSV download (``@blp.doc(responses={"200": CSV_RESPONSE})``)."""
