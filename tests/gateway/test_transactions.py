"""The caller owns the transaction: a gateway handler or grant run in a unit of work that is then
left uncommitted (rolled back) leaves nothing behind — no row, no audit entry, no event."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from gateway import commands, handlers, tokens
from gateway.models import REVOCATIONS, ApiClient, AuditEntry, Organisation, RefreshToken, User
from gateway.seed import SEEDER
from shared.db import Database, UnitOfWork
from shared.settings import Settings

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
HANDLER_MODULES = ("handlers.py", "tokens.py", "audit.py", "access.py", "queries.py", "passwords.py")


def state(db: Database) -> dict[str, Any]:
    """Everything a handler could leave behind, as comparable values."""
    with db.reading() as session:
        return {
            "organisations": sorted((o.id, o.name, o.status, o.version) for o in session.scalars(select(Organisation))),
            "users": sorted((u.id, u.display_name, u.password_hash, u.version) for u in session.scalars(select(User))),
            "clients": sorted(
                (c.client_id, c.name, c.secret_hash, c.version) for c in session.scalars(select(ApiClient))
            ),
            "refresh": sorted((t.jti, t.used_at, t.revoked_at) for t in session.scalars(select(RefreshToken))),
            "audit": session.scalar(select(func.count()).select_from(AuditEntry)),
            "outbox": session.scalar(select(func.count()).select_from(db.messaging.outbox)),
            "revocations": session.scalar(select(func.count()).select_from(REVOCATIONS)),
        }


def ids(db: Database) -> dict[str, str]:
    with db.reading() as session:
        bank = session.scalar(select(Organisation.id).where(Organisation.kind == "bank"))
        tenant = session.scalar(select(Organisation.id).where(Organisation.kind == "tenant"))
        bob = session.scalar(select(User.id).where(User.username == "bob"))
        assert bank and tenant and bob
        return {"bank": bank, "tenant": tenant, "bob": bob}


HANDLERS: dict[str, Callable[[UnitOfWork, dict[str, str]], object]] = {
    "register_organisation": lambda uow, _ids: handlers.register_organisation(
        commands.RegisterOrganisation(SEEDER, "Wenjiang Vaccines Ltd.", "tenant"), uow=uow
    ),
    "update_organisation": lambda uow, ids: handlers.update_organisation(
        commands.UpdateOrganisation(SEEDER, ids["tenant"], {"status": "suspended"}), uow=uow, access_ttl_seconds=900
    ),
    "create_user": lambda uow, ids: handlers.create_user(
        commands.CreateUser(SEEDER, "dora", "Dora Wu", "a-long-password", ids["tenant"], ("tenant_member",)),
        uow=uow,
    ),
    "update_user": lambda uow, ids: handlers.update_user(
        commands.UpdateUser(
            SEEDER, ids["bob"], {"display_name": "Robert Li", "password": "another-password", "active": False}
        ),
        uow=uow,
        access_ttl_seconds=900,
    ),
}


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_a_handler_whose_unit_of_work_is_not_committed_leaves_nothing(
    name: str, gateway_settings: Settings, db: Database
) -> None:
    known = ids(db)
    before = state(db)
    with db.unit_of_work() as uow:
        HANDLERS[name](uow, known)
        uow.session.flush()  # the change reached the database, inside the transaction
    assert state(db) == before


def test_api_client_handlers_leave_nothing_without_the_callers_commit(app: Flask, db: Database) -> None:
    known = ids(db)
    before = state(db)
    client_secrets = app.extensions["parkhub.client_secrets"]
    with db.unit_of_work() as uow:
        handlers.create_api_client(
            commands.CreateApiClient(SEEDER, "Loan desk", known["bank"]), uow=uow, client_secrets=client_secrets
        )
    with db.unit_of_work() as uow:
        handlers.update_api_client(
            commands.UpdateApiClient(SEEDER, "shudu-bank-demo", {"active": False}), uow=uow, access_ttl_seconds=900
        )
    with db.unit_of_work() as uow:
        handlers.rotate_client_secret(
            commands.RotateClientSecret(SEEDER, "shudu-bank-demo"), uow=uow, client_secrets=client_secrets
        )
    assert state(db) == before


def test_grants_and_revocation_leave_nothing_without_the_callers_commit(
    app: Flask, db: Database, gateway_settings: Settings
) -> None:
    with app.app_context(), db.reading() as session:
        bob = tokens.verify_password(session, username="bob", password="parkhub-demo")
    with app.app_context(), db.unit_of_work() as uow:
        issued = tokens.password_grant(uow, gateway_settings, bob)
        uow.commit()
    assert issued.refresh_token
    before = state(db)
    with app.app_context(), db.unit_of_work() as uow:
        tokens.password_grant(uow, gateway_settings, bob)
    with app.app_context(), db.unit_of_work() as uow:
        assert not isinstance(
            tokens.refresh_grant(uow, gateway_settings, refresh_token=issued.refresh_token), tokens.Refusal
        )
    with db.unit_of_work() as uow:
        assert tokens.revoke(uow, gateway_settings, token=issued.refresh_token)
    assert state(db) == before


@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_no_gateway_handler_module_commits(module: str) -> None:
    tree = ast.parse((GATEWAY / module).read_text())
    commits = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"
    ]
    assert commits == [], f"gateway/{module} commits at lines {commits}: the caller owns the transaction"
