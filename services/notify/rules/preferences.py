"""A person's preferences as a whole document: their language and, per kind of notice, whether it
shows in the feed (``in_app``) and comes by e-mail. Pure.

- ``rule/notice-kind-unknown`` (422, ``kind``): a kind that is not one of rules/notices.KINDS, so a
  typo never silently sets nothing.
- ``rule/notice-kind-repeated`` (422, ``kind``): a kind given twice (which one would count?).
- A kind left out of the document is back to both on, the default.
- The document's version (its ``ETag``) is a checksum of what it says: the table keeps no counter,
  and two readers of the same preferences hold the same tag.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.notify.rules.notices import KINDS
from shared.errors import RuleViolation
from shared.i18n import _

LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class KindChoice:
    kind: str
    in_app: bool = True
    email: bool = True


def check_kinds(choices: Iterable[Mapping[str, Any]]) -> dict[str, KindChoice]:
    """Every kind of notice with its choice (given, or the default): 422 for an unknown or a
    repeated kind."""
    given: dict[str, KindChoice] = {}
    for choice in choices:
        kind = str(choice["kind"])
        if kind not in KINDS:
            raise RuleViolation(
                _("There is no kind of notice “{kind}”; the kinds are {kinds}.", kind=kind, kinds=", ".join(KINDS)),
                code="rule/notice-kind-unknown",
                kind=kind,
            )
        if kind in given:
            raise RuleViolation(
                _("The kind of notice “{kind}” is given twice.", kind=kind), code="rule/notice-kind-repeated", kind=kind
            )
        given[kind] = KindChoice(kind, bool(choice["in_app"]), bool(choice["email"]))
    return {kind: given.get(kind, KindChoice(kind)) for kind in KINDS}


def version_of(language: str | None, choices: Mapping[str, KindChoice]) -> int:
    """The document's version: a checksum of the language and each kind's choice."""
    canonical = json.dumps(
        [language, [[kind, choices[kind].in_app, choices[kind].email] for kind in sorted(choices)]],
        separators=(",", ":"),
    )
    return zlib.crc32(canonical.encode())
