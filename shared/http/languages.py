"""Which language a request is answered in: ``Accept-Language`` negotiated between English and Chinese.

``zh``, ``zh-CN``, ``zh-Hans`` (any ``zh-*``: simplified Chinese is the only Chinese we have) →
Chinese; ``en`` or anything else → English; q-values are honoured (``q=0`` refuses a language).
Every answer of an app set up with :func:`init_languages` carries ``Content-Language`` and
``Vary: Accept-Language``; an answer that already says its language keeps it (a replayed
``Idempotency-Key`` answer is in the language of the request that made it). :class:`Label` is
the marshmallow field that shows a code's label.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, has_request_context, request
from marshmallow import fields
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

import shared.i18n.kernel_labels  # noqa: F401 - registers the roles', kinds' and statuses' labels
from shared.i18n import CONTENT_LANGUAGE, DEFAULT_LOCALE, LOCALES, label, render

__all__ = ["Label", "current_locale", "init_languages", "negotiate"]


def negotiate(accept_language: str | None) -> str:
    """The locale (one of :data:`shared.i18n.LOCALES`) best fitting an ``Accept-Language`` value."""
    if not accept_language:
        return DEFAULT_LOCALE
    # By quality alone, in the client's order within one quality (werkzeug also puts "*" last,
    # whatever its quality); q=0 means "not this one".
    ranked = sorted(parse_accept_header(accept_language, LanguageAccept), key=lambda item: -item[1])
    for tag, quality in ranked:
        if quality <= 0:
            continue
        primary = tag.replace("_", "-").split("-", 1)[0].lower()
        if primary in LOCALES:
            return primary
        if primary == "*":
            return DEFAULT_LOCALE
    return DEFAULT_LOCALE


def current_locale() -> str:
    """This request's locale (English outside a request)."""
    if not has_request_context():
        return DEFAULT_LOCALE
    locale = g.get("locale")
    if locale is None:
        locale = g.locale = negotiate(request.headers.get("Accept-Language"))
    return str(locale)


def init_languages(app: Flask) -> None:
    """Say on every answer of ``app`` which language it speaks, and that it depends on the asking."""

    @app.after_request
    def _content_language(response: Response) -> Response:
        if "Content-Language" not in response.headers:
            response.headers["Content-Language"] = CONTENT_LANGUAGE[current_locale()]
        response.vary.add("Accept-Language")
        return response


class Label(fields.String):
    """Dumps a code as its label in the request's language (``Label("role", attribute="role")``).

    Add it beside the code field, never instead of it: clients branch on codes, people read labels.
    """

    def __init__(self, kind: str, **kwargs: Any) -> None:
        kwargs.setdefault("dump_only", True)
        kwargs.setdefault("metadata", {}).setdefault("description", f"The {kind} in the reader's language.")
        super().__init__(**kwargs)
        self.kind = kind

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return render(label(self.kind, str(value)), current_locale())
