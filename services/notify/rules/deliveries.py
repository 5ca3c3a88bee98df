"""When a webhook delivery is tried again, what an answer means, when an endpoint is switched off.
Pure and deterministic: times come in as arguments, jitter only if the caller injects it.

Decisions (docs/NOTIFY.md, "Webhook deliveries"):

- Attempt 1 goes out at once; after failed attempt ``n`` the next waits :data:`SCHEDULE` ``[n-1]``
  (30 s, 2 min, 10 min, 1 h, 3 h, 6 h, 12 h, 24 h): nine attempts over about 46 h 13 min, so a
  partner down for a weekend day still receives everything. After attempt :data:`MAX_ATTEMPTS`
  fails, the delivery is ``failed`` (the partner may replay it from the log).
- Answers (Standard Webhooks: only a 2xx is success, redirects are not followed): 2xx
  ``delivered``; 410 Gone ``gone`` (final, and the endpoint is disabled at once); every other
  answer, a timeout or a connection error (``status=None``) ``retry``. Other 4xx are retried too:
  a 401 after a secret rotation or a 404 during a partner's deploy is fixable within the window.
- ``Retry-After`` (seconds or an HTTP date) on a retried answer can only make the wait LONGER than
  the schedule, never shorter, and at most :data:`MAX_RETRY_AFTER`.
- An endpoint is disabled after :data:`DISABLE_AFTER_FAILURES` deliveries in a row ended
  ``failed`` with the first failure of that run at least :data:`DISABLE_AFTER` before the last:
  one bad day does not cost a partner its subscription, a dead receiver stops costing us.
- A replay is a new attempt of the same delivery: same ``webhook-id`` (receivers deduplicate on
  it), a fresh ``webhook-timestamp`` and signature, and it does not count towards the schedule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
)
"""The wait after each failed attempt; increasing, so the total is the retry window."""
MAX_ATTEMPTS = len(SCHEDULE) + 1
RETRY_WINDOW = sum(SCHEDULE, timedelta())
MAX_RETRY_AFTER = timedelta(hours=24)
"""A ``Retry-After`` beyond a day is not honoured further (the delivery would outlive its window)."""
DISABLE_AFTER_FAILURES = 5
DISABLE_AFTER = timedelta(hours=72)

Outcome = Literal["delivered", "gone", "retry"]
Jitter = Callable[[timedelta], timedelta]
"""Given the planned wait, the wait to use (e.g. ±10 %); injected, so tests stay exact."""


def outcome(status: int | None) -> Outcome:
    """What an answer means: ``status`` is the HTTP status, None for a timeout or network error."""
    if status is not None and 200 <= status < 300:
        return "delivered"
    if status == 410:
        return "gone"
    return "retry"


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A ``Retry-After`` header as a wait from ``now`` (delta seconds or an HTTP date); None when
    absent or unreadable; a date in the past is no wait."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta())


def next_attempt(
    attempt: int,
    failed_at: datetime,
    *,
    retry_after_header: str | None = None,
    jitter: Jitter | None = None,
) -> datetime | None:
    """When to try again after attempt number ``attempt`` (1-based) failed at ``failed_at``; None
    when it was the last (:data:`MAX_ATTEMPTS`): the delivery has failed. Deterministic unless
    ``jitter`` is given; a ``Retry-After`` lengthens the wait up to :data:`MAX_RETRY_AFTER`."""
    if attempt < 1:
        raise ValueError("attempts count from 1")
    if attempt >= MAX_ATTEMPTS:
        return None
    wait = SCHEDULE[attempt - 1]
    if jitter is not None:
        wait = max(jitter(wait), timedelta())
    asked = retry_after(retry_after_header, failed_at)
    if asked is not None and asked > wait:
        wait = min(asked, max(MAX_RETRY_AFTER, wait))
    return failed_at + wait


@dataclass(frozen=True)
class FailureRun:
    """An endpoint's current run of deliveries that ended ``failed`` (no delivery in between)."""

    count: int = 0
    since: datetime | None = None
    """When the first delivery of the run failed."""

    def failed(self, at: datetime) -> FailureRun:
        """The run after another delivery ended failed at ``at``."""
        return FailureRun(self.count + 1, self.since or at)

    def delivered(self) -> FailureRun:
        """Any delivery that arrives ends the run."""
        return FailureRun()

    def disables(self, now: datetime) -> bool:
        """Whether the endpoint is to be disabled (and its owner told) at ``now``."""
        return self.count >= DISABLE_AFTER_FAILURES and self.since is not None and now - self.since >= DISABLE_AFTER


@dataclass(frozen=True)
class Attempt:
    """One try of a delivery: ``webhook_id`` is the delivery's (stable across retries and replays),
    ``number`` counts the scheduled tries (a replay starts its own count at 1)."""

    webhook_id: str
    number: int
    due_at: datetime
    replay: bool = False


def first_attempt(webhook_id: str, now: datetime) -> Attempt:
    return Attempt(webhook_id, 1, now)


def retry(attempt: Attempt, failed_at: datetime, **options: object) -> Attempt | None:
    """The next try after ``attempt`` failed, or None when the delivery has failed (options as
    :func:`next_attempt`)."""
    due = next_attempt(attempt.number, failed_at, **options)  # type: ignore[arg-type]
    return None if due is None else Attempt(attempt.webhook_id, attempt.number + 1, due, attempt.replay)


def replay(webhook_id: str, now: datetime) -> Attempt:
    """A partner's replay from the log: a new attempt with the same ``webhook-id``, due now."""
    return Attempt(webhook_id, 1, now, replay=True)
