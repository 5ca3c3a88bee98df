"""``Idempotency-Key`` for creating POSTs: the same key and body give the first response again.

Semantics (as the payment APIs partners know, and docs/API.md promises): keys are per caller;
the same key with another body is a 422; a second request while the first is still running is a
409; a replay answers the first response with ``Idempotent-Replayed: true``. A request that
failed with a 4xx/5xx leaves no key behind, so the caller may fix it and retry with the same key.

One transaction: the decorator opens the request's unit of work
(:func:`shared.http.views.request_transaction`), claims the key in it, runs the view (whose
:func:`~shared.http.views.unit_of_work` joins that transaction) and stores the answer; claim,
changes and answer commit together, or not at all. Two concurrent claims of one key collide on
the primary key: on PostgreSQL the second insert waits for the first transaction and then fails
(409); on SQLite writers are serialised, so the second request finds the stored answer and
replays it. Keys are kept for 24 hours. A claim without an answer can only be a row from before
this change; it frees its key after five minutes. The body is compared byte for byte: send the
retry exactly as the first attempt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Response, current_app, request
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from shared.bus.tables import IDEMPOTENCY_KEYS_KEPT
from shared.clock import as_utc
from shared.db import Database, UnitOfWork
from shared.errors import Conflict, RuleViolation
from shared.http.auth import caller
from shared.http.views import request_abandoned, request_transaction, stale_is_precondition_failed
from shared.i18n import _

IN_PROGRESS = _("A request with this Idempotency-Key is still being processed.")
F = TypeVar("F", bound=Callable[..., Any])
ABANDONED_AFTER = timedelta(minutes=5)
IDEMPOTENCY_KEY = {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string", "maxLength": 200}}
"""The OpenAPI parameter of every creating POST (``@blp.doc(parameters=[IDEMPOTENCY_KEY])``)."""
REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")


def idempotent(database: Callable[[], Database] | None = None) -> Callable[[F], F]:
    """Decorator (outermost, above flask-smorest's) for a creating POST. ``database`` is
    accepted for the views written before the request transaction; the request's own service
    database is always the one used."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = request.headers.get("Idempotency-Key")
            if not key:
                return view(*args, **kwargs)
            if len(key) > 200:
                raise RuleViolation(_("Idempotency-Key is at most 200 characters."), code="idempotency-key-too-long")
            known = caller()
            principal = known.subject if known is not None else "anonymous"
            digest = hashlib.sha256(
                request.method.encode() + b" " + request.path.encode() + b"\n" + request.get_data()
            ).hexdigest()
            with stale_is_precondition_failed(), request_transaction() as uow:
                stored = _claim(uow, principal, key, digest)
                if stored is not None:
                    return stored  # nothing changed: the block rolls back
                response = current_app.make_response(view(*args, **kwargs))
                if response.status_code >= 400 or request_abandoned():
                    return response  # rolled back with the claim: the key is free again
                table = uow.database.messaging.idempotency_keys
                headers = {h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers}
                uow.session.execute(
                    update(table)
                    .where(table.c.principal == principal, table.c.key == key)
                    .values(status=response.status_code, headers=json.dumps(headers), body=response.get_data())
                )
                uow.commit()
            return response

        return wrapper  # type: ignore[return-value]

    return decorate


def _claim(uow: UnitOfWork, principal: str, key: str, digest: str) -> Response | None:
    """Claim ``key`` in the request's transaction, or the stored answer to replay; raises 409
    (claimed by a request still running) or 422 (claimed with another body)."""
    table = uow.database.messaging.idempotency_keys
    now = datetime.now(UTC)
    row = uow.session.execute(select(table).where(table.c.principal == principal, table.c.key == key)).first()
    expired = row is not None and as_utc(row.created_at) < now - IDEMPOTENCY_KEYS_KEPT
    abandoned = row is not None and row.status is None and as_utc(row.created_at) < now - ABANDONED_AFTER
    if expired or abandoned:
        uow.session.execute(delete(table).where(table.c.principal == principal, table.c.key == key))
        row = None
    if row is None:
        try:
            uow.session.execute(insert(table).values(principal=principal, key=key, request_hash=digest, created_at=now))
        except IntegrityError:
            raise Conflict(IN_PROGRESS, code="idempotency-in-progress") from None
        return None
    if row.request_hash != digest:
        raise RuleViolation(
            _("This Idempotency-Key was used with a different request body."), code="idempotency-key-reused"
        )
    if row.status is None:
        raise Conflict(IN_PROGRESS, code="idempotency-in-progress")
    response = Response(row.body, status=row.status)
    for name, value in json.loads(row.headers or "{}").items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response
