"""A real SMTP server in the test process (aiosmtpd) that keeps what it receives, and the way to
run notify's e-mail job as the worker does (its scheduled ``send-due`` job, given the worker's
settings)."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from services.notify.worker import participant
from shared.settings import Settings
from tests.ports import free_port


@dataclass
class Inbox:
    """What the SMTP server accepted; ``delay`` seconds of sleep before answering DATA."""

    delay: float = 0.0
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for rcpts, message in self.messages if address in rcpts]


class SmtpServer:
    """The server; with ``login`` (username, password) it refuses mail from a client that did not
    log in with them (AUTH over plain text, as a test may)."""

    def __init__(self, port: int, login: tuple[str, str] | None = None) -> None:
        self.port = port
        self.inbox = Inbox()
        self.login = login
        self.controller: Controller | None = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        given = (data.login.decode(), data.password.decode()) if isinstance(data, LoginPassword) else None
        return AuthResult(success=given == self.login)

    def start(self) -> None:
        auth: dict[str, Any] = {}
        if self.login is not None:
            auth = {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
        self.controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port, server_hostname="smtp.test", ready_timeout=5, **auth
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """An SMTP server on a free port of 127.0.0.1, already started (the tests' settings point
    notify's e-mail at it). (``server_hostname``: without it the server looks up its own name on
    every connection, which can take seconds.)"""
    server = SmtpServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def run_mail_job(settings: Settings) -> int:
    """One run of the worker's e-mail job (its own unit of work, committed); how many were sent."""
    (job,) = [job for job in participant(settings).jobs if job.name == "send-due"]
    return int(job.run())
