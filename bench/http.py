"""The request path side by side: ParkHub against a bare Flask app, in one run, over real HTTP.

    python -m bench.http [--mode distributed|embedded|both] [--duration 10] [--warmup 2] [--workers 2]
                         [--only SUBSTRING] [--spread 5] [--write docs/PERFORMANCE.md]

Everything runs for real on this machine and is torn down at the end (:mod:`bench.platform`):

- **distributed**: fresh PostgreSQL databases, a RabbitMQ namespace, the gateway and the four
  service APIs under gunicorn (``--workers`` gthread workers × 8 threads each), every ``parkhub
  worker`` relaying and consuming, and nginx as the edge. Every request goes through nginx; the
  bare app of :mod:`bench.bare` runs under the very same gunicorn configuration
  (``parkhub_cli._gunicorn``) behind the same nginx at ``/bare``;
- **embedded**: ``parkhub serve`` on SQLite, against the bare app under the same server (werkzeug's
  threaded server).

``wrk`` with 8 connections (2 threads, 30 s timeout so slow answers count instead of vanishing),
a warm-up, then a fixed duration per measure, through ``bench/http.lua``. Each ParkHub measure
runs right after a bare run of its kind (GET or POST), whose rate is its baseline: on a shared
machine the load moves within minutes. Every answer's status is counted; a run with any non-2xx
answer or socket error is refused for ``--write``.

Measures (issue 12's targets, as a share of the bare GET or POST): availability search as a
tenant, one weekday hour (>= 40 %); one reservation by id (>= 50 %); reservation create on distinct
free slots, each its own Idempotency-Key (>= 25 %); consulting case submit (>= 25 %); finance
application draft (>= 25 %: the finance API's create; its submit needs three uploaded documents
per application, which a fixed-request load generator cannot drive); the token endpoint's
client_credentials grant (>= 25 %) and password grant (reported: a memory-hard hash on purpose).

After the load: the resident memory (VmRSS) of every process of the platform (target < 150 MB).
``--spread N``: N bare GET runs on gunicorn with per-worker listeners and N with the one shared
socket (``PARKHUB_GUNICORN_REUSE_PORT=0``): throughput and the workers' CPU split of each run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

from bench.doc import write_block
from bench.platform import Platform, distributed, embedded

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LUA = HERE / "http.lua"
PARK_TZ = ZoneInfo("Asia/Shanghai")
WRK = shutil.which("wrk") or "/usr/bin/wrk"
CONNECTIONS = 8
WRK_THREADS = 2
WORKERS = 2
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
RSS_TARGET_MB = 150
READY_SECONDS = 120.0
"""How long the workers may take to bring the seed's organisations to every service's directory."""
SECTION = "## Request path, side by side"
BARE_GET, BARE_POST = "bare GET (small JSON)", "bare POST (parse a JSON body, 201)"


@dataclass(frozen=True)
class Measure:
    """One wrk run: a name, where it goes, and the baseline its ratio is taken against."""

    name: str
    target: str  # the process serving it ("bare", "gateway", "booking"...): its workers' CPU split
    path: str
    baseline: str  # "GET" or "POST"
    lua: list[str]  # the arguments after ``--`` of bench/http.lua
    headers: dict[str, str] = field(default_factory=dict)
    stretch: float = 1.0  # × the run's duration: a slow endpoint needs longer for a p99 worth reading
    target_percent: float | None = None  # issue 12's target, % of the bare baseline


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
    bare_p50_ms: float = 0.0
    bare_p99_ms: float = 0.0
    target_percent: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def ratio(self) -> float:
        return 100 * self.rate / self.bare_rate if self.bare_rate else 0.0

    @property
    def failures(self) -> int:
        return self.socket_errors + sum(n for status, n in self.statuses.items() if not status.startswith("2"))

    @property
    def usable(self) -> bool:
        """Only 2xx answers, no socket error, and enough answers for a p99 to mean something (a
        measure without a target, the password grant, only needs answers: it is slow on purpose)."""
        return self.failures == 0 and self.requests >= (10 if self.target_percent is not None else 1)


@dataclass
class Memory:
    process: str  # the platform's name of it ("api-booking", "worker-finance", "embedded"...)
    role: str  # "master", "worker", "process"
    pid: int
    rss_mb: float


@dataclass
class Table:
    """One mode's run: its figures, and every process's memory after the load."""

    mode: str
    commit: str
    when: str
    duration: float
    warmup: float
    workers: int
    load: tuple[float, float]
    figures: list[Figures]
    memory: list[Memory]
    slots: tuple[int, int]  # create slots sent (warm-up included) and slots there are


# -- /proc -----------------------------------------------------------------------------------------


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of a process so far, in clock ticks (``/proc/<pid>/stat``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def rss_mb(pid: int) -> float:
    """Resident memory of a process (VmRSS), in MB (10^6 bytes)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return 0.0


