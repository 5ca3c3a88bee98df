"""The gateway's HTTP API: one flask-smorest Blueprint per resource; views stay thin.

A view that changes anything owns the transaction: it opens ``unit_of_work()``, calls one handler
(which never commits) and commits; an exception leaves the block uncommitted, so nothing is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy.orm import Session

from gateway.client_secrets import ClientSecrets
from shared.http.app import current_database, unit_of_work

__all__ = ["current_client_secrets", "read_session", "unit_of_work"]


def current_client_secrets() -> ClientSecrets:
    """The gateway's hasher of partner client secrets (made by ``create_app``)."""
    found: ClientSecrets = current_app.extensions["parkhub.client_secrets"]
    return found


@contextmanager
def read_session() -> Iterator[Session]:
    """A read-only session whose loaded objects stay readable after it closes: flask-smorest
    serialises them after the view returned. (``close`` detaches without expiring them; a
    rollback would expire them.)"""
    session = current_database().session()
    try:
        yield session
    finally:
        session.close()
