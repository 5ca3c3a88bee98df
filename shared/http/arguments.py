"""The platform's request parser: how every ``@blp.arguments`` reads a JSON body or a query string.

webargs' ``FlaskParser``, stricter and clearer where a client gets things wrong:

- a JSON body that is not UTF-8 → 400 ``body-not-utf8``; not JSON → 400 ``body-not-json`` with the
  line and column where it stops being JSON (``NaN`` and ``Infinity`` are not JSON either);
- a body sent with another ``Content-Type`` to a JSON endpoint → 415 ``unsupported-media-type``
  naming ``application/json`` (not a 422 about missing fields);
- a query parameter the endpoint's schema does not name → 400 ``unknown-parameter`` naming each
  one, so a typo in a filter never silently widens a list. Invalid values of known parameters stay
  422 ``validation-failed``. (Endpoints without any query schema: ``shared.http.blueprint``.)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import flask
import marshmallow as ma
from webargs import core
from webargs.flaskparser import FlaskParser

from shared.http.problems import RequestProblem
from shared.i18n import _

JSON = "application/json"
_ACCEPT_HEADER = {"POST": "Accept-Post", "PATCH": "Accept-Patch"}
"""How a 415 says what the method takes (RFC 9110 §15.5.16 points to these headers)."""


def _not_a_json_constant(name: str) -> Any:
    raise ValueError(name)


def read_json_body(req: flask.Request) -> Any:
    """The JSON document of ``req``'s body, or ``core.missing`` when it has none.

    Raises :class:`RequestProblem` (415, or 400 ``body-not-utf8`` / ``body-not-json``).
    """
    raw = req.get_data(cache=True)
    if not raw:
        return core.missing
    if not core.is_json(req.mimetype):
        raise RequestProblem(
            415,
            _(
                "This endpoint takes a JSON body: send it with Content-Type: {expected}, not {sent}.",
                expected=JSON,
                sent=req.mimetype or "none",
            ),
            code="unsupported-media-type",
            headers={_ACCEPT_HEADER[req.method]: JSON} if req.method in _ACCEPT_HEADER else {},
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequestProblem(
            400,
            _(
                "The body is not UTF-8: the byte at position {position} is not valid UTF-8. "
                "JSON must be sent as UTF-8.",
                position=error.start,
            ),
            code="body-not-utf8",
        ) from None
    text = text.removeprefix("\ufeff")  # a byte order mark is allowed (RFC 8259 §8.1)
    try:
        return json.loads(text, parse_constant=_not_a_json_constant)
    except json.JSONDecodeError as error:
        raise RequestProblem(
            400,
            _("The body is not valid JSON (line {line}, column {column}).", line=error.lineno, column=error.colno),
            code="body-not-json",
            line=error.lineno,
            column=error.colno,
        ) from None
    except ValueError:  # NaN, Infinity, -Infinity
        raise RequestProblem(
            400,
            _("The body is not valid JSON: NaN and Infinity are not JSON numbers."),
            code="body-not-json",
        ) from None


def query_names(schema: ma.Schema) -> list[str]:
    """The query parameters ``schema`` takes (``data_key`` where a field has one)."""
    return [field.data_key or name for name, field in schema.load_fields.items()]


def refuse_unknown_parameters(given: Iterable[str], known: list[str]) -> None:
    """Raise a 400 ``unknown-parameter`` problem naming every parameter of ``given`` not in ``known``."""
    unknown = sorted({name for name in given if name not in known})
    if not unknown:
        return
    names = ", ".join(unknown)
    detail = (
        _("Unknown query parameter: {names}. This endpoint takes: {known}.", names=names, known=", ".join(known))
        if known
        else _("Unknown query parameter: {names}. This endpoint takes no query parameters.", names=names)
    )
    raise RequestProblem(
        400,
        detail,
        code="unknown-parameter",
        parameters=unknown,
        errors={name: [_("Unknown parameter.")] for name in unknown},
    )


class ArgumentsParser(FlaskParser):
    """The parser of every ParkHub blueprint (``shared.http.blueprint.Blueprint.ARGUMENTS_PARSER``)."""

    def load_json(self, req: flask.Request, schema: ma.Schema) -> Any:
        return read_json_body(req)

    def load_querystring(self, req: flask.Request, schema: ma.Schema) -> Any:
        refuse_unknown_parameters(req.args.keys(), query_names(schema))
        return super().load_querystring(req, schema)
