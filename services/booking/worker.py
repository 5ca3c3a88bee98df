"""Booking on the bus: its outbox, its inbox and its scheduled jobs.

Jobs (each one unit of work per run): release no-shows when the check-in window has closed,
complete checked-in reservations that ended, reject what was still waiting for approval at
its start.
"""

from __future__ import annotations

from collections.abc import Callable

from services.booking.consumers import HANDLERS
from services.booking.handlers import complete_ended, expire_unapproved, release_no_shows
from services.booking.models import NAME, database
from shared.bus.inbox import Inbox, RetryPolicy
from shared.bus.runtime import Participant, ScheduledJob
from shared.db import Database
from shared.settings import Settings

JOB_EVERY_SECONDS = 30.0


def _job(db: Database, work: Callable[..., int]) -> Callable[[], int]:
    def run() -> int:
        with db.unit_of_work(correlationid=f"job:{work.__name__}") as uow:
            done = work(uow=uow)
            uow.commit()
        return done

    return run


def jobs(db: Database) -> tuple[ScheduledJob, ...]:
    return tuple(
        ScheduledJob(work.__name__.replace("_", "-"), JOB_EVERY_SECONDS, _job(db, work))
        for work in (release_no_shows, complete_ended, expire_unapproved)
    )


def participant(settings: Settings) -> Participant:
    db = database(settings)
    inbox = Inbox(NAME, db, HANDLERS, retry=RetryPolicy.from_settings(settings))
    return Participant(NAME, db, inbox, jobs=jobs(db))
