"""``Idempotency-Key`` for creating POSTs: the same key and body give the first response again.

Semantics (as the payment APIs partners know, and docs/API.md promises): keys are per caller, so
a key needs a caller: a request with a key and no token is a 401 before anything else happens.
The same key with another body is a 422; a replay answers the first response (status, body,
``Location``, ``ETag``, ``Content-Type`` and ``Content-Language``: the first answer's language,
whatever the retry asks for) with ``Idempotent-Replayed: true``. A request that failed with a
4xx/5xx leaves no key behind, so the caller may fix it and retry with the same key.

One transaction: the decorator opens the request's unit of work
(:func:`shared.http.views.request_transaction`), claims the key in it, runs the view (whose
:func:`~shared.http.views.unit_of_work` joins that transaction) and stores the answer; claim,
changes and answer commit together, or not at all.

A duplicate sent while the first request still runs, per mode:

- PostgreSQL: the claim first takes a transaction-scoped advisory lock on a hash of caller and
  key (``pg_try_advisory_xact_lock``, which never waits). A duplicate that does not get it answers
  409 ``idempotency-in-progress`` at once, holding no connection while the first one works; once
  the first has committed (the lock goes with its transaction), a duplicate replays its answer.
- SQLite: writers are serialised (``BEGIN IMMEDIATE``), so the duplicate's transaction starts
  only after the first one ended: it finds the stored answer and replays it (a 409 cannot happen).

Keys are kept for 24 hours. A claim without an answer can only be a row from before answers were
stored with their claim; it frees its key after five minutes. The body is compared byte for
byte: send the retry exactly as the first attempt.

The view this decorates sits below ``requires`` (which answers 401/403 first) and above
flask-smorest's decorators (docs/SERVICE.md, step 7).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Response, current_app, request
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from shared.bus.tables import IDEMPOTENCY_KEYS_KEPT
from shared.clock import as_utc
from shared.db import UnitOfWork
from shared.errors import Conflict, RuleViolation
from shared.http.auth import current_principal
from shared.http.languages import current_locale
from shared.http.views import request_abandoned, request_transaction, stale_is_precondition_failed
from shared.i18n import CONTENT_LANGUAGE, _

IN_PROGRESS = _("A request with this Idempotency-Key is still being processed.")
F = TypeVar("F", bound=Callable[..., Any])
ABANDONED_AFTER = timedelta(minutes=5)
IDEMPOTENCY_KEY = {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string", "maxLength": 200}}
"""The OpenAPI parameter of every creating POST (``@blp.doc(parameters=[IDEMPOTENCY_KEY])``)."""
REPLAYED_HEADERS = ("Location", "ETag", "Content-Type", "Content-Language")


def idempotent() -> Callable[[F], F]:
    """Decorator (below ``requires``, above flask-smorest's) for a creating POST, on the request's
    own service database.

    Raises (as problems): 401 when a key comes without a token (before any transaction), 422
    ``idempotency-key-too-long`` / ``idempotency-key-reused``, 409 ``idempotency-in-progress``.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = request.headers.get("Idempotency-Key")
            if not key:
                return view(*args, **kwargs)
            # Keys are the caller's: no caller, no key (and no transaction, no claim) — a 401.
            principal = current_principal().subject
            if len(key) > 200:
                raise RuleViolation(_("Idempotency-Key is at most 200 characters."), code="idempotency-key-too-long")
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
                # after_request hooks have not run yet: the answer's language is this request's.
                response.headers.setdefault("Content-Language", CONTENT_LANGUAGE[current_locale()])
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


def lock_id(principal: str, key: str) -> int:
    """The advisory lock of one caller's key: 64 bits of a hash of both (a signed ``bigint``)."""
    digest = hashlib.sha256(b"parkhub-idempotency\0" + principal.encode() + b"\0" + key.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _claim(uow: UnitOfWork, principal: str, key: str, digest: str) -> Response | None:
    """Claim ``key`` in the request's transaction, or the stored answer to replay; raises 409
    (claimed by a request still running) or 422 (claimed with another body)."""
    if uow.session.get_bind().dialect.name == "postgresql":
        # Never wait for the first request: it may run for seconds, and a waiting duplicate would
        # hold a pooled connection all along, then find a claim it cannot tell from a dead one.
        lock = text("SELECT pg_try_advisory_xact_lock(:lock)")
        granted = uow.session.execute(lock, {"lock": lock_id(principal, key)}).scalar_one()
        if not granted:
            raise Conflict(IN_PROGRESS, code="idempotency-in-progress")
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
