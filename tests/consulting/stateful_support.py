"""What the stateful tests of consulting and finance share (no tests here): the park's clock
under the test's hand, a fresh migrated service per example, one HTTP call with the checks every
call keeps (no 5xx; a refusal is problem+json and changes no row), an ``Idempotency-Key`` retry
checked to replay, and the settings of the machines. One app and database serve a run; each
example starts from emptied tables.

The clock: handlers read time through :func:`shared.clock.utcnow`, which reads ``datetime`` of
:mod:`shared.clock` when called; :class:`ParkClock` puts there a ``datetime`` whose ``now`` is the
test's moment, so a rule can move the SLA time and the jobs' ``now`` together. Tokens, idempotency
keys and envelopes keep wall time (the moments a person's retry and a token's expiry are about).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings
from sqlalchemy import MetaData

import shared.clock
from shared.db import Database
from shared.http.problems import PROBLEM_JSON
from shared.settings import Settings
from tests.booking.conftest import Api, write_jwks
from tests.conftest import make_settings
from tests.endpoint_matrix import snapshot

REFUSALS = (400, 401, 403, 404, 409, 412, 422, 428)
"""Statuses of a request that was not done: each must leave every row as it was."""


def machine_settings(examples: int, steps: int) -> settings:
    """Bounded settings of a machine (``PARKHUB_STATEFUL_EXAMPLES`` raises the examples locally);
    no deadline: one step is a few HTTP calls and database reads. Derandomized: the machines
    assert that their runs reached every state (not vacuous), and 30 random examples reached
    ``waiting_on_tenant`` in most runs but not all; a fixed seed makes CI's run the same every
    time, and more examples explore further."""
    return settings(
        max_examples=int(os.environ.get("PARKHUB_STATEFUL_EXAMPLES", examples)),
        stateful_step_count=steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        derandomize=True,
    )


class ParkClock:
    """The moment :func:`shared.clock.utcnow` answers while installed (an aware UTC datetime);
    :meth:`advance` moves it forward, never back."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def advance(self, by: timedelta) -> datetime:
        assert by >= timedelta(0)
        self.now += by
        return self.now

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        clock = self

        class _ParkDatetime(datetime):
            @classmethod
            def now(cls, tz: tzinfo | None = None) -> Any:
                return clock.now.astimezone(tz) if tz is not None else clock.now.replace(tzinfo=None)

        monkeypatch.setattr(shared.clock, "datetime", _ParkDatetime)


@dataclass
class Rig:
    """One service for a whole run: its databases built by the migrations (a copy of the
    session's), its app (built once: building an app costs most of a second), the signing key.
    Each example starts from :meth:`emptied` tables, so examples share nothing but the schema."""

    settings: Settings
    app: Flask
    db: Database
    metadata: MetaData
    key: Any

    @classmethod
    def built(
        cls,
        template: Path,
        folder: Path,
        key: Any,
        database: Callable[[Settings], Database],
        metadata: MetaData,
        create_app: Callable[[Settings], Flask],
    ) -> Rig:
        var = folder / "var"
        shutil.copytree(template, var)
        settings_ = make_settings(var)
        write_jwks(settings_, key)
        db = database(settings_)
        return cls(settings_, create_app(settings_), db, metadata, key)

    def emptied(self) -> None:
        """Every row of every table of the service's metadata deleted (children first)."""
        from migrations.audit_chain_v1 import sqlite_triggers_lifted

        with self.db.unit_of_work() as uow:
            # The audit trails are append-only (their triggers refuse DELETE): lifted for the reset.
            with sqlite_triggers_lifted(uow.session.connection()):
                for table in reversed(self.metadata.sorted_tables):
                    uow.session.execute(table.delete())
            uow.commit()

    def api(self, prefix: str, users: Any) -> Api:
        client = Api(self.app.test_client(), self.settings, self.key, prefix=prefix)
        client.users = users
        return client


class Caller:
    """HTTP through one service's app as any user, each call checked: never a 5xx; a refusal
    (:data:`REFUSALS`) is problem+json with a detail and leaves every row of the service's
    database as it was (:func:`tests.endpoint_matrix.snapshot`)."""

    def __init__(self, api: Api, db: Database, metadata: MetaData) -> None:
        self.api = api
        self.db = db
        self.metadata = metadata
        self.calls: list[tuple[str, str, str, int]] = []

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        return snapshot(self.db, self.metadata)

    def call(self, method: str, path: str, user: str, body: Any = None, **headers: str) -> Any:
        before = self.rows()
        send: Callable[..., Any] = getattr(self.api, method)
        response = send(path, body, user=user, **headers) if method != "get" else send(path, user=user)
        self.calls.append((method, path, user, response.status_code))
        assert response.status_code < 500, (method, path, user, response.get_json())
        if response.status_code in REFUSALS:
            problem = response.get_json()
            assert response.mimetype == PROBLEM_JSON, (method, path, response.status_code)
            assert problem["status"] == response.status_code and problem["detail"], problem
            assert self.rows() == before, (
                "a refused request changed rows",
                method,
                path,
                user,
                response.status_code,
                problem,
            )
        return response

    def replayed(self, method: str, path: str, user: str, body: Any, key: str, first: Any) -> None:
        """The same ``Idempotency-Key`` and body again: the first answer (status, body,
        ``Location``), ``Idempotent-Replayed: true``, and no row changed; the key with another
        body: 422, nothing changed."""
        before = self.rows()
        again = getattr(self.api, method)(path, body, user=user, **{"Idempotency-Key": key})
        assert again.status_code == first.status_code, (path, again.status_code, again.get_json())
        assert again.headers.get("Idempotent-Replayed") == "true", path
        assert again.get_json() == first.get_json(), path
        assert again.headers.get("Location") == first.headers.get("Location"), path
        assert self.rows() == before, ("a replay changed rows", path)
        other = dict(body, **{"_": "another body"}) if isinstance(body, dict) else {"_": 1}
        changed = getattr(self.api, method)(path, other, user=user, **{"Idempotency-Key": key})
        assert changed.status_code == 422, (path, changed.status_code, changed.get_json())
        assert changed.mimetype == PROBLEM_JSON
        assert self.rows() == before, ("a key reused with another body changed rows", path)
