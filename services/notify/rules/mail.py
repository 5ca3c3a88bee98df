"""What an e-mail of a notice says, and when a failed one is tried again. Pure: the texts are
marked messages rendered in the reader's language, laid out by the templates under
``templates/email/`` (``notice.txt`` and ``notice.html``, one layout per format for both
languages, so every word a reader sees is in the catalogue); jinja2 renders them, HTML-escaped.

A person's language is the one they chose in ``/preferences``; none chosen: the park's default,
Chinese (:data:`DEFAULT_LANGUAGE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import jinja2

from services.notify.rules.names import NOTICE_KIND_NAMES
from shared.i18n import _, render

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

RETRY_AFTER: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
"""The wait after failed attempt 1, 2, 3, 4; the 5th failure is final (``failed``)."""
ATTEMPTS = len(RETRY_AFTER) + 1

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"


@dataclass(frozen=True)
class Letter:
    """An e-mail as it is sent: its subject line, a plain-text body and the same as HTML."""

    subject: str
    text: str
    html: str


def language_of(chosen: str | None) -> str:
    """The language to write to a person in: their choice, else the park's default."""
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def next_attempt(attempts: int, failed_at: datetime) -> datetime | None:
    """When to try again after ``attempts`` attempts, the last of which failed at ``failed_at``;
    None once the attempts are spent (the e-mail is then ``failed``)."""
    if attempts < 1 or attempts > len(RETRY_AFTER):
        return None
    return failed_at + RETRY_AFTER[attempts - 1]


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def compose(*, language: str, name: str, kind: str, title: str, body: str) -> Letter:
    """The e-mail telling ``name`` of a notice of ``kind`` whose ``title`` and ``body`` are
    already in ``language`` (a notification keeps both languages)."""
    language = language_of(language)
    kind_name = NOTICE_KIND_NAMES.get(kind)
    words = {
        "greeting": render(_("Dear {name},", name=name), language),
        "title": title,
        "body": body,
        "why": render(
            _(
                "You receive this e-mail because e-mail is on for notices of the kind “{kind}”. "
                "You can turn it off in ParkHub's notification preferences.",
                kind=kind_name if kind_name is not None else kind,
            ),
            language,
        ),
        "signature": render(_("Tianfu Life Science Park · ParkHub"), language),
        "lang": "zh-CN" if language == "zh" else "en",
    }
    subject = render(_("[ParkHub] {title}", title=title), language)
    # A header is one line: a title never folds the subject into a second header.
    subject = " ".join(subject.split())[:300]
    environment = _environment()
    return Letter(
        subject=subject,
        text=environment.get_template("notice.txt").render(words),
        html=environment.get_template("notice.html").render(words, subject=subject),
    )
