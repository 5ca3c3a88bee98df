"""What a view of any service uses to reach its database: one unit of work per request.

The request path (docs/SERVICE.md): ``requires`` resolves the caller once (``shared.http.auth``);
a view that changes something runs its handler with :func:`execute` (or opens
:func:`unit_of_work` itself and commits): **the view owns the transaction, handlers never
commit**. The handler returns what the answer needs (the view model), built from what it wrote,
so no second transaction reads it back. A view that only reads uses :func:`reading`.

When the request carries ``Idempotency-Key``, :func:`shared.http.idempotency.idempotent` has
already opened the request's unit of work and claimed the key in it; :func:`unit_of_work` then
*joins* that transaction: the view's ``commit()`` only flushes, and the claim, the handler's
changes and the stored answer commit together once the answer is built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import g
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from shared.db import Database, UnitOfWork
from shared.errors import PreconditionFailed
from shared.http.requests import request_id
from shared.i18n import _

T = TypeVar("T")
_OWNER = "parkhub_request_uow"


def _database() -> Database:
    from shared.http.app import current_database  # noqa: PLC0415 - app imports this module

    return current_database()


def unit_of_work() -> UnitOfWork:
    """A unit of work on this service's database whose events carry this request's id; inside an
    idempotent request, the request's own transaction (see the module's doc)."""
    owner: UnitOfWork | None = g.get(_OWNER)
    if owner is not None:
        return JoinedUnitOfWork(owner)
    return _database().unit_of_work(correlationid=request_id())


def execute(handler: Callable[..., T], command: Any) -> T:
    """Run ``handler(command, uow=...)`` in the request's unit of work and commit it; returns
    what the handler returned. A concurrent change that slipped past ``If-Match``
    (``StaleDataError`` on flush or commit) is a 412 problem."""
    with stale_is_precondition_failed(), unit_of_work() as uow:
        result = handler(command, uow=uow)
        uow.commit()
    return result


@contextmanager
def stale_is_precondition_failed() -> Iterator[None]:
    """Two changes raced past If-Match: the version check in SQL refused the later one (412)."""
    try:
        yield
    except StaleDataError:
        raise PreconditionFailed(_("The resource changed while you were changing it; read it again.")) from None


@contextmanager
def reading() -> Iterator[Session]:
    """A read-only session for a view that changes nothing (the request's own one when the
    request already holds a transaction, so it costs no second connection)."""
    owner: UnitOfWork | None = g.get(_OWNER)
    if owner is not None:
        yield owner.session
        return
    with _database().reading() as session:
        yield session


@contextmanager
def request_transaction() -> Iterator[UnitOfWork]:
    """Open the request's unit of work for an outer owner (idempotency): every
    :func:`unit_of_work` of the view joins it until the block ends. The owner commits; leaving
    without a commit rolls the whole request back."""
    if g.get(_OWNER) is not None:
        raise RuntimeError("this request already holds its transaction")
    with _database().unit_of_work(correlationid=request_id()) as uow:
        g.setdefault("parkhub_request_failed", False)
        g.parkhub_request_uow = uow
        try:
            yield uow
        finally:
            g.pop(_OWNER, None)


def request_abandoned() -> bool:
    """Whether a view left a joined unit of work without committing (it wanted a rollback)."""
    return bool(g.get("parkhub_request_failed", False))


class JoinedUnitOfWork(UnitOfWork):
    """The request's unit of work as a view sees it while an outer owner holds it: the same
    session and event context; ``commit`` flushes (so database errors surface in the view) and
    leaves the commit to the owner; leaving without ``commit`` marks the request to roll back."""

    def __init__(self, owner: UnitOfWork) -> None:
        self.database = owner.database
        self.context = owner.context
        self.session = owner.session
        self._committed = False

    def __enter__(self) -> JoinedUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._committed:
            g.parkhub_request_failed = True

    def commit(self) -> None:
        self.session.flush()
        self._committed = True
