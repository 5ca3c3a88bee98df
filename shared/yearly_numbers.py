"""Numbers people read, counted per park year (``C-2026-00042``, ``F-2026-00007``): each
service keeps its own counter table of ``year`` (primary key) and ``last``; this takes the next.
Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.clock import PARK_TZ


class YearCounter(Protocol):
    """A mapped class of one row per year: the last number handed out that year."""

    year: Any
    last: Any

    def __init__(self, *, year: int, last: int) -> None: ...


def next_yearly_number(session: Session, counter_class: type[YearCounter], prefix: str, at: datetime) -> str:
    """The next number of the park year of ``at``: ``{prefix}-{year}-{n:05d}``. The year's row
    is read ``FOR UPDATE`` (PostgreSQL), so two requests never share a number; the first of a year
    creates the row in a savepoint (another request creating it at the same moment makes this one
    read theirs)."""
    year = at.astimezone(PARK_TZ).year
    counter = session.get(counter_class, year, with_for_update=True, populate_existing=True)
    if counter is None:
        try:
            with session.begin_nested():
                counter = counter_class(year=year, last=0)
                session.add(counter)
        except IntegrityError:
            counter = session.get(counter_class, year, with_for_update=True, populate_existing=True)
            assert counter is not None  # the other request's row
    counter.last += 1
    return f"{prefix}-{year}-{counter.last:05d}"
