"""The service template, worker side: what every service would otherwise copy (docs/SERVICE.md).

A service declares its name and tables (``models.py``: :func:`service_tables`), its consumers
(``consumers.py``: a ``HANDLERS`` mapping) and its scheduled work (``worker.py``); this module
builds its :class:`~shared.bus.runtime.Participant`: database, inbox with the retry policy of the
settings, and each job run by :func:`scheduled`, the one job runner. No web framework here:
workers and CLIs import it. The HTTP side is :func:`shared.http.app.service_app`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import MetaData, Table

from shared.bus.inbox import Inbox, RetryPolicy
from shared.bus.runtime import Participant, ScheduledJob
from shared.bus.tables import MessagingTables, define_messaging_tables
from shared.db import Database, database_for
from shared.directory import define_directory_table
from shared.settings import Settings

Work = Callable[..., int]
"""A scheduled job's body: ``work(*, uow) -> int`` (how much it did); it never commits."""


@dataclass(frozen=True)
class ServiceTables:
    """The tables every service database holds besides its domain's: the messaging tables
    (outbox, inbox, dead letters, idempotency keys) and the organisation directory."""

    name: str
    messaging: MessagingTables
    directory: Table

    def database(self, settings: Settings) -> Database:
        """The process-wide :class:`Database` of this service under ``settings``."""
        return database_for(self.name, settings.database_url(self.name), self.messaging)


def service_tables(name: str, metadata: MetaData) -> ServiceTables:
    """Declare the messaging tables and the directory in a service's ``metadata``."""
    return ServiceTables(name, define_messaging_tables(metadata), define_directory_table(metadata))


def scheduled(database: Database, work: Work, *, every_seconds: float, name: str | None = None) -> ScheduledJob:
    """``work`` as a job of the worker: each run opens one unit of work (its events correlated
    to ``job:<work's function name>``), calls ``work(uow=uow)`` and commits. The runner owns the transaction, as
    a view or the inbox does; a failing run rolls back and raises to the runtime, which logs it
    and runs the job again at its next turn."""
    job_name = name or work.__name__.replace("_", "-")

    def run() -> int:
        with database.unit_of_work(correlationid=f"job:{work.__name__}") as uow:
            done = work(uow=uow)
            uow.commit()
        return done

    return ScheduledJob(job_name, every_seconds, run)


def participant(
    tables: ServiceTables,
    settings: Settings,
    handlers: Mapping[str, Callable[..., None]],
    *,
    jobs: Iterable[Work] = (),
    every_seconds: float = 30.0,
) -> Participant:
    """A service on the bus: its database, its inbox for ``handlers`` (event type → handler
    ``(event, *, uow)``), and ``jobs`` each run every ``every_seconds`` by :func:`scheduled`."""
    database = tables.database(settings)
    inbox = Inbox(tables.name, database, handlers, retry=RetryPolicy.from_settings(settings))
    return Participant(
        tables.name,
        database,
        inbox,
        jobs=tuple(scheduled(database, work, every_seconds=settings.job_seconds or every_seconds) for work in jobs),
    )


__all__ = ["ServiceTables", "Work", "participant", "scheduled", "service_tables"]
