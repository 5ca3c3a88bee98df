"""Idle CPU: what every process of the platform burns while nobody uses it.

    python -m bench.idle [--seconds 30] [--settle 10] [--workers 2] [--mode distributed|embedded|both]
                         [--write docs/PERFORMANCE.md]

The platform comes from :mod:`bench.platform`, as the other benches start it: *distributed* is the
gateway and the four service APIs under gunicorn (each master and each of its workers), every
``parkhub worker`` and nginx (master and workers) on PostgreSQL and RabbitMQ; *embedded* is
``parkhub serve``. Once everything answers, ``--settle`` seconds are left for start-up work (the
seed's events relayed and handled, first job passes), then every process is measured over the
same window of ``--seconds``, all at once.

CPU time comes from ``/proc/<pid>/stat`` (user + system, every thread), as a share of one core
over the window. Target: about zero, called met at or under :data:`TARGET` of one core (with the
kernel's 10 ms clock tick, 30 s resolve 0.03 %).

The functions ``measure_embedded`` and ``measure_workers`` (``parkhub serve`` and two workers,
started here without the rig) are what ``tests/e2e/test_idle.py`` runs in a few seconds.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import urlopen

from bench.doc import write_block
from bench.platform import free_port

REPO = Path(__file__).resolve().parents[1]
BLOCK = "idle"
SETTLE_SECONDS = 3.0
"""Left to a process after it answered, so that start-up work (recover, first passes) is over."""
TARGET = 0.005
"""The idle share of one core called "about zero": 0.5 %, 150 ms of CPU over 30 s."""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid``, all its threads, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of stat(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def idle_share(pid: int, seconds: float, *, windows: int = 1, enough: float = 0.0) -> float:
    """The share of one core that ``pid`` used over the next ``seconds``: the quietest of up to
    ``windows`` windows in a row, stopping at the first at or under ``enough``. A process that
    spins is busy in every window; one whose start-up work a loaded machine delayed is not."""
    quietest = float("inf")
    for _ in range(windows):
        before, started = cpu_seconds(pid), time.monotonic()
        time.sleep(seconds)  # the measurement window itself
        quietest = min(quietest, (cpu_seconds(pid) - before) / (time.monotonic() - started))
        if quietest <= enough:
            break
    return quietest


def parkhub(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "parkhub_cli", *args], cwd=REPO, env=env, check=True, capture_output=True, timeout=180
    )


@contextmanager
def running(env: dict[str, str], *args: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "parkhub_cli", *args], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def wait_until(condition: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise RuntimeError(f"gave up waiting for {what}")


def healthy(url: str) -> bool:
    try:
        with urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback server
            return bool(response.status == 200)
    except OSError:
        return False


def embedded_env(var: Path) -> dict[str, str]:
    return {**os.environ, "PARKHUB_VAR_DIR": str(var), "PARKHUB_BUS_NAMESPACE": f"idle{uuid.uuid4().hex[:6]}"}


def measure_embedded(root: Path, seconds: float, *, windows: int = 1, enough: float = 0.0) -> float:
    """Idle CPU share of ``parkhub serve`` (``windows``, ``enough``: as :func:`idle_share`)."""
    env = embedded_env(root / "var")
    parkhub(env, "migrate")
    parkhub(env, "seed")
    port = free_port()
    with running(env, "serve", "--port", str(port), log=root / "serve.log") as process:
        wait_until(lambda: healthy(f"http://127.0.0.1:{port}/api/v1/health"), "parkhub serve to answer")
        time.sleep(SETTLE_SECONDS)
        return idle_share(process.pid, seconds, windows=windows, enough=enough)


def distributed_env(var: Path, url_template: str, amqp: str) -> dict[str, str]:
    return {
        **os.environ,
        "PARKHUB_VAR_DIR": str(var),
        "PARKHUB_DATABASE_URL_TEMPLATE": url_template,
        "PARKHUB_BUS_URL": amqp,
        "PARKHUB_BUS_NAMESPACE": f"idle{uuid.uuid4().hex[:6]}",
    }


def measure_workers(
    root: Path, env: dict[str, str], seconds: float, *, windows: int = 1, enough: float = 0.0
) -> dict[str, float]:
    """Idle CPU share of ``parkhub worker notify`` and ``parkhub worker gateway`` (migrated first);
    the bus namespace's queues and exchange are deleted afterwards."""
    try:
        parkhub(env, "migrate")
        shares: dict[str, float] = {}
        for name in ("notify", "gateway"):
            heartbeat = Path(env["PARKHUB_VAR_DIR"]) / "run" / f"{name}-worker.heartbeat"
            with running(env, "worker", name, log=root / f"worker-{name}.log") as process:
                wait_until(heartbeat.exists, f"the {name} worker's relay loop")
                time.sleep(SETTLE_SECONDS)
                shares[name] = idle_share(process.pid, seconds, windows=windows, enough=enough)
        return shares
    finally:
        delete_namespace(env["PARKHUB_BUS_URL"], env["PARKHUB_BUS_NAMESPACE"])


