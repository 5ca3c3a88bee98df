"""The service template, worker side: what every service would otherwise copy (docs/SERVICE.md).

A service declares its name and tables (``models.py``: :func:`service_tables`), its consumers
(``consumers.py``: a ``HANDLERS`` mapping) and its scheduled work (``worker.py``); this module
builds its :class:`~shared.bus.runtime.Participant`: database, inbox with the retry policy of the
settings, and each job run by :func:`scheduled`, the one job runner (a job that talks to the
outside world: a :class:`Dispatch`, run in two units of work with the sending between them). No web framework here:
workers and CLIs import it. The HTTP side is :func:`shared.http.app.service_app`.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Generic, TypeVar

from sqlalchemy import MetaData, Table

from shared.bus.inbox import Inbox, RetryPolicy
from shared.bus.runtime import Participant, ScheduledJob
from shared.bus.tables import MessagingTables, define_messaging_tables
from shared.clock import as_utc, utcnow
from shared.db import Database, database_for
from shared.directory import define_directory_table
from shared.revocation import define_revocation_table
from shared.settings import Settings
from shared.tracing import span

Work = Callable[..., int]
"""A scheduled job's body: ``work(*, uow) -> int`` (how much it did); it never commits."""


@dataclass(frozen=True)
class ServiceTables:
    """The tables every service database holds besides its domain's: the messaging tables
    (outbox, inbox, dead letters, idempotency keys), the organisation directory and the access
    tokens revoked (:mod:`shared.revocation`)."""

    name: str
    messaging: MessagingTables
    directory: Table
    revocations: Table

    def database(self, settings: Settings) -> Database:
        """The process-wide :class:`Database` of this service under ``settings``."""
        return database_for(self.name, settings.database_url(self.name), self.messaging)


def service_tables(name: str, metadata: MetaData) -> ServiceTables:
    """Declare the messaging tables, the directory and the revocations in a service's ``metadata``."""
    return ServiceTables(
        name, define_messaging_tables(metadata), define_directory_table(metadata), define_revocation_table(metadata)
    )


def takes_settings(work: Callable[..., Any]) -> bool:
    """Whether ``work`` declares a ``settings`` keyword (the runner then passes the process's)."""
    try:
        parameter = inspect.signature(work).parameters.get("settings")
    except (TypeError, ValueError):  # a callable without a signature takes none
        return False
    return parameter is not None and parameter.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )


def scheduled(
    database: Database,
    work: Work,
    *,
    every_seconds: float,
    name: str | None = None,
    settings: Settings | None = None,
) -> ScheduledJob:
    """``work`` as a job of the worker: each run opens one unit of work (its events correlated
    to ``job:<work's function name>``), calls ``work(uow=uow)`` and commits. The runner owns the transaction, as
    a view or the inbox does; a failing run rolls back and raises to the runtime, which logs it
    and runs the job again at its next turn. A ``work`` that declares a ``settings`` keyword is
    given ``settings`` (the process's), decided here once, not on every run."""
    job_name = name or work.__name__.replace("_", "-")
    body: Callable[..., int] = (
        partial(work, settings=settings) if settings is not None and takes_settings(work) else work
    )

    def run() -> int:
        # A span per run: the events a job publishes carry its trace, so every consumer of one
        # job's event continues one trace instead of starting its own.
        with span(f"job {job_name}"), database.unit_of_work(correlationid=f"job:{work.__name__}") as uow:
            done = body(uow=uow)
            uow.commit()
        return done

    return ScheduledJob(job_name, every_seconds, run)


# Outbound work: claim, send with no transaction open, record -------------------------------------

LEASE = timedelta(minutes=5)
"""How long a claimed item is kept from every other run (a crashed run's items are due again then)."""

Item = TypeVar("Item")
Result = TypeVar("Result")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lease:
    """What a claim stamped on a row: its ``attempts`` as claimed and the ``until`` it moved the
    row's ``next_attempt_at`` to. A row still carrying both is still this run's; one that does not
    was taken by another run after the lease ran out (or recorded by it): leave it alone."""

    attempts: int
    until: datetime

    @classmethod
    def take(cls, row: Any, until: datetime) -> Lease:
        """Lease ``row`` (with ``attempts`` and ``next_attempt_at``) until ``until``: no other run
        finds it due before then."""
        lease = cls(row.attempts, until)
        row.next_attempt_at = until
        return lease

    def holds(self, row: Any) -> bool:
        """Whether ``row`` (with ``attempts`` and ``next_attempt_at``) is still under this lease."""
        stamp = getattr(row, "next_attempt_at", None) if row is not None else None
        return stamp is not None and row.attempts == self.attempts and as_utc(stamp) == as_utc(self.until)


@dataclass(frozen=True)
class Sent(Generic[Item, Result]):
    """One claimed item after the sending phase: its ``result``, or None when the run did not send
    it (a sequential job stopped early): its lease is to be given back, so it is due again."""

    item: Item
    result: Result | None


