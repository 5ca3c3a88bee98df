"""The service template (docs/SERVICE.md): every service is built by the kernel from its domain
files, every endpoint can be found by grepping its path, and the kernel's job runner owns the
transaction of a job."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from sqlalchemy import select

from shared.clock import utcnow
from shared.service import scheduled
from shared.settings import SERVICES

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_is_built_by_the_kernel(name, settings):
    app = importlib.import_module(f"services.{name}.app").create_app(settings)
    client = app.test_client()
    assert client.get(f"/api/v1/{name}/health").status_code == 200
    assert client.get(f"/api/v1/{name}/directory/organisations").status_code == 401  # the directory, behind a token
    parts = importlib.import_module(f"services.{name}.worker").participant(settings)
    assert parts.name == name
    assert "identity.organisation.registered" in parts.inbox.handlers


@pytest.mark.parametrize("name", SERVICES)
def test_a_service_holds_no_scaffolding_of_its_own(name):
    """What the kernel builds is not in the service: no Inbox, no Participant, no job runner, no
    unit of work opened by a view module, no engine."""
    service = ROOT / "services" / name
    for path in service.rglob("*.py"):
        source = path.read_text()
        for scaffolding in ("Inbox(", "Participant(", "ScheduledJob(", "create_engine(", "database_for("):
            assert scaffolding not in source, f"{path.relative_to(ROOT)} builds {scaffolding[:-1]} itself"
        if "/api/" in str(path):
            assert ".commit()" not in source, f"{path.relative_to(ROOT)}: views commit through execute()"


def never_committing_modules() -> list[Path]:
    """Where handlers, consumers and jobs live (docs/SERVICE.md, "The commit convention"): every
    service's ``handlers`` (module or package, jobs included), ``consumers.py`` and ``worker.py``,
    and the gateway's handlers and token issuing."""
    found: list[Path] = []
    for service in sorted(p for p in (ROOT / "services").iterdir() if (p / "__init__.py").is_file()):
        found += sorted(service.glob("handlers.py")) + sorted(service.glob("handlers/**/*.py"))
        found += [service / name for name in ("consumers.py", "worker.py") if (service / name).is_file()]
    return found + [ROOT / "gateway" / "handlers.py", ROOT / "gateway" / "tokens.py"]


def commits_in(tree: ast.AST) -> list[int]:
    """Lines where ``tree`` reaches a ``.commit`` (called, or handed on as a callback), but for a
    savepoint's: a name bound to ``begin_nested()`` may commit (it only releases the savepoint)."""
    savepoints: set[str] = set()
    for node in ast.walk(tree):
        bound: list[tuple[ast.expr | None, ast.expr]] = []
        if isinstance(node, ast.Assign):
            bound = [(target, node.value) for target in node.targets]
        elif isinstance(node, ast.With):
            bound = [(item.optional_vars, item.context_expr) for item in node.items]
        for target, value in bound:
            nested = isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
            if nested and value.func.attr == "begin_nested" and isinstance(target, ast.Name):  # type: ignore[union-attr]
                savepoints.add(target.id)
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "commit"
        and not (isinstance(node.value, ast.Name) and node.value.id in savepoints)
    )


def test_handlers_consumers_and_jobs_never_commit():
    """The caller owns the transaction: a ``.commit`` anywhere in these modules would commit half
    a request, or an event before its inbox record. Savepoints (``begin_nested()``) are theirs."""
    modules = never_committing_modules()
    assert any("handlers" in str(path) for path in modules) and len(modules) >= 10, modules
    commits = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in modules
        for line in commits_in(ast.parse(path.read_text(), filename=str(path)))
    ]
    assert not commits, "handlers never commit (the view, the inbox or the job runner does): " + ", ".join(commits)


def test_the_commit_scan_tells_a_commit_from_a_savepoint():
    source = """
def handler(cmd, *, uow):
    savepoint = uow.session.begin_nested()
    savepoint.commit()
    with uow.session.begin_nested() as inner:
        inner.commit()
    uow.commit()
    uow.session.commit()
    later = uow.session.commit
"""
    assert commits_in(ast.parse(source)) == [7, 8, 9]


def test_every_booking_endpoint_is_written_out_where_it_is_routed(settings):
    """Grepping a path finds its view: no route is assembled from pieces in a loop."""
    app = importlib.import_module("services.booking.app").create_app(settings)
    sources = "\n".join(p.read_text() for p in (ROOT / "services" / "booking" / "api").glob("*.py"))
    kernel = ("/health", "/openapi.json", "/dead-letters", "/directory/", "/static", "/metrics")
    routed = [
        rule.rule.removeprefix("/api/v1/booking")
        for rule in app.url_map.iter_rules()
        if not rule.rule.removeprefix("/api/v1/booking").startswith(kernel)
    ]
    assert len(routed) > 20
    for path in routed:
        assert f'"{path}"' in sources, f"{path} is not written out in services/booking/api"


def test_the_job_runner_commits_a_run_and_rolls_back_a_failure(settings):
    from services.booking.models import TABLES

    database = TABLES.database(settings)
    table = TABLES.directory

    def add_org(*, uow) -> int:
        uow.session.execute(
            table.insert().values(
                id="org-job", name="Job Org", kind="tenant", status="active", version=1, updated_at=utcnow()
            )
        )
        return 1

    def add_and_fail(*, uow) -> int:
        uow.session.execute(
            table.insert().values(
                id="org-fail", name="Failing", kind="tenant", status="active", version=1, updated_at=utcnow()
            )
        )
        raise RuntimeError("the job broke half-way")

    job = scheduled(database, add_org, every_seconds=60)
    assert (job.name, job.every_seconds) == ("add-org", 60)
    assert job.run() == 1
    with pytest.raises(RuntimeError):
        scheduled(database, add_and_fail, every_seconds=60).run()
    with database.reading() as session:
        ids = set(session.execute(select(table.c.id)).scalars())
    assert "org-job" in ids
    assert "org-fail" not in ids
