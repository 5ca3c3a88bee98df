"""What every service's permission matrix test shares (consulting's and finance's
``test_every_endpoint``): the routes and methods an app serves under its prefix, a snapshot of
every row of a service's database, and the check that a refusal is problem+json with its code.
A module of helpers: it holds no tests."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import MetaData, select

from shared.db import Database
from shared.http.problems import PROBLEM_BASE, PROBLEM_JSON

PLAIN_CODES = {401: "unauthorized", 403: "forbidden", 404: "not-found"}
"""The code of a refusal for who may not (the matrices' 401, 403 and 404)."""


def served_routes(app: Flask, prefix: str) -> set[tuple[str, str]]:
    """Every (route relative to ``prefix``, method) ``app`` answers, as its url_map writes the
    route; HEAD and OPTIONS (Flask's own) left out."""
    return {
        (rule.rule.removeprefix(prefix), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(prefix + "/")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def snapshot(db: Database, metadata: MetaData) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of ``metadata`` (a service's: the outbox and the directory are
    among them), sorted, to compare before and after a call."""
    with db.reading() as session:
        return {
            table.name: sorted((tuple(row) for row in session.execute(select(table))), key=repr)
            for table in metadata.sorted_tables
        }


def refused(response: Any, status: int, what: str) -> None:
    """``response`` is a ``status`` problem+json with a detail and a code: for 401, 403 and 404
    the plain one of :data:`PLAIN_CODES`, for another status a code of its own."""
    assert response.status_code == status, (what, response.status_code, response.get_json())
    assert response.mimetype == PROBLEM_JSON, what
    problem = response.get_json()
    if status in PLAIN_CODES:
        assert problem["type"] == PROBLEM_BASE + PLAIN_CODES[status], (what, problem)
    else:
        assert str(problem["type"]).startswith(PROBLEM_BASE) and problem["type"] != PROBLEM_BASE, (what, problem)
    assert problem["status"] == status and problem["detail"], (what, problem)
