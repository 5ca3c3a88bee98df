"""``Idempotency-Key`` for creating POSTs: the same key and body give the first response again.

Semantics (as the payment APIs partners know): keys are per caller; the same key with another
body is a 422; a second request while the first is still running is a 409. A request that
failed with a 4xx/5xx frees its key, so the caller may fix it and retry with the same key.
The key row is claimed in its own transaction before the view runs (the primary key makes two
concurrent claims collide), and filled with the response after the view committed. Keys are
kept for 24 hours; a claim left unfilled (the process died in between) frees its key after five
minutes. The body is compared byte for byte: send the retry exactly as the first attempt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Response, current_app, request
from flask_jwt_extended import get_jwt, verify_jwt_in_request
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from shared.bus.tables import IDEMPOTENCY_KEYS_KEPT
from shared.clock import as_utc
from shared.db import Database
from shared.errors import Conflict, RuleViolation

F = TypeVar("F", bound=Callable[..., Any])
ABANDONED_AFTER = timedelta(minutes=5)
IDEMPOTENCY_KEY = {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string", "maxLength": 200}}
"""The OpenAPI parameter of every creating POST (``@blp.doc(parameters=[IDEMPOTENCY_KEY])``)."""
REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")


def idempotent(database: Callable[[], Database]) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = request.headers.get("Idempotency-Key")
            if not key:
                return view(*args, **kwargs)
            if len(key) > 200:
                raise RuleViolation("Idempotency-Key is at most 200 characters.", code="idempotency-key-too-long")
            db = database()
            table = db.messaging.idempotency_keys
            verify_jwt_in_request(optional=True)
            principal = str((get_jwt() or {}).get("sub", "anonymous"))
            digest = hashlib.sha256(
                request.method.encode() + b" " + request.path.encode() + b"\n" + request.get_data()
            ).hexdigest()
            stored = _claim(db, principal, key, digest)
            if stored is not None:
                return stored
            try:
                response = current_app.make_response(view(*args, **kwargs))
            except BaseException:
                _release(db, principal, key)
                raise
            if response.status_code >= 400:
                _release(db, principal, key)
                return response
            headers = {h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers}
            with db.unit_of_work() as uow:
                uow.session.execute(
                    update(table)
                    .where(table.c.principal == principal, table.c.key == key)
                    .values(status=response.status_code, headers=json.dumps(headers), body=response.get_data())
                )
                uow.commit()
            return response

        return wrapper  # type: ignore[return-value]

    return decorate


def _claim(db: Database, principal: str, key: str, digest: str) -> Response | None:
    table = db.messaging.idempotency_keys
    now = datetime.now(UTC)
    with db.unit_of_work() as uow:
        row = uow.session.execute(select(table).where(table.c.principal == principal, table.c.key == key)).first()
        expired = row is not None and as_utc(row.created_at) < now - IDEMPOTENCY_KEYS_KEPT
        # A claim never filled in: the process died between the view's commit and storing its
        # answer. After a while the key is free again rather than stuck for a day.
        abandoned = row is not None and row.status is None and as_utc(row.created_at) < now - ABANDONED_AFTER
        if expired or abandoned:
            uow.session.execute(delete(table).where(table.c.principal == principal, table.c.key == key))
            row = None
        if row is None:
            try:
                uow.session.execute(
                    insert(table).values(principal=principal, key=key, request_hash=digest, created_at=now)
                )
                uow.commit()
            except IntegrityError:
                raise Conflict(
                    "A request with this Idempotency-Key is still being processed.", code="idempotency-in-progress"
                ) from None
            return None
    if row.request_hash != digest:
        raise RuleViolation(
            "This Idempotency-Key was used with a different request body.", code="idempotency-key-reused"
        )
    if row.status is None:
        raise Conflict("A request with this Idempotency-Key is still being processed.", code="idempotency-in-progress")
    response = Response(row.body, status=row.status)
    for name, value in json.loads(row.headers or "{}").items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _release(db: Database, principal: str, key: str) -> None:
    table = db.messaging.idempotency_keys
    with db.unit_of_work() as uow:
        uow.session.execute(delete(table).where(table.c.principal == principal, table.c.key == key))
        uow.commit()
