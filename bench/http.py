"""The request path side by side: ParkHub's APIs against a bare Flask app, in one run, over HTTP.

    python -m bench.http [--tree PATH] [--label before|after] [--duration 10] [--warmup 2]
                         [--write docs/PERFORMANCE.md]

Everything runs for real on this machine and is torn down at the end:
- PostgreSQL databases of the run's own (``parkhub_bench_<random>_<name>``), built by ``parkhub
  migrate`` and filled by ``parkhub seed``. No worker and no broker run: the API processes only
  write their outboxes (the bus is ``memory://``, nobody relays), so only the request path is
  measured. Booking's directory gets the seed's organisations copied in by SQL, the rows its
  ``identity.organisation.registered`` consumer would write; that keeps the bench independent of
  how the bus names its queues, and leaves nothing behind on a broker;
- under gunicorn, 2 gthread workers × 8 threads each, on free loopback ports: the booking API
  (``parkhub api booking``), the gateway (``parkhub gateway``, for the token endpoint) and the bare
  Flask app of :mod:`bench.bare`;
- ``wrk`` with 8 connections (2 threads, 30 s timeout so slow answers count instead of vanishing),
  a warm-up, then a fixed duration per measure, through ``bench/http.lua``; every answer's status
  is counted, and a run with any non-2xx answer or socket error is refused for ``--write``.

Measures: the bare GET and POST (at the start and again at the end: the spread shows how much the
shared machine moved), availability search as a tenant (one hour on a weekday), one reservation
by id, reservation create on distinct free slots (each request its own slot and Idempotency-Key),
and the token endpoint (client_credentials for a partner's client, and the password grant).
Reported: requests a second, p50 and p99, the ratio to the bare GET or POST (the mean of its two
runs), and how the CPU time split between the two gunicorn workers (wrk's 8 keep-alive
connections may all land on one of them).

``--tree`` runs the servers from another checkout (e.g. a ``git worktree`` of an older commit)
with this repository's Python: the processes start there with ``PYTHONPATH`` set to it, so the
code measured is that tree's. The bench itself and the bare app come from this repository.
Not a timed test: run it by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import requests

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LUA = HERE / "http.lua"
PARK_TZ = ZoneInfo("Asia/Shanghai")
DATABASES = ("gateway", "booking", "consulting", "finance", "notify")
POSTGRES_ADMIN_URL = os.environ.get("PARKHUB_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
WRK = shutil.which("wrk") or "/usr/bin/wrk"
CONNECTIONS = 8
WRK_THREADS = 2
WORKERS = 2
THREADS = 8
START_SECONDS = 60.0
DEMO_PASSWORD = "parkhub-demo"
PARTNER_CLIENT = ("shudu-bank-demo", "parkhub-demo-bank-secret")
BOOKABLE_KINDS = ("conference_room", "scientists_club")
"""Spaces the creates spread over: 30-minute slots, open at least 09:00-22:00 every day, 90-day
horizon, one-hour lead time (seed.py's ROOM_RULES)."""
FIRST_HOUR, HOURS = 9, 13
"""Creates start on the hour from 09:00 to 21:00 and last 30 minutes: with the rooms' 15-minute
cleanup no two of them meet."""
FIRST_DAY, DAYS = 2, 86
"""Creates fill days 2 to 87 from today (park time): inside every room's 90-day horizon."""
TOKEN_STRETCH = 2.0
"""The token grants are measured twice as long: at a few answers a second, 10 s hold too few."""
MARKER = "<!-- http:{label}:{edge} -->"
DATA = re.compile(r"<!-- http-data (\{.*?\}) -->")
SECTION = "## Request path, side by side"


@dataclass(frozen=True)
class Measure:
    """One wrk run: a name, where it goes, and the baseline its ratio is taken against."""

    name: str
    target: str  # "booking", "gateway" or "bare"
    path: str
    baseline: str  # "GET" or "POST"
    lua: list[str]  # the arguments after ``--`` of bench/http.lua
    headers: dict[str, str] = field(default_factory=dict)
    stretch: float = 1.0  # × the run's duration: a slow endpoint needs longer for a p99 worth reading


@dataclass
class Figures:
    name: str
    baseline: str  # "GET" or "POST": the bare run its ratio is taken against
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    socket_errors: int
    worker_cpu: list[float]  # each gunicorn worker's share of the CPU time used, busiest first
    bare_rate: float = 0.0  # requests a second of the bare run just before this one (its baseline)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def failures(self) -> int:
        return self.socket_errors + sum(n for status, n in self.statuses.items() if not status.startswith("2"))

    @property
    def usable(self) -> bool:
        """Only 2xx answers, no socket error, and enough answers for a p99 to mean something."""
        return self.failures == 0 and self.requests >= 10


# -- processes and databases ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Rig:
    """The run's databases and server processes; ``close`` stops the processes it started (by
    their ids) and drops the databases."""

    def __init__(self, tree: Path) -> None:
        self.tree = tree
        self.folder = Path(tempfile.mkdtemp(prefix="parkhub-bench-http-"))
        self.prefix = f"parkhub_bench_{uuid.uuid4().hex[:8]}"
        self.ports = {name: free_port() for name in ("gateway", "booking", "bare")}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.databases: list[str] = []
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PARKHUB_")},
            "PYTHONPATH": str(tree),
            "PARKHUB_VAR_DIR": str(self.folder / "var"),
            "PARKHUB_DATABASE_URL_TEMPLATE": self._template(),
            "PARKHUB_BUS_URL": "memory://",
            "PARKHUB_JWKS_URL": f"{self.url('gateway')}/.well-known/jwks.json",
        }

    def _template(self) -> str:
        return f"postgresql+psycopg://{self._server()}/{self.prefix}_{{name}}"

    def _server(self) -> str:
        return POSTGRES_ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0]

    def database_url(self, name: str) -> str:
        """A libpq URL of one of the run's databases, for psycopg."""
        return f"postgresql://{self._server()}/{self.prefix}_{name}"

    def url(self, target: str) -> str:
        return f"http://127.0.0.1:{self.ports[target]}"

    def create_databases(self) -> None:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            for name in DATABASES:
                admin.execute(f'CREATE DATABASE "{self.prefix}_{name}"')
                self.databases.append(f"{self.prefix}_{name}")

    def parkhub(self, *args: str) -> None:
        """Run a one-shot ``parkhub`` command of the tree to its end."""
        with open(self.folder / f"{args[0]}.log", "wb") as log:
            done = subprocess.run(
                [sys.executable, "-m", "parkhub_cli", *args],
                cwd=self.tree,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=120,
                check=False,
            )
        if done.returncode != 0:
            raise RuntimeError(f"parkhub {' '.join(args)} failed:\n{self.tail(args[0])}")

    def start(self, name: str, command: list[str], cwd: Path, **env: str) -> None:
        # A session of its own: gunicorn's master and its workers stop together, by this id.
        with open(self.folder / f"{name}.log", "wb") as log:
            self.processes[name] = subprocess.Popen(
                command,
                cwd=cwd,
                env={**self.env, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def bind(self, name: str) -> str:
        return f"127.0.0.1:{self.ports[name]}"

    def start_servers(self) -> None:
        cli = [sys.executable, "-m", "parkhub_cli"]
        self.start("gateway", [*cli, "gateway", "--bind", self.bind("gateway"), "--workers", str(WORKERS)], self.tree)
        self.start(
            "booking", [*cli, "api", "booking", "--bind", self.bind("booking"), "--workers", str(WORKERS)], self.tree
        )
        # The same gunicorn configuration as parkhub_cli's _gunicorn: gthread, 2 × 8, 30 s timeout.
        self.start(
            "bare",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                self.bind("bare"),
                "--workers",
                str(WORKERS),
                "--worker-class",
                "gthread",
                "--threads",
                str(THREADS),
                "--timeout",
                "30",
                "--graceful-timeout",
                "10",
                "--no-control-socket",
                "bench.bare:create_app()",
            ],
            REPO,
            PYTHONPATH=str(REPO),
        )

    def stop(self, name: str) -> None:
        process = self.processes.get(name)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def wait_for(self, condition: Callable[[], Any], what: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.tail(name)}")
            result = condition()
            if result:
                return result
            time.sleep(0.2)
        raise RuntimeError(f"gave up waiting for {what}\n" + "\n".join(self.tail(n, 10) for n in self.processes))

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.folder / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return f"--- {name} ---\n" + "\n".join(text.splitlines()[-lines:])

    def gunicorn_workers(self, target: str) -> list[int]:
        """The worker pids of one gunicorn master (the process started for ``target``)."""
        pid = self.processes[target].pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []

    def close(self) -> None:
        for name in list(self.processes):
            try:
                self.stop(name)
            except ProcessLookupError:
                pass
        if self.databases:
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
                for name in self.databases:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.databases.clear()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def rig(tree: Path) -> Iterator[Rig]:
    bed = Rig(tree)
    try:
        yield bed
    finally:
        bed.close()


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of a process so far, in clock ticks (``/proc/<pid>/stat``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


# -- the platform's data -------------------------------------------------------------------------


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def token(base: str, **form: str) -> str:
    response = requests.post(f"{base}/api/v1/auth/token", data=form, timeout=30)
    if response.status_code != 200:
        raise RuntimeError(f"no token for {form.get('username') or form.get('client_id')}: {response.text}")
    return str(response.json()["access_token"])


def park_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=PARK_TZ)


def next_weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class Scene:
    """What the measures need from the running platform."""

    tenant_token: str
    spaces: list[str]
    reservation_id: str
    search_day: date
    first_day: date


def copy_directory(bed: Rig) -> None:
    """Booking's directory of organisations, as its consumer of ``identity.organisation.*`` keeps
    it: every organisation of the gateway's database (see the module docstring for why by SQL)."""
    with psycopg.connect(bed.database_url("gateway")) as gateway:
        rows = gateway.execute("SELECT id, name, name_zh, kind, status, version FROM organisations").fetchall()
    with psycopg.connect(bed.database_url("booking")) as booking:
        booking.cursor().executemany(
            "INSERT INTO directory_organisations (id, name, name_zh, kind, status, version, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, now()) ON CONFLICT (id) DO NOTHING",
            rows,
        )


def prepare(bed: Rig) -> Scene:
    """Wait for the servers and book the one reservation that is read by id."""
    bed.wait_for(
        lambda: (
            answers(f"{bed.url('gateway')}/.well-known/jwks.json")
            and answers(f"{bed.url('booking')}/api/v1/booking/health")
            and answers(f"{bed.url('bare')}/bare")
        ),
        "the servers to answer",
        START_SECONDS,
    )
    gateway, booking = bed.url("gateway"), bed.url("booking")
    tenant = token(gateway, grant_type="password", username="alice", password=DEMO_PASSWORD)
    listed = requests.get(
        f"{booking}/api/v1/booking/spaces",
        params={"page_size": 200},
        headers={"Authorization": f"Bearer {tenant}"},
        timeout=10,
    )
    listed.raise_for_status()
    spaces = sorted(
        (s for s in listed.json()["items"] if s["kind"] in BOOKABLE_KINDS), key=lambda s: str(s.get("code", s["id"]))
    )
    if not spaces:
        raise RuntimeError("the seed has no bookable rooms")
    today = datetime.now(PARK_TZ).date()
    tomorrow = park_midnight(today + timedelta(days=1))
    booked = requests.post(
        f"{booking}/api/v1/booking/reservations",
        json={
            "space_id": spaces[0]["id"],
            "start": (tomorrow + timedelta(hours=10)).isoformat(),
            "end": (tomorrow + timedelta(hours=10, minutes=30)).isoformat(),
            "title": "Bench: the reservation read by id",
            "attendees": 6,
        },
        headers={"Authorization": f"Bearer {tenant}"},
        timeout=30,
    )
    if booked.status_code != 201:
        raise RuntimeError(f"could not book the reservation read by id: {booked.status_code} {booked.text}")
    return Scene(
        tenant_token=tenant,
        spaces=[s["id"] for s in spaces],
        reservation_id=booked.json()["id"],
        search_day=next_weekday(today + timedelta(days=FIRST_DAY)),
        first_day=today + timedelta(days=FIRST_DAY),
    )


# -- the measures --------------------------------------------------------------------------------

BARE_GET, BARE_POST = "bare GET (small JSON)", "bare POST (parse a JSON body, 201)"


def measures(scene: Scene, nonce: str) -> list[Measure]:
    bearer = {"Authorization": f"Bearer {scene.tenant_token}"}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    start = park_midnight(scene.search_day) + timedelta(hours=10)
    search = f"/api/v1/booking/availability?start={start.isoformat()}&end={(start + timedelta(hours=1)).isoformat()}"
    search = search.replace("+", "%2B")
    creates = [
        "create",
        "{first}",
        str(WRK_THREADS),
        str(int(park_midnight(scene.first_day).timestamp())),
        str(DAYS),
        str(FIRST_HOUR),
        str(HOURS),
        nonce,
        *scene.spaces,
    ]
    client_id, secret = PARTNER_CLIENT
    return [
        Measure(BARE_GET, "bare", "/bare", "GET", ["fixed", "GET"], bearer),
        Measure(BARE_POST, "bare", "/bare", "POST", creates, {**bearer, "Content-Type": "application/json"}),
        Measure("availability search, tenant, one weekday hour", "booking", search, "GET", ["fixed", "GET"], bearer),
        Measure(
            "one reservation by id",
            "booking",
            f"/api/v1/booking/reservations/{scene.reservation_id}",
            "GET",
            ["fixed", "GET"],
            bearer,
        ),
        Measure(
            "reservation create, distinct free slots",
            "booking",
            "/api/v1/booking/reservations",
            "POST",
            creates,
            {**bearer, "Content-Type": "application/json"},
        ),
        Measure(
            "token, client_credentials (partner client)",
            "gateway",
            "/api/v1/auth/token",
            "POST",
            ["fixed", "POST", f"grant_type=client_credentials&client_id={client_id}&client_secret={secret}"],
            form,
            stretch=TOKEN_STRETCH,
        ),
        Measure(
            "token, password grant (tenant user)",
            "gateway",
            "/api/v1/auth/token",
            "POST",
            ["fixed", "POST", f"grant_type=password&username=alice&password={DEMO_PASSWORD}"],
            form,
            stretch=TOKEN_STRETCH,
        ),
    ]


def wrk(base_url: str, measure: Measure, seconds: float, first_slot: int) -> dict[str, Any]:
    """Run wrk once; returns the JSON line of bench/http.lua's done()."""
    lua = [arg.replace("{first}", str(first_slot)) for arg in measure.lua]
    command = [
        WRK,
        f"-t{WRK_THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA),
        *(arg for name, value in measure.headers.items() for arg in ("-H", f"{name}: {value}")),
        base_url + measure.path,
        "--",
        *lua,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 90, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return dict(json.loads(line[len("BENCH ") :]))


def run_measure(bed: Rig, measure: Measure, *, duration: float, warmup: float, slots: dict[str, int]) -> Figures:
    """A warm-up, then the measured run. ``slots`` holds each target's next unused create slot
    (the bare POST sends the same bodies as the creates): no slot is sent twice to one server."""
    key = measure.target if measure.lua[0] == "create" else "-"
    slots.setdefault(key, 0)
    if warmup > 0:
        warm = wrk(bed.url(measure.target), measure, warmup, slots[key])
        slots[key] += warm["slots_sent"]
    pids = bed.gunicorn_workers(measure.target)
    before = {pid: cpu_ticks(pid) for pid in pids}
    result = wrk(bed.url(measure.target), measure, duration * measure.stretch, slots[key])
    slots[key] += result["slots_sent"]
    used = sorted((max(0, cpu_ticks(pid) - before[pid]) for pid in pids), reverse=True)
    total = sum(used) or 1
    return Figures(
        name=measure.name,
        baseline=measure.baseline,
        requests=int(result["requests"]),
        seconds=result["duration_us"] / 1e6,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        statuses={str(k): int(v) for k, v in result["statuses"].items()},
        socket_errors=sum(int(result[k]) for k in ("connect_errors", "read_errors", "write_errors", "timeouts")),
        worker_cpu=[round(100 * u / total) for u in used],
    )


def merged(runs: list[Figures]) -> Figures:
    """The bare runs of one kind as one row: all their answers, the worst p50 and p99."""
    first = runs[0]
    statuses: dict[str, int] = {}
    for one in runs:
        for status, n in one.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    return Figures(
        name=first.name,
        baseline=first.baseline,
        requests=sum(f.requests for f in runs),
        seconds=sum(f.seconds for f in runs),
        p50_ms=max(f.p50_ms for f in runs),
        p99_ms=max(f.p99_ms for f in runs),
        statuses=statuses,
        socket_errors=sum(f.socket_errors for f in runs),
        worker_cpu=first.worker_cpu,
    )


@dataclass
class Run:
    label: str
    tree: str
    commit: str
    when: str
    duration: float
    warmup: float
    load: tuple[float, float]  # the machine's 1-minute load average at the start and at the end
    figures: list[Figures]
    baselines: dict[str, list[float]]  # every bare GET and POST run's requests a second, in order
    slots: tuple[int, int]  # create slots sent (warm-up included) and slots there are


def commit_of(tree: Path) -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True, check=False).stdout

    head = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    dirty = bool(git("status", "--porcelain", "--untracked-files=no").strip())
    return head + (" + uncommitted changes" if dirty else "")


def run(tree: Path, *, label: str, duration: float, warmup: float) -> Run:
    """Every ParkHub measure right after a bare run of its kind (GET or POST), whose rate is its
    baseline: on a shared machine the load moves within minutes, and a ratio to a baseline taken
    seconds earlier moves with it far less than one to a baseline taken once for the whole run."""
    load = os.getloadavg()[0]
    with rig(tree) as bed:
        bed.create_databases()
        bed.parkhub("migrate")
        bed.parkhub("seed")
        copy_directory(bed)
        bed.start_servers()
        scene = prepare(bed)
        all_measures = measures(scene, nonce=uuid.uuid4().hex[:12])
        slots: dict[str, int] = {}
        bare = {m.baseline: m for m in all_measures if m.target == "bare"}
        figures: list[Figures] = []
        bare_runs: dict[str, list[Figures]] = {"GET": [], "POST": []}
        for measure in (m for m in all_measures if m.target != "bare"):
            baseline = run_measure(bed, bare[measure.baseline], duration=duration, warmup=warmup, slots=slots)
            bare_runs[measure.baseline].append(baseline)
            result = run_measure(bed, measure, duration=duration, warmup=warmup, slots=slots)
            result.bare_rate = baseline.rate
            figures.append(result)
            for done in (baseline, result):
                print(
                    f"{done.name}: {done.rate:,.1f}/s, p50 {done.p50_ms:.1f} ms, p99 {done.p99_ms:.1f} ms, "
                    f"statuses {done.statuses}, socket errors {done.socket_errors}, workers {done.worker_cpu}",
                    flush=True,
                )
        figures[:0] = [merged(runs) for runs in bare_runs.values()]
    return Run(
        label=label,
        tree=str(tree),
        commit=commit_of(tree),
        when=datetime.now(PARK_TZ).strftime("%Y-%m-%d %H:%M %z"),
        duration=duration,
        warmup=warmup,
        load=(load, os.getloadavg()[0]),
        figures=figures,
        baselines={kind: [f.rate for f in runs] for kind, runs in bare_runs.items()},
        slots=(slots.get("booking", 0), len(scene.spaces) * HOURS * DAYS),
    )


# -- the report ----------------------------------------------------------------------------------


def report(result: Run) -> str:
    """A markdown table of one run, with its data in an HTML comment for the comparison table."""
    lines = [
        f"**{result.label.capitalize()}**: commit `{result.commit}`, {result.when}; wrk {CONNECTIONS} connections, "
        f"{result.warmup:g} s warm-up then {result.duration:g} s per measure ({TOKEN_STRETCH * result.duration:g} s "
        f"for the token grants); gunicorn {WORKERS} gthread workers × "
        f"{THREADS} threads; PostgreSQL; the machine's load average {result.load[0]:.2f} at the start, "
        f"{result.load[1]:.2f} at the end. Each measure's ratio is to the bare run of its kind just before it. "
        f"The creates took {result.slots[0]:,} of {result.slots[1]:,} free slots.",
        "",
        "| measure | requests/s | p50 | p99 | ratio to bare | non-2xx | workers' CPU split |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in result.figures:
        if f.name in (BARE_GET, BARE_POST):
            runs = " · ".join(f"{rate:,.0f}" for rate in result.baselines[f.baseline])
            ratio = f"baseline; its runs: {runs} /s"
            split = "(first run) " + ":".join(str(share) for share in f.worker_cpu)
        else:
            ratio = f"{100 * f.rate / f.bare_rate:.2f} % of bare {f.baseline} ({f.bare_rate:,.0f}/s)"
            split = ":".join(str(share) for share in f.worker_cpu)
        lines.append(
            f"| {f.name} | {f.rate:,.1f} | {f.p50_ms:.1f} ms | {f.p99_ms:.1f} ms | {ratio} | {f.failures} | {split} |"
        )
    data = {**asdict(result), "figures": [asdict(f) for f in result.figures]}
    lines += ["", f"<!-- http-data {json.dumps(data, ensure_ascii=False)} -->"]
    return "\n".join(lines)


def comparison(before: dict[str, Any], after: dict[str, Any]) -> str:
    """Before and after side by side: each measure's rate, p50 and p99, and its ratio to bare.
    The last column, the change of that ratio, is the one a busier or quieter machine moves least."""

    def ratios(data: dict[str, Any]) -> dict[str, tuple[float, float, float, float]]:
        rows = {}
        for f in data["figures"]:
            if f["bare_rate"]:
                rate = f["requests"] / f["seconds"]
                rows[f["name"]] = (rate, f["p50_ms"], f["p99_ms"], 100 * rate / f["bare_rate"])
        return rows

    old, new = ratios(before), ratios(after)
    lines = [
        f"Before: `{before['commit']}` ({before['when']}); after: `{after['commit']}` ({after['when']}).",
        "",
        "| measure | before: req/s, p50, p99 (% of bare) | after: req/s, p50, p99 (% of bare) "
        "| × req/s | × % of bare |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, (rate, p50, p99, ratio) in old.items():
        if name not in new:
            continue
        rate2, p502, p992, ratio2 = new[name]
        lines.append(
            f"| {name} | {rate:,.1f}/s, {p50:.1f} ms, {p99:.1f} ms ({ratio:.2f} %) "
            f"| {rate2:,.1f}/s, {p502:.1f} ms, {p992:.1f} ms ({ratio2:.2f} %) | ×{rate2 / rate:.1f} "
            f"| ×{ratio2 / ratio:.1f} |"
        )
    return "\n".join(lines)


def _replace(body: str, label: str, block: str) -> str:
    start, end = MARKER.format(label=label, edge="start"), MARKER.format(label=label, edge="end")
    wrapped = f"{start}\n{block}\n{end}"
    if start in body and end in body:
        head, rest = body.split(start, 1)
        return head + wrapped + rest.split(end, 1)[1]
    if SECTION not in body:
        body = body.rstrip() + f"\n\n{SECTION}\n\n    python -m bench.http --write docs/PERFORMANCE.md\n"
    # Append at the end of this section: before the next "## " heading, or at the end of the file.
    head, rest = body.split(SECTION, 1)
    cut = rest.find("\n## ")
    section, tail = (rest, "") if cut < 0 else (rest[:cut], rest[cut:])
    return head + SECTION + section.rstrip() + "\n\n" + wrapped + "\n" + tail


def stored(body: str, label: str) -> dict[str, Any] | None:
    start, end = MARKER.format(label=label, edge="start"), MARKER.format(label=label, edge="end")
    if start not in body or end not in body:
        return None
    found = DATA.search(body.split(start, 1)[1].split(end, 1)[0])
    return json.loads(found.group(1)) if found else None


def write(path: Path, result: Run) -> None:
    """Put this run's table in its block of ``path`` (``<!-- http:<label>:start -->``…), and, when
    both a *before* and an *after* run are there, the comparison table in its own block."""
    body = path.read_text() if path.exists() else "# Performance\n"
    body = _replace(body, result.label, report(result))
    before, after = stored(body, "before"), stored(body, "after")
    if before and after:
        body = _replace(body, "compare", comparison(before, after))
    path.write_text(body)


def main(argv: list[str] | None = None) -> Run:
    global WORKERS  # noqa: PLW0603 - one run, one configuration: the servers and the report read it
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tree", type=Path, default=REPO, help="the checkout whose servers are measured")
    parser.add_argument("--label", default="after", choices=("before", "after"), help="the block of the doc to write")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measure")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up before each measure")
    parser.add_argument("--write", type=Path, help="put the table into this markdown file (between markers)")
    parser.add_argument(
        "--workers",
        type=int,
        default=WORKERS,
        help="gunicorn workers of every server (1 takes the kernel's spread of wrk's connections out of a comparison)",
    )
    args = parser.parse_args(argv)
    WORKERS = args.workers
    result = run(args.tree.resolve(), label=args.label, duration=args.duration, warmup=args.warmup)
    print(report(result).rsplit("\n\n<!--", 1)[0])
    failed = [f.name for f in result.figures if not f.usable]
    if failed:
        print(
            f"non-2xx answers, socket errors or under 10 answers in: {', '.join(failed)}; not written", file=sys.stderr
        )
        if result.slots[0] > result.slots[1]:
            print(f"the creates ran past the {result.slots[1]:,} free slots: shorten --duration", file=sys.stderr)
        raise SystemExit(1)
    if args.write:
        write(args.write, result)
    return result


if __name__ == "__main__":
    main()
