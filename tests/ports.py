"""Loopback ports for the servers a test starts.

Binding port 0 and handing the number on is racy: the kernel draws that number from its ephemeral
range, the same range it draws the local end of every outgoing connection from. Between the probe's
close and the server's bind, one of the suite's thousands of client connections (to PostgreSQL,
RabbitMQ, the servers of other tests) may take it, and the server fails with "Address already in
use" (CI saw gunicorn do exactly that). A port *below* the ephemeral range is never handed out
implicitly, so only another test choosing the same number could collide: each pytest-xdist worker
draws from a slice of its own, at random, checks the port by binding it, and never hands out a
number twice. The ports from 20000 up are the bench rig's (``bench.platform.PORTS``), which some
tests start while others run beside them.
"""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

LOWEST = 10_000
"""Below this sit the ports of well-known local services."""
HIGHEST = 20_000
"""From here the bench rig draws (20000-32000); 10,000 ports are left for the tests' own servers."""

_given: set[int] = set()


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _slice() -> range:
    """This process's share of the ports between LOWEST and HIGHEST (or the ephemeral range, if lower)."""
    end = min(HIGHEST, _ephemeral_start())
    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0) % workers
    width = (end - LOWEST) // workers
    return range(LOWEST + worker * width, LOWEST + (worker + 1) * width)


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback TCP port nothing listens on and no other test of this run will be given."""
    ports = _slice()
    for _ in range(200):
        port = random.choice(ports)
        if port not in _given and _bindable(port):
            _given.add(port)
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")
