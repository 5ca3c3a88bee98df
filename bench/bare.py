"""The baseline of the side-by-side HTTP benchmark (:mod:`bench.http`): a bare Flask app.

    python -m bench.bare --bind 127.0.0.1:P --workers 2     # gunicorn, exactly as `parkhub api X` runs
    python -m bench.bare --werkzeug --port P                 # werkzeug's threaded server, as `parkhub serve`

Two routes and nothing else: ``GET /bare`` answers a small JSON document, ``POST /bare`` parses a
JSON body and answers it back with 201. No database, no token, no schema: what Flask and the server
cost on this machine, so that ParkHub's figures can be read as a ratio to it in the same run. The
server is ParkHub's own configuration (``parkhub_cli._gunicorn``, or werkzeug's ``make_server``
with threads as ``parkhub serve``), so a change there moves the baseline with the platform.
"""

from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the bare Flask app of the HTTP bench")
    parser.add_argument("--bind", default="127.0.0.1:8199")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--werkzeug", action="store_true", help="werkzeug's threaded server (parkhub serve's)")
    parser.add_argument("--port", type=int, default=8199, help="with --werkzeug")
    args = parser.parse_args(argv)
    if args.werkzeug:
        import signal

        from werkzeug.serving import make_server

        from parkhub_cli import _exit_on_signal

        server = make_server("127.0.0.1", args.port, create_app(), threaded=True)
        signal.signal(signal.SIGTERM, _exit_on_signal)
        server.serve_forever()
        return 0
    from parkhub_cli import _gunicorn
    from shared.settings import Settings

    return _gunicorn("bare", Settings.from_env(), args, load=create_app)


if __name__ == "__main__":
    raise SystemExit(main())
