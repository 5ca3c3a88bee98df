"""Texts in the park's two languages: marked in code, rendered in the reader's language.

Marking: ``_("Space {name} is closed on {day}.", name=space.name, day=day)`` returns a
:class:`Message` — the English text (the msgid) with named placeholders and their values. Nothing
is translated when it is made, so rules, handlers and workers may mark texts without knowing who
will read them. ``str(message)`` is the English text, filled in (logs, exceptions).

Rendering: :func:`render` fills a message in one of :data:`LOCALES`; a plain ``str`` is returned as
it is (texts not yet marked keep working). The HTTP layer renders problems in the language
``Accept-Language`` asked for (``shared.http.languages``).

Catalogues: one ``locale/zh/LC_MESSAGES/messages.po`` per package (``shared``, ``gateway``,
``services/<name>``), extracted with ``pybabel extract -F babel.cfg`` (docs/API.md, "Languages").
They are read once, in memory, on first use: no compiled ``.mo`` files are kept. All catalogues
form one table, so one English text has one Chinese text across the platform. A fuzzy or empty
entry is no translation (the English text is shown); ``tests/test_i18n.py`` fails while any marked
text lacks its Chinese.

Labels: the names the platform shows for codes (roles, statuses, kinds) are messages too, looked
up with :func:`label` after a package registered them with :func:`register_labels`.

No web framework here: ``shared.errors`` and the services' rules import this module.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from babel.messages.pofile import read_po

__all__ = [
    "CONTENT_LANGUAGE",
    "DEFAULT_LOCALE",
    "LOCALES",
    "Listing",
    "Message",
    "Text",
    "_",
    "catalogue_directories",
    "label",
    "register_labels",
    "render",
    "translation",
]

LOCALES: Final = ("en", "zh")
"""The languages the platform speaks: English (the msgids themselves) and simplified Chinese."""
DEFAULT_LOCALE: Final = "en"
CONTENT_LANGUAGE: Final = {"en": "en", "zh": "zh-CN"}
"""The ``Content-Language`` tag of each locale."""
DOMAIN: Final = "messages"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """A marked text: its English ``msgid`` with ``{name}`` placeholders and their values.

    A value may itself be a :class:`Message` (a label, say) or a :class:`Listing` of them; it is
    rendered in the same language.
    """

    msgid: str
    params: Mapping[str, object] = field(default_factory=dict)

    def render(self, locale: str) -> str:
        values = {
            name: value.render(locale) if isinstance(value, Message | Listing) else value
            for name, value in self.params.items()
        }
        template = translation(self.msgid, locale)
        try:
            return template.format_map(values)
        except (KeyError, IndexError, ValueError, AttributeError):
            # A translation whose placeholders do not match its msgid: the test of the catalogues
            # catches it, and a reader still gets the English text rather than an error.
            log.warning("translation of %r into %s does not fit its placeholders", self.msgid, locale)
            try:
                return self.msgid.format_map(values)
            except (KeyError, IndexError, ValueError, AttributeError):
                return self.msgid

    def __str__(self) -> str:
        return self.render(DEFAULT_LOCALE)


Text = str | Message
"""What a problem's detail or title may be: a marked message, or a plain text shown as it is."""


@dataclass(frozen=True)
class Listing:
    """Several texts as one value of a message, joined as the language writes a list
    (``Park administrator, Service desk staff``; ``园区管理员、服务台工作人员``)."""

    items: tuple[Text, ...]

    def render(self, locale: str) -> str:
        separator = "、" if locale == "zh" else ", "
        return separator.join(render(item, locale) for item in self.items)

    def __str__(self) -> str:
        return self.render(DEFAULT_LOCALE)


def _(msgid: str, /, **params: object) -> Message:
    """Mark ``msgid`` (a literal, for extraction) for translation, with its placeholders' values."""
    return Message(msgid, params)


def render(text: Text, locale: str) -> str:
    """``text`` in ``locale``: a message translated and filled in, a plain string as it is."""
    if isinstance(text, Message):
        return text.render(locale)
    return text


# Catalogues ----------------------------------------------------------------------------------

_CODE_ROOT = Path(__file__).resolve().parent.parent.parent
"""Where the ``shared``, ``gateway`` and ``services`` packages sit side by side (the repository,
or site-packages when installed); their ``locale/`` folders are data, read without importing them."""
_PACKAGE_GLOBS = ("shared", "gateway", "services/*")
_tables: dict[str, dict[str, str]] = {}
_tables_lock = threading.Lock()


def catalogue_directories(root: Path = _CODE_ROOT) -> list[Path]:
    """Each package's ``locale/`` folder, kernel first (a service's entry wins over the kernel's)."""
    found: list[Path] = []
    for pattern in _PACKAGE_GLOBS:
        for package in sorted(root.glob(pattern)):
            if (package / "locale").is_dir():
                found.append(package / "locale")
    return found


def _load(locale: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for directory in catalogue_directories():
        path = directory / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not path.is_file():
            continue
        with path.open("rb") as po:
            catalogue = read_po(po, locale=locale)
        for entry in catalogue:
            if entry.id and isinstance(entry.id, str) and isinstance(entry.string, str):
                if entry.string and not entry.fuzzy:
                    table[entry.id] = entry.string
    return table


def translation(msgid: str, locale: str) -> str:
    """The text of ``msgid`` in ``locale`` (the msgid itself in English or when untranslated)."""
    if locale == DEFAULT_LOCALE or locale not in LOCALES:
        return msgid
    table = _tables.get(locale)
    if table is None:
        with _tables_lock:
            table = _tables.get(locale)
            if table is None:
                table = _tables[locale] = _load(locale)
    return table.get(msgid, msgid)


def forget_catalogues() -> None:
    """Read the catalogues again on next use (tests that edit them)."""
    with _tables_lock:
        _tables.clear()


# Labels --------------------------------------------------------------------------------------

_labels: dict[str, dict[str, Message]] = {}


def register_labels(kind: str, labels: Mapping[str, Message]) -> None:
    """Name the codes of ``kind`` (e.g. ``"role"``: ``{"park_admin": _("Park administrator")}``).

    A package registers its labels when its schemas are imported; registering a code again
    replaces its label.
    """
    _labels.setdefault(kind, {}).update(labels)


def label(kind: str, code: str) -> Text:
    """The label of ``code`` among the ``kind`` codes; the code itself when it has none."""
    return _labels.get(kind, {}).get(code, code)
