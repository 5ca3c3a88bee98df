"""Retry schedule, answers, Retry-After, disabling endpoints, replays (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notify.rules.deliveries import (
    DISABLE_AFTER,
    DISABLE_AFTER_FAILURES,
    MAX_ATTEMPTS,
    MAX_RETRY_AFTER,
    RETRY_WINDOW,
    SCHEDULE,
    FailureRun,
    first_attempt,
    next_attempt,
    outcome,
    replay,
    retry,
)

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_the_schedule_starts_at_30_seconds_and_spans_about_two_days() -> None:
    assert next_attempt(1, T0) == T0 + timedelta(seconds=30)
    assert next_attempt(2, T0) == T0 + timedelta(minutes=2)
    assert next_attempt(MAX_ATTEMPTS - 1, T0) == T0 + timedelta(hours=24)
    assert timedelta(hours=24) <= RETRY_WINDOW <= timedelta(hours=72)


def test_after_the_last_attempt_there_is_none() -> None:
    assert next_attempt(MAX_ATTEMPTS, T0) is None
    with pytest.raises(ValueError):
        next_attempt(0, T0)


@given(st.integers(min_value=1, max_value=MAX_ATTEMPTS - 2))
def test_waits_grow_and_stay_bounded(attempt: int) -> None:
    due, due_later = next_attempt(attempt, T0), next_attempt(attempt + 1, T0)
    assert due is not None and due_later is not None
    wait, later = due - T0, due_later - T0
    assert timedelta() < wait < later <= max(SCHEDULE)


def test_a_delivery_walked_through_every_retry_ends_inside_the_window() -> None:
    attempt, now = first_attempt("msg_1", T0), T0
    while (following := retry(attempt, now)) is not None:
        assert following.webhook_id == "msg_1"
        assert following.number == attempt.number + 1
        attempt, now = following, following.due_at
    assert attempt.number == MAX_ATTEMPTS
    assert now - T0 == RETRY_WINDOW


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, "delivered"),
        (204, "delivered"),
        (299, "delivered"),
        (410, "gone"),
        (301, "retry"),
        (400, "retry"),
        (401, "retry"),
        (408, "retry"),
        (429, "retry"),
        (500, "retry"),
        (503, "retry"),
        (None, "retry"),
    ],
)
def test_what_an_answer_means(status: int | None, expected: str) -> None:
    assert outcome(status) == expected


def test_retry_after_lengthens_but_never_shortens_and_is_capped() -> None:
    assert next_attempt(1, T0, retry_after_header="5") == T0 + timedelta(seconds=30)
    assert next_attempt(1, T0, retry_after_header="600") == T0 + timedelta(minutes=10)
    assert next_attempt(1, T0, retry_after_header=str(10 * 24 * 3600)) == T0 + MAX_RETRY_AFTER
    assert next_attempt(1, T0, retry_after_header="Mon, 30 Nov 2026 09:00:00 GMT") == T0 + timedelta(hours=1)
    assert next_attempt(1, T0, retry_after_header="soon") == T0 + timedelta(seconds=30)


def test_jitter_only_when_injected() -> None:
    assert next_attempt(3, T0, jitter=lambda wait: wait * 1.1) == T0 + timedelta(minutes=11)
    assert next_attempt(3, T0) == next_attempt(3, T0)


def test_an_endpoint_is_disabled_after_enough_failures_over_enough_time() -> None:
    run = FailureRun()
    for n in range(DISABLE_AFTER_FAILURES):
        run = run.failed(T0 + timedelta(hours=n))
    assert run.count == DISABLE_AFTER_FAILURES and run.since == T0
    assert not run.disables(T0 + DISABLE_AFTER - timedelta(seconds=1))
    assert run.disables(T0 + DISABLE_AFTER)
    assert not run.delivered().disables(T0 + 10 * DISABLE_AFTER)


def test_few_failures_do_not_disable_however_long() -> None:
    run = FailureRun()
    for _ in range(DISABLE_AFTER_FAILURES - 1):
        run = run.failed(T0)
    assert not run.disables(T0 + 10 * DISABLE_AFTER)


def test_a_replay_keeps_the_webhook_id_and_starts_its_own_count() -> None:
    again = replay("msg_1", T0 + timedelta(days=3))
    assert (again.webhook_id, again.number, again.due_at, again.replay) == ("msg_1", 1, T0 + timedelta(days=3), True)
    following = retry(again, again.due_at)
    assert following is not None and following.replay and following.webhook_id == "msg_1"
