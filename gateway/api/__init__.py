"""The gateway's HTTP API: one flask-smorest Blueprint per resource; views stay thin."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from shared.db import UnitOfWork
from shared.http.app import current_database
from shared.http.requests import request_id


def unit_of_work() -> UnitOfWork:
    """A unit of work on the gateway database whose events carry this request's id."""
    return current_database().unit_of_work(correlationid=request_id())


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
