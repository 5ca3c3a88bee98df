#!/usr/bin/env python3
"""Container health checks of the distributed mode (docker-compose.yml), standard library only.

parkhub-healthcheck http URL            200, and a JSON body whose status (if any) is "ok"
parkhub-healthcheck tcp HOST:PORT ...   every address accepts a connection
"""

import json
import socket
import sys
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


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    try:
        healthy = http_ok(*args) if kind == "http" else tcp_ok(*args)
    except (OSError, ValueError):
        healthy = False
    sys.exit(0 if healthy else 1)