def delete_namespace(amqp: str, namespace: str) -> None:
    """Delete the declared topology's queues and the exchange of ``namespace``."""
    from kombu import Connection

    from parkhub_cli import _topology
    from shared.bus import transport

    with Connection(amqp, connect_timeout=5) as connection:
        transport.delete_namespace(connection, namespace, _topology())


def reachable(url: str, port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or port), timeout=1):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Row:
    """One process's idle share: ``name`` as the rig calls it, ``role`` (master, worker, process)."""

    name: str
    role: str
    pid: int
    share: float

    @property
    def met(self) -> bool:
        return self.share <= TARGET


def roles(platform: Any) -> list[tuple[str, str, int]]:
    """Every process of a running :mod:`bench.platform` platform: (name, role, pid). The process
    the rig started is a gunicorn or nginx master when it has children (its workers)."""
    found = []
    for name, process in platform.processes.items():
        pids = list(platform.pids(name))
        for pid in pids:
            role = ("master" if pid == process.pid else "worker") if len(pids) > 1 else "process"
            found.append((name, role, pid))
    return found


def measure_platform(platform: Any, seconds: float, *, windows: int = 1, enough: float = TARGET) -> list[Row]:
    """The idle share of every process of ``platform`` over a window of ``seconds``, the same
    window for all. With ``windows`` > 1, the processes still above ``enough`` are measured again
    (up to ``windows`` windows in a row) and each keeps its quietest: a process that spins is busy
    in every window, one whose start-up work a loaded machine delayed is not."""
    quietest: dict[int, Row] = {}
    pending = roles(platform)
    for _ in range(windows):
        for row in _window(pending, seconds):
            if row.pid not in quietest or row.share < quietest[row.pid].share:
                quietest[row.pid] = row
        pending = [(r.name, r.role, r.pid) for r in quietest.values() if r.share > enough]
        if not pending:
            break
    return list(quietest.values())


def _window(processes: list[tuple[str, str, int]], seconds: float) -> list[Row]:
    """One window: every process's CPU time before and after (one that is gone reads as idle)."""
    before = {pid: cpu_seconds(pid) for _, _, pid in processes}
    started = time.monotonic()
    time.sleep(seconds)  # the measurement window itself
    elapsed = time.monotonic() - started
    rows = []
    for name, role, pid in processes:
        try:
            after = cpu_seconds(pid)
        except OSError:
            after = before[pid]
        rows.append(Row(name, role, pid, (after - before[pid]) / elapsed))
    return rows


def measure_mode(mode: str, seconds: float, settle: float, workers: int) -> list[Row]:
    """Start the platform of ``mode`` with :mod:`bench.platform`, let it settle, measure it."""
    from bench import platform

    context = platform.distributed(workers=workers) if mode == "distributed" else platform.embedded()
    with context as running:
        time.sleep(settle)
        return measure_platform(running, seconds)


def platform_report(seconds: float, settle: float, results: dict[str, list[Row]]) -> str:
    lines = [
        f"Share of one core used over the same {seconds:g} s by every process (user + system time from /proc, all "
        f"threads), {settle:g} s after the platform answered. Target: about zero, met at or under {TARGET:.1%}.",
        "",
        "| mode | process | role | pid | idle CPU | target |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for mode, rows in results.items():
        for row in rows:
            verdict = "met" if row.met else "**missed**"
            lines.append(
                f"| {mode} | `{row.name}` | {row.role} | {row.pid} | {row.share:.2%} | ≤ {TARGET:.1%}: {verdict} |"
            )
    every = [row for rows in results.values() for row in rows]
    missed = [row for row in every if not row.met]
    lines += [
        "",
        f"{len(every)} processes; {len(every) - len(missed)} met the target, {len(missed)} missed it; "
        f"together {sum(row.share for row in every):.2%} of one core.",
    ]
    return "\n".join(lines)


def write(path: Path, text: str) -> None:
    write_block(path, BLOCK, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--settle", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of the gateway and every API")
    parser.add_argument("--mode", choices=("distributed", "embedded", "both"), default="both")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    modes = ("distributed", "embedded") if args.mode == "both" else (args.mode,)
    results = {mode: measure_mode(mode, args.seconds, args.settle, args.workers) for mode in modes}
    text = platform_report(args.seconds, args.settle, results)
    print(text)
    if args.write:
        write(args.write, text)


if __name__ == "__main__":
    main()
