"""The baseline of the side-by-side HTTP benchmark (:mod:`bench.http`): a bare Flask app.

    gunicorn --workers 2 --worker-class gthread --threads 8 'bench.bare:create_app()'

Two routes and nothing else: ``GET /bare`` answers a small JSON document, ``POST /bare`` parses a
JSON body and answers it back with 201. No database, no token, no schema: what Flask and gunicorn
cost on this machine, so that ParkHub's figures can be read as a ratio to it in the same run.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request


def create_app() -> Flask:
    app = Flask("bench-bare")

    @app.get("/bare")
    def read() -> Any:
        return {"status": "ok", "service": "bare"}

    @app.post("/bare")
    def create() -> Any:
        body = request.get_json()
        # Parsed, not echoed blindly: the same work as a handler reading its fields.
        return {"received": sorted(body) if isinstance(body, dict) else None}, 201

    return app