@dataclass(frozen=True)
class Dispatch(Generic[Item, Result]):
    """A job that talks to the outside world (e-mail, partner webhooks), in three phases, so no
    transaction, lock or pooled connection is held while a remote server answers:

    1. ``claim(*, uow, settings, now, lease_until) -> list[Item]``, in one short unit of work: take
       what is due (PostgreSQL: ``FOR UPDATE SKIP LOCKED``), lease it (move its ``next_attempt_at``
       to ``lease_until``, so no other run takes it meanwhile) and answer plain values, not rows.
    2. ``send(item, settings) -> Result`` for each item, with nothing of the database held: at most
       ``concurrency`` at once; with 1, in order, and ``keep_sending(results, elapsed_seconds,
       settings)`` decides before each next item whether to start it. ``send`` should answer every
       failure as a result; if it raises, what was sent is still recorded, the raising item stays
       leased (due again after the lease) and the run fails with the exception.
    3. ``record(sent, *, uow, settings, now) -> int``, in a second short unit of work: re-read each
       row by id, skip one whose lease is no longer this run's (:class:`Lease`), write what the
       attempt means, give back the lease of what was not sent; answers how much it did.

    At least once: a run that dies between phases leaves its items leased, due again after
    ``lease``; receivers deduplicate (the same ``Message-ID``, the same ``webhook-id``). ``name`` is
    the job's (``send_due`` runs as ``send-due``, correlated to ``job:send_due``).
    """

    name: str
    claim: Callable[..., Sequence[Item]]
    send: Callable[[Item, Settings], Result]
    record: Callable[..., int]
    concurrency: int = 1
    keep_sending: Callable[[Sequence[Result], float, Settings], bool] | None = None
    lease: timedelta = LEASE

    def run(self, database: Database, settings: Settings, *, now: datetime | None = None) -> int:
        """One run (the job's body; tests call it with ``now``, the clock's when None)."""
        correlation = f"job:{self.name}"
        with database.unit_of_work(correlationid=correlation) as uow:
            moment = now or utcnow()
            items = list(self.claim(uow=uow, settings=settings, now=moment, lease_until=as_utc(moment + self.lease)))
            uow.commit()
        if not items:
            return 0
        sent, failure = self._send(items, settings)
        with database.unit_of_work(correlationid=correlation) as uow:
            done = self.record(sent, uow=uow, settings=settings, now=now or utcnow())
            uow.commit()
        if failure is not None:
            raise failure
        return done

    def _send(self, items: list[Item], settings: Settings) -> tuple[list[Sent[Item, Result]], Exception | None]:
        """Send ``items``; what was sent (a raising item left out: it stays leased) and the first
        exception, if any."""
        if self.concurrency > 1:
            with ThreadPoolExecutor(
                max_workers=min(self.concurrency, len(items)), thread_name_prefix=f"job-{self.name}"
            ) as pool:
                futures = [(item, pool.submit(self.send, item, settings)) for item in items]
                sent: list[Sent[Item, Result]] = []
                failure: Exception | None = None
                for item, future in futures:
                    try:
                        sent.append(Sent(item, future.result()))
                    except Exception as exc:  # noqa: BLE001 - the run fails after recording the rest
                        log.exception("job %s could not send an item", self.name)
                        failure = failure or exc
                return sent, failure
        sent = []
        results: list[Result] = []
        started = time.monotonic()
        for number, item in enumerate(items):
            if number and self.keep_sending and not self.keep_sending(results, time.monotonic() - started, settings):
                sent.extend(Sent(rest, None) for rest in items[number:])
                break
            try:
                result = self.send(item, settings)
            except Exception as exc:  # noqa: BLE001 - recorded what was sent, then the run fails
                log.exception("job %s could not send an item", self.name)
                sent.extend(Sent(rest, None) for rest in items[number + 1 :])
                return sent, exc
            results.append(result)
            sent.append(Sent(item, result))
        return sent, None


def dispatching(
    database: Database, dispatch: Dispatch[Any, Any], settings: Settings, *, every_seconds: float
) -> ScheduledJob:
    """``dispatch`` as a job of the worker, with the process's ``settings``."""

    def run() -> int:
        with span(f"job {dispatch.name}"):
            return dispatch.run(database, settings)

    return ScheduledJob(dispatch.name.replace("_", "-"), every_seconds, run)


def participant(
    tables: ServiceTables,
    settings: Settings,
    handlers: Mapping[str, Callable[..., None]],
    *,
    jobs: Iterable[Work | Dispatch[Any, Any]] = (),
    every_seconds: float = 30.0,
) -> Participant:
    """A service on the bus: its database, its inbox for ``handlers`` (event type → handler
    ``(event, *, uow)``), and ``jobs`` each run every ``every_seconds``: a plain job by
    :func:`scheduled` (given ``settings`` when it declares them), a :class:`Dispatch` by
    :func:`dispatching`."""
    database = tables.database(settings)
    inbox = Inbox(tables.name, database, handlers, retry=RetryPolicy.from_settings(settings))
    every = settings.job_seconds or every_seconds
    return Participant(
        tables.name,
        database,
        inbox,
        jobs=tuple(
            dispatching(database, job, settings, every_seconds=every)
            if isinstance(job, Dispatch)
            else scheduled(database, job, every_seconds=every, settings=settings)
            for job in jobs
        ),
    )


__all__ = [
    "LEASE",
    "Dispatch",
    "Lease",
    "Sent",
    "ServiceTables",
    "Work",
    "dispatching",
    "participant",
    "scheduled",
    "service_tables",
    "takes_settings",
]
