"""Commands of a person's preferences. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.principal import Principal


@dataclass(frozen=True)
class SavePreferences:
    """Replace the caller's preferences with ``language`` and ``kinds`` (each ``kind``, ``in_app``,
    ``email``; a kind left out is back to both on) under ``If-Match`` (``expected_versions``;
    None: ``*``)."""

    actor: Principal
    language: str | None
    kinds: Sequence[Mapping[str, Any]]
    expected_versions: frozenset[int] | None = None