def memory_of(platform: Platform) -> list[Memory]:
    """VmRSS of every process the platform started (and a gunicorn master's workers); nginx aside."""
    rows = []
    for name in platform.processes:
        if name == "nginx":
            continue
        pids = platform.pids(name)
        for n, pid in enumerate(pids):
            role = "process" if len(pids) == 1 else ("master" if n == 0 else "worker")
            rows.append(Memory(name, role, pid, round(rss_mb(pid), 1)))
    return rows


# -- the platform's data ---------------------------------------------------------------------------


def token(base: str, **form: str) -> str:
    response = requests.post(f"{base}/api/v1/auth/token", data=form, timeout=60)
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

    tokens: dict[str, str]
    spaces: list[str]
    reservation_id: str
    search_day: date
    first_day: date
    item_id: str
    product_id: str


def until_created(what: str, post: Any) -> requests.Response:
    """POST until a 201: in the distributed mode the seed's organisations reach each service's
    directory through the bus, a few seconds after start."""
    deadline = time.monotonic() + READY_SECONDS
    while True:
        answer = post()
        if answer.status_code == 201:
            return answer
        if time.monotonic() > deadline:
            raise RuntimeError(f"could not create {what}: {answer.status_code} {answer.text}")
        time.sleep(1)


def prepare(platform: Platform) -> Scene:
    """Tokens, the bookable rooms, the one reservation read by id, the consulting item and the
    finance product; every create tried once, so the measures start on a ready platform."""
    base = platform.base_url
    tokens = {
        user: token(base, grant_type="password", username=user, password=DEMO_PASSWORD) for user in ("alice", "bob")
    }

    def auth(user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[user]}"}

    listed = requests.get(f"{base}/api/v1/booking/spaces", params={"page_size": 200}, headers=auth("alice"), timeout=30)
    listed.raise_for_status()
    spaces = sorted(
        (s for s in listed.json()["items"] if s["kind"] in BOOKABLE_KINDS), key=lambda s: str(s.get("code", s["id"]))
    )
    if not spaces:
        raise RuntimeError("the seed has no bookable rooms")
    today = datetime.now(PARK_TZ).date()
    tomorrow = park_midnight(today + timedelta(days=1))
    booked = until_created(
        "the reservation read by id",
        lambda: requests.post(
            f"{base}/api/v1/booking/reservations",
            json={
                "space_id": spaces[0]["id"],
                "start": (tomorrow + timedelta(hours=10)).isoformat(),
                "end": (tomorrow + timedelta(hours=10, minutes=30)).isoformat(),
                "title": "Bench: the reservation read by id",
                "attendees": 6,
            },
            headers={**auth("alice"), "Idempotency-Key": uuid.uuid4().hex},
            timeout=30,
        ),
    )
    items = requests.get(f"{base}/api/v1/consulting/items", headers=auth("bob"), timeout=30).json()
    item = next(
        i["id"] for i in (items["items"] if isinstance(items, dict) else items) if i["code"] == "legal_consultation"
    )
    products = requests.get(f"{base}/api/v1/finance/products", headers=auth("alice"), timeout=30).json()["items"]
    product = next(p["id"] for p in products if p["code"] == "lab_equipment_lease")
    scene = Scene(
        tokens=tokens,
        spaces=[s["id"] for s in spaces],
        reservation_id=booked.json()["id"],
        search_day=next_weekday(today + timedelta(days=FIRST_DAY)),
        first_day=today + timedelta(days=FIRST_DAY),
        item_id=item,
        product_id=product,
    )
    until_created(
        "a consulting case",
        lambda: requests.post(
            f"{base}/api/v1/consulting/cases",
            data=case_body(scene),
            headers={**auth("bob"), "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex},
            timeout=30,
        ),
    )
    until_created(
        "a finance application",
        lambda: requests.post(
            f"{base}/api/v1/finance/applications",
            data=application_body(scene),
            headers={**auth("alice"), "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex},
            timeout=30,
        ),
    )
    return scene


def case_body(scene: Scene) -> str:
    return json.dumps(
        {
            "item_id": scene.item_id,
            "subject": "Bench: a question on a lease",
            "description": "Asked by the HTTP bench.",
            "answers": {"question": "May the lab sublet its bench space?"},
        }
    )


def application_body(scene: Scene) -> str:
    return json.dumps(
        {"product_id": scene.product_id, "amount": "300000.00", "term_months": 24, "purpose": "Bench: a lease"}
    )


# -- the measures ----------------------------------------------------------------------------------


def measures(scene: Scene, nonce: str) -> list[Measure]:
    alice = {"Authorization": f"Bearer {scene.tokens['alice']}"}
    bob = {"Authorization": f"Bearer {scene.tokens['bob']}"}
    json_body = {"Content-Type": "application/json"}
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
        Measure(BARE_GET, "bare", "/bare", "GET", ["fixed", "GET"], alice),
        Measure(BARE_POST, "bare", "/bare", "POST", creates, {**alice, **json_body}),
        Measure(
            "availability search, tenant, one weekday hour",
            "booking",
            search,
            "GET",
            ["fixed", "GET"],
            alice,
            target_percent=40,
        ),
        Measure(
            "one reservation by id",
            "booking",
            f"/api/v1/booking/reservations/{scene.reservation_id}",
            "GET",
            ["fixed", "GET"],
            alice,
            target_percent=50,
        ),
        Measure(
            "reservation create, distinct free slots",
            "booking",
            "/api/v1/booking/reservations",
            "POST",
            creates,
            {**alice, **json_body},
            target_percent=25,
        ),
        Measure(
            "consulting case submit",
            "consulting",
            "/api/v1/consulting/cases",
            "POST",
            ["keyed", "POST", case_body(scene), "{run}"],
            {**bob, **json_body},
            target_percent=25,
        ),
        Measure(
            "finance application draft",
            "finance",
            "/api/v1/finance/applications",
            "POST",
            ["keyed", "POST", application_body(scene), "{run}"],
            {**alice, **json_body},
            target_percent=25,
        ),
        Measure(
            "token, client_credentials (partner client)",
            "gateway",
            "/api/v1/auth/token",
            "POST",
            ["fixed", "POST", f"grant_type=client_credentials&client_id={client_id}&client_secret={secret}"],
            form,
            stretch=TOKEN_STRETCH,
            target_percent=25,
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


def wrk(url: str, measure: Measure, seconds: float, first_slot: int) -> dict[str, Any]:
    """Run wrk once; returns the JSON line of bench/http.lua's done()."""
    run = uuid.uuid4().hex[:12]  # keyed creates: no key of one run is sent again in another
    lua = [arg.replace("{first}", str(first_slot)).replace("{run}", run) for arg in measure.lua]
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
        url,
        "--",
        *lua,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 90, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return dict(json.loads(line[len("BENCH ") :]))


def url_of(platform: Platform, measure: Measure) -> str:
    if measure.target == "bare":
        return platform.bare_url
    return platform.base_url + measure.path


def worker_pids(platform: Platform, target: str) -> list[int]:
    """The processes whose CPU split is shown: a gunicorn master's workers (distributed)."""
    name = {"bare": "bare", "gateway": "gateway"}.get(target, f"api-{target}")
    if name not in platform.processes or platform.mode != "distributed":
        return []
    return platform.pids(name)[1:]


def run_measure(
    platform: Platform, measure: Measure, *, duration: float, warmup: float, slots: dict[str, int]
) -> Figures:
    """A warm-up, then the measured run. ``slots`` holds each target's next unused create slot
    (the bare POST sends the same bodies as the creates): no slot is sent twice to one server."""
    key = measure.target if measure.lua[0] == "create" else "-"
    slots.setdefault(key, 0)
    url = url_of(platform, measure)
    if warmup > 0:
        warm = wrk(url, measure, warmup, slots[key])
        slots[key] += warm["slots_sent"]
    pids = worker_pids(platform, measure.target)
    before = {pid: cpu_ticks(pid) for pid in pids}
    result = wrk(url, measure, duration * measure.stretch, slots[key])
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
        target_percent=measure.target_percent,
    )


def commit_of(tree: Path) -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True, check=False).stdout

    head = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    dirty = bool(git("status", "--porcelain", "--untracked-files=no").strip())
    return head + (" + uncommitted changes" if dirty else "")


@contextmanager
def platform_of(mode: str, workers: int) -> Iterator[Platform]:
    if mode == "distributed":
        with distributed(workers=workers, bare=True) as platform:
            yield platform
    else:
        with embedded(bare=True) as platform:
            yield platform


def run(mode: str, *, duration: float, warmup: float, workers: int, only: str | None = None) -> Table:
    """Every ParkHub measure right after a bare run of its kind (GET or POST), whose rate is its
    baseline; then every process's memory."""
    load = os.getloadavg()[0]
    with platform_of(mode, workers) as platform:
        scene = prepare(platform)
        all_measures = measures(scene, nonce=uuid.uuid4().hex[:12])
        slots: dict[str, int] = {}
        bare = {m.baseline: m for m in all_measures if m.target == "bare"}
        figures: list[Figures] = []
        for measure in (m for m in all_measures if m.target != "bare"):
            if only and only not in measure.name:
                continue
            baseline = run_measure(platform, bare[measure.baseline], duration=duration, warmup=warmup, slots=slots)
            result = run_measure(platform, measure, duration=duration, warmup=warmup, slots=slots)
            result.bare_rate, result.bare_p50_ms, result.bare_p99_ms = baseline.rate, baseline.p50_ms, baseline.p99_ms
            figures.append(result)
            for done in (baseline, result):
                if done.failures:
                    print(f"  {done.name}: statuses {done.statuses}, socket errors {done.socket_errors}", flush=True)
            print(
                f"[{mode}] {result.name}: {result.rate:,.1f}/s (bare {baseline.rate:,.0f}/s) = {result.ratio:.1f} %, "
                f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, workers {result.worker_cpu}",
                flush=True,
            )
        memory = memory_of(platform)
    return Table(
        mode=mode,
        commit=commit_of(REPO),
        when=datetime.now(PARK_TZ).strftime("%Y-%m-%d %H:%M %z"),
        duration=duration,
        warmup=warmup,
        workers=workers,
        load=(load, os.getloadavg()[0]),
        figures=figures,
        memory=memory,
        slots=(slots.get("booking", 0), len(scene.spaces) * HOURS * DAYS),
    )


# -- connection spread -----------------------------------------------------------------------------


@dataclass
class Spread:
    setting: str
    rates: list[float]
    busiest: list[int]  # the busiest worker's share of the CPU, % per run


def spread(runs: int, duration: float, workers: int) -> list[Spread]:
    """``runs`` bare GET runs against gunicorn with per-worker listeners, and as many with the one
    shared socket, both servers up at once and run alternately (the same machine moments)."""
    import tempfile

    from bench.platform import _base_env

    folder = Path(tempfile.mkdtemp(prefix="parkhub-bench-spread-"))
    platform = Platform("distributed", _base_env(folder, {}), folder)
    results = {"per-worker listeners (SO_REUSEPORT)": Spread("", [], []), "one shared socket": Spread("", [], [])}
    try:
        ports = {}
        for name, reuse in (("spread-on", "1"), ("spread-off", "0")):
            ports[name] = platform.port()
            platform.start(
                name,
                [sys.executable, "-m", "bench.bare", "--bind", f"127.0.0.1:{ports[name]}", "--workers", str(workers)],
                PARKHUB_GUNICORN_REUSE_PORT=reuse,
            )
        platform.wait_for(
            lambda: (
                all(len(platform.pids(n)) == workers + 1 for n in ports)
                and all(_answers(f"http://127.0.0.1:{p}/bare") for p in ports.values())
            ),
            "the bare servers",
        )
        time.sleep(1)
        measure = Measure(BARE_GET, "bare", "/bare", "GET", ["fixed", "GET"])
        for _ in range(runs):
            for name, label in (
                ("spread-on", "per-worker listeners (SO_REUSEPORT)"),
                ("spread-off", "one shared socket"),
            ):
                pids = platform.pids(name)[1:]
                before = {pid: cpu_ticks(pid) for pid in pids}
                result = wrk(f"http://127.0.0.1:{ports[name]}/bare", measure, duration, 0)
                used = [max(0, cpu_ticks(pid) - before[pid]) for pid in pids]
                results[label].rates.append(result["requests"] / (result["duration_us"] / 1e6))
                results[label].busiest.append(round(100 * max(used) / (sum(used) or 1)))
                print(f"spread, {label}: {results[label].rates[-1]:,.0f}/s, busiest {results[label].busiest[-1]} %")
    finally:
        platform.stop()
        shutil.rmtree(folder, ignore_errors=True)
    for label, one in results.items():
        one.setting = label
    return list(results.values())


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


# -- the report ------------------------------------------------------------------------------------


def report(table: Table) -> str:
    """A markdown table of one mode's run, and its processes' memory."""
    server = (
        f"nginx → gunicorn {table.workers} gthread workers × 8 threads, PostgreSQL, RabbitMQ with every worker running"
        if table.mode == "distributed"
        else "parkhub serve (werkzeug's threaded server, SQLite, the in-process bus)"
    )
    bare = (
        "the bare app under the same gunicorn configuration behind the same nginx"
        if table.mode == "distributed"
        else "the bare app under werkzeug's threaded server, as parkhub serve"
    )
    lines = [
        f"**{table.mode.capitalize()}**: {server}; baseline: {bare}. Commit `{table.commit}`, {table.when}; wrk "
        f"{CONNECTIONS} connections, {table.warmup:g} s warm-up then {table.duration:g} s per measure "
        f"({TOKEN_STRETCH * table.duration:g} s for the token grants); load average {table.load[0]:.2f} at the "
        f"start, {table.load[1]:.2f} at the end. Each ratio is to the bare run of its kind just before it.",
        "",
        "| measure | req/s | p50 | p99 | bare: req/s, p50, p99 | ratio | target | | workers' CPU |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in table.figures:
        target = f"≥ {f.target_percent:g} %" if f.target_percent else "(none)"
        met = "" if f.target_percent is None else ("met" if f.ratio >= f.target_percent else "**missed**")
        if f.failures:
            met += f" ({f.failures} non-2xx/errors: {f.statuses})"
        split = ":".join(str(s) for s in f.worker_cpu) or "-"
        lines.append(
            f"| {f.name} | {f.rate:,.1f} | {f.p50_ms:.1f} ms | {f.p99_ms:.1f} ms | {f.bare_rate:,.0f}, "
            f"{f.bare_p50_ms:.1f} ms, {f.bare_p99_ms:.1f} ms | {f.ratio:.1f} % | {target} | {met} | {split} |"
        )
    return "\n".join(lines)


def memory_report(tables: list[Table]) -> str:
    lines = [
        f"Resident memory (VmRSS) after the load, target < {RSS_TARGET_MB} MB each:",
        "",
        "| mode | process | role | MB | |",
        "| --- | --- | --- | --- | --- |",
    ]
    for table in tables:
        for m in table.memory:
            met = "met" if m.rss_mb < RSS_TARGET_MB else "**missed**"
            lines.append(f"| {table.mode} | {m.process} | {m.role} | {m.rss_mb:.0f} | {met} |")
    return "\n".join(lines)


def spread_report(results: list[Spread], workers: int) -> str:
    lines = [
        f"Connection spread: bare GET, gunicorn {workers} gthread workers, wrk {CONNECTIONS} keep-alive connections, "
        f"{len(results[0].rates)} runs each, alternating:",
        "",
        "| gunicorn listeners | req/s min · mean · max | busiest worker's CPU share, min · max |",
        "| --- | --- | --- |",
    ]
    for one in results:
        mean = sum(one.rates) / len(one.rates)
        lines.append(
            f"| {one.setting} | {min(one.rates):,.0f} · {mean:,.0f} · {max(one.rates):,.0f} "
            f"| {min(one.busiest)} % · {max(one.busiest)} % |"
        )
    return "\n".join(lines)


def write(path: Path, blocks: dict[str, str]) -> None:
    """Put each block in its place of ``path`` (``<!-- http:<label>:start -->``…)."""
    for label, block in blocks.items():
        write_block(path, f"http:{label}", block, section=SECTION)


def main(argv: list[str] | None = None) -> list[Table]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mode", default="both", choices=("distributed", "embedded", "both"))
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measure")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up before each measure")
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn workers of every API and the bare app")
    parser.add_argument("--only", help="only the measures whose name holds this (e.g. 'search', 'token')")
    parser.add_argument("--spread", type=int, default=0, help="also N bare runs per listener setting (0: none)")
    parser.add_argument("--write", type=Path, help="put the tables into this markdown file (between markers)")
    args = parser.parse_args(argv)
    modes = ("distributed", "embedded") if args.mode == "both" else (args.mode,)
    tables = [
        run(mode, duration=args.duration, warmup=args.warmup, workers=args.workers, only=args.only) for mode in modes
    ]
    blocks = {t.mode: report(t) for t in tables}
    blocks["memory"] = memory_report(tables)
    if args.spread:
        blocks["spread"] = spread_report(spread(args.spread, args.duration, args.workers), args.workers)
    for block in blocks.values():
        print("\n" + block)
    failed = [f"{t.mode}: {f.name}" for t in tables for f in t.figures if not f.usable]
    if failed:
        print(
            f"non-2xx answers, socket errors or under 10 answers in: {', '.join(failed)}; not written", file=sys.stderr
        )
        if any(t.slots[0] > t.slots[1] for t in tables):
            print("the creates ran past the free slots: shorten --duration", file=sys.stderr)
        raise SystemExit(1)
    if args.write:
        write(args.write, blocks)
    return tables


if __name__ == "__main__":
    main()
