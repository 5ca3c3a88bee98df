"""What runs a service on the bus, in either mode: its :class:`Participant` (database, inbox, jobs).

The two runtimes wake on work, never on a polling timer: a commit that added to an outbox (this
process's commit callbacks; on PostgreSQL also ``LISTEN``/``NOTIFY`` across processes), a message
on a queue, or the moment the earliest delayed thing is due (a redelivery, an outbox row backing
off, a scheduled job). Idle, they sleep. :mod:`shared.bus.embedded_bus` is the one thread of
``parkhub serve``; :mod:`shared.bus.worker` is ``parkhub worker SERVICE``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from shared.bus import housekeeping
from shared.bus.inbox import Inbox
from shared.bus.topology import Topology
from shared.db import Database

log = logging.getLogger(__name__)

SAFETY_SECONDS = 10.0
"""Longest a relay sleeps without a signal: a notification lost with a dropped connection costs
at most this, and the worker's heartbeat file (checked at 30 s) stays fresh."""


@dataclass
class Participant:
    """A database on the bus: it publishes from its outbox and, with an inbox, consumes."""

    name: str
    database: Database
    inbox: Inbox | None = None
    jobs: Sequence[ScheduledJob] = field(default_factory=tuple)

    def all_jobs(self) -> tuple[ScheduledJob, ...]:
        """The participant's own jobs and the housekeeping of its messaging tables."""
        return (
            *self.jobs,
            ScheduledJob("housekeeping", housekeeping.EVERY_SECONDS, partial(housekeeping.sweep, self.database)),
        )


@dataclass(frozen=True)
class ScheduledJob:
    """A periodic job of a worker (e.g. releasing no-shows); it runs its own unit of work."""

    name: str
    every_seconds: float
    run: Callable[[], Any]


def consumer_topology(participants: Sequence[Participant]) -> Topology:
    """The topology the participants' inboxes declare."""
    return Topology.of({p.name: p.inbox.event_types for p in participants if p.inbox is not None})
