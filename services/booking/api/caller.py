"""What every booking view needs: who calls and one unit of work (If-Match: shared.http.preconditions)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from services.booking.commands import Actor
from shared.http.app import current_database, unit_of_work
from shared.http.auth import current_principal
from shared.http.preconditions import PreconditionFailed

T = TypeVar("T")


def actor() -> Actor:
    principal = current_principal()
    return Actor(
        subject=principal.subject,
        org_id=principal.org_id,
        org_kind=principal.org_kind or "tenant",
        roles=principal.roles,
        name=principal.name,
    )


def execute(handler: Callable[..., T], command: Any) -> T:
    """Run ``handler(command, uow=...)`` in one transaction and commit it."""
    try:
        with unit_of_work() as uow:
            result = handler(command, uow=uow)
            uow.commit()
    except StaleDataError:
        # Two changes raced past If-Match; the later one lost.
        raise PreconditionFailed("The resource changed while you were changing it; read it again.") from None
    return result


@contextmanager
def reading() -> Iterator[Session]:
    with current_database().reading() as session:
        yield session
