"""Idle CPU: what the platform's processes burn while nobody uses them.

    python -m bench.idle [--seconds 10] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
                         [--amqp amqp://guest:guest@127.0.0.1:5672//] [--write docs/PERFORMANCE.md]

- *embedded*: ``parkhub serve`` on a migrated, seeded var/, measured once its health answers 200
  and its bus has settled what start-up published;
- *worker*: ``parkhub worker notify`` and ``parkhub worker gateway`` on PostgreSQL and RabbitMQ
  (skipped when either is down), measured once consuming.

CPU time comes from ``/proc/<pid>/stat`` (user + system, every thread), as a share of one core
over the window. The processes run from this checkout with the interpreter running the bench.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

REPO = Path(__file__).resolve().parents[1]
MARKERS = ("<!-- idle:start -->", "<!-- idle:end -->")
SETTLE_SECONDS = 3.0
"""Left to a process after it answered, so that start-up work (recover, first passes) is over."""


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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


@contextmanager
def postgres_databases(admin_url: str) -> Iterator[str]:
    """A fresh database per owner; yields the ``PARKHUB_DATABASE_URL_TEMPLATE``; drops them after."""
    import psycopg

    from shared.settings import DATABASES

    prefix = f"parkhub_idle{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for name in DATABASES:
            admin.execute(f'CREATE DATABASE "{prefix}_{name}"')
    try:
        yield f"postgresql+psycopg://{urlsplit(admin_url).netloc}/{prefix}_{{name}}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for name in DATABASES:
                admin.execute(f'DROP DATABASE IF EXISTS "{prefix}_{name}" WITH (FORCE)')


def reachable(url: str, port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or port), timeout=1):
            return True
    except OSError:
        return False


def report(seconds: float, embedded: float, workers: dict[str, float] | None) -> str:
    lines = [
        f"Share of one core used over {seconds:g} s of idleness (user + system time from /proc), "
        "after start-up work settled.",
        "",
        "| process | idle CPU |",
        "| --- | --- |",
        f"| `parkhub serve` (embedded: gateway, four services, bus thread) | {embedded:.1%} |",
    ]
    if workers is None:
        lines.append("| `parkhub worker` (distributed) | not measured: PostgreSQL or RabbitMQ down |")
    else:
        lines += [
            f"| `parkhub worker {name}` (PostgreSQL, RabbitMQ) | {share:.1%} |" for name, share in workers.items()
        ]
    return "\n".join(lines)


def write(path: Path, text: str) -> None:
    content = path.read_text()
    start, end = MARKERS
    if start in content and end in content:
        head, rest = content.split(start, 1)
        _, tail = rest.split(end, 1)
        content = f"{head}{start}\n{text}\n{end}{tail}"
    else:
        content += f"\n{start}\n{text}\n{end}\n"
    path.write_text(content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672//")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="parkhub-idle-") as tmp:
        root = Path(tmp)
        (root / "embedded").mkdir()
        embedded = measure_embedded(root / "embedded", args.seconds)
        workers = None
        if reachable(args.postgres, 5432) and reachable(args.amqp, 5672):
            with postgres_databases(args.postgres) as template:
                (root / "distributed").mkdir()
                env = distributed_env(root / "distributed" / "var", template, args.amqp)
                workers = measure_workers(root / "distributed", env, args.seconds)
    text = report(args.seconds, embedded, workers)
    print(text)
    if args.write:
        write(args.write, text)


if __name__ == "__main__":
    main()
