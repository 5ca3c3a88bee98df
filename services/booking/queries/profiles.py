"""What availability needs of a space, derived once per space *version*, not per request.

A space's opening hours and rules are JSON and text columns turned into a
:class:`~services.booking.rules.SpacePolicy`; parsing them for every space on every search was
most of a search's CPU. A :class:`SpaceProfile` is derived from the row once and kept under
``(id, version)``: every change of a space bumps its version (``version_id_col``), so a stale
profile is never used, only left to age out. The cache is per process, bounded and thread safe
(gunicorn threads and the embedded server share it).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.booking.models import Space
from services.booking.queries.views import space_summary
from services.booking.rules import SpacePolicy

MAX_PROFILES = 4096
"""More than the park's spaces with a few versions each; the least recently used go first."""


@dataclass(frozen=True)
class SpaceProfile:
    id: str
    version: int
    policy: SpacePolicy
    equipment: frozenset[str]
    layouts: dict[str, int]
    summary: dict[str, Any]
    hourly_price: str
    currency: str

    @property
    def margin_minutes(self) -> int:
        return max(self.policy.setup_minutes, self.policy.cleanup_minutes)


class ProfileCache:
    """``(id, version)`` → :class:`SpaceProfile`, least recently used out first."""

    def __init__(self, size: int = MAX_PROFILES) -> None:
        self._size = size
        self._profiles: OrderedDict[tuple[str, int], SpaceProfile] = OrderedDict()
        self._lock = threading.Lock()
        self.derived = 0
        """How many profiles were derived from rows (tests and benchmarks read it)."""

    def known(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], SpaceProfile]:
        with self._lock:
            found = {}
            for key in keys:
                profile = self._profiles.get(key)
                if profile is not None:
                    self._profiles.move_to_end(key)
                    found[key] = profile
            return found

    def add(self, space: Space) -> SpaceProfile:
        profile = SpaceProfile(
            id=space.id,
            version=space.version,
            policy=space.policy(),
            equipment=frozenset(space.equipment or ()),
            layouts=dict(space.layouts or {}),
            summary=space_summary(space),
            hourly_price=f"{space.hourly_price:.2f}",
            currency=space.currency,
        )
        with self._lock:
            self.derived += 1
            self._profiles[(space.id, space.version)] = profile
            while len(self._profiles) > self._size:
                self._profiles.popitem(last=False)
        return profile

    def clear(self) -> None:
        with self._lock:
            self._profiles.clear()


PROFILES = ProfileCache()


def profiles_of(session: Session, keys: Sequence[tuple[str, int]]) -> list[SpaceProfile]:
    """The profiles of ``keys`` (id, version) in their order; the rows of those not cached yet
    are read in one query and derived once."""
    cached = {key[0]: profile for key, profile in PROFILES.known(keys).items()}
    missing = [space_id for space_id, _version in keys if space_id not in cached]
    if missing:
        # (A space changed between the two reads is shown as this read found it.)
        for space in session.execute(select(Space).where(Space.id.in_(missing))).scalars():
            cached[space.id] = PROFILES.add(space)
    return [cached[space_id] for space_id, _version in keys if space_id in cached]
