"""shared.http.fields.ParkTime: the one timestamp rule of every answer (docs/API.md, "Times")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from marshmallow import Schema, ValidationError

from shared.http.fields import ParkTime


class Stamp(Schema):
    at = ParkTime(allow_none=True)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
        datetime(2026, 12, 1, 1, 0),  # naive, as SQLite hands it back: UTC
        datetime(2026, 11, 30, 20, 0, tzinfo=timezone(timedelta(hours=-5))),
    ],
    ids=["utc", "naive", "new-york"],
)
def test_answers_carry_park_time_with_its_offset(moment: datetime) -> None:
    assert Stamp().dump({"at": moment}) == {"at": "2026-12-01T09:00:00+08:00"}


def test_none_stays_none() -> None:
    assert Stamp().dump({"at": None}) == {"at": None}


@pytest.mark.parametrize("text", ["2026-12-01T01:00:00Z", "2026-12-01T09:00:00+08:00", "2026-11-30T20:00:00-05:00"])
def test_requests_may_send_any_offset(text: str) -> None:
    assert Stamp().load({"at": text})["at"] == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def test_a_time_without_an_offset_is_refused() -> None:
    with pytest.raises(ValidationError):
        Stamp().load({"at": "2026-12-01T09:00:00"})
