"""What every booking view needs: who calls, which version they last read, one unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import request
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from services.booking.commands import Actor
from shared.http.app import current_database
from shared.http.auth import current_principal
from shared.http.preconditions import PreconditionFailed, PreconditionRequired
from shared.http.requests import request_id

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


def expected_versions() -> frozenset[int] | None:
    """The versions ``If-Match`` accepts (None for ``*``): 428 without it, 412 when malformed."""
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired("Send If-Match with the ETag you last read, so changes are never lost.")
    versions: set[int] = set()
    for raw in header.split(","):
        tag = raw.strip().removeprefix("W/")
        if tag == "*":
            return None
        try:
            versions.add(int(tag.strip('"')))
        except ValueError:
            raise PreconditionFailed(f"If-Match {tag!r} is not an ETag of this API.") from None
    return frozenset(versions)


def execute(handler: Callable[..., T], command: Any) -> T:
    """Run ``handler(command, uow=...)`` in one transaction and commit it."""
    try:
        with current_database().unit_of_work(correlationid=request_id()) as uow:
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


def etag_headers(version: int, location: str | None = None) -> dict[str, str]:
    headers = {"ETag": f'"{version}"'}
    if location:
        headers["Location"] = location
    return headers
