#!/usr/bin/env python3
"""Container health checks of the distributed mode (docker-compose.yml), standard library only.

parkhub-healthcheck http URL            200, and a JSON body whose status (if any) is "ok"
parkhub-healthcheck tcp HOST:PORT ...   every address accepts a connection
parkhub-healthcheck file GLOB SECONDS   files matching GLOB were touched in the last SECONDS (heartbeats)
"""

import glob
import json
import os
import socket
import sys
import time
import urllib.request


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - our own container
        return response.status == 200 and json.loads(response.read() or b"{}").get("status", "ok") == "ok"


def tcp_ok(*addresses: str) -> bool:
    for address in addresses:
        host, _, port = address.rpartition(":")
        with socket.create_connection((host, int(port)), timeout=3):
            pass
    return True


def fresh(pattern: str, seconds: str) -> bool:
    paths = glob.glob(pattern)
    return bool(paths) and all(time.time() - os.stat(path).st_mtime <= float(seconds) for path in paths)


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    try:
        healthy = {"http": http_ok, "tcp": tcp_ok, "file": fresh}[kind](*args)
    except (OSError, ValueError):
        healthy = False
    sys.exit(0 if healthy else 1)
