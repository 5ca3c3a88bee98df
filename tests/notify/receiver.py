"""A real HTTPS webhook receiver for tests: a self-signed CA and a server certificate for
127.0.0.1 (made with ``cryptography``), ``http.server.ThreadingHTTPServer`` wrapped in TLS on a
free loopback port, in a thread. Every request is verified with the Standard Webhooks library
(``Webhook(secret).verify``) against the secrets it is told, and recorded.

``answer`` says what it answers next (a status, a ``Retry-After``, a delay): 204 by default.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from standardwebhooks.webhooks import Webhook


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA (``ca.pem``) and a server certificate and key for 127.0.0.1 signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("ParkHub test CA"))
        .issuer_name(_name("ParkHub test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_file, cert_file, key_file


@dataclass
class Received:
    """One request: its path, headers (lower-case names), body, and which told secrets verified it."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified_by: list[str]
    at: float = 0.0
    """When it arrived (``time.monotonic``)."""

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 204
    retry_after: str | None = None
    delay: float = 0.0


@dataclass
class Receiver:
    """The running receiver: ``url``, the CA file to trust, what it received."""

    url: str
    ca_file: Path
    secrets: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    default: Answer = field(default_factory=Answer)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, status: int = 204, *, retry_after: str | None = None, delay: float = 0.0, times: int = 1) -> None:
        """Answer the next ``times`` requests so."""
        with self.lock:
            self.answers.extend(Answer(status, retry_after, delay) for _ in range(times))

    def next_answer(self) -> Answer:
        with self.lock:
            return self.answers.pop(0) if self.answers else self.default

    def record(self, received: Received) -> None:
        with self.lock:
            self.received.append(received)

    def verify(self, body: bytes, headers: dict[str, str]) -> list[str]:
        good = []
        for secret in list(self.secrets):
            try:
                Webhook(secret).verify(body, headers)
            except Exception:  # noqa: BLE001 - the library raises its own verification error
                continue
            good.append(secret)
        return good

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} requests, received {len(self.received)}")


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server name
            arrived = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer = receiver.next_answer()
            receiver.record(Received(self.path, headers, body, receiver.verify(body, headers), arrived))
            if answer.delay:
                time.sleep(answer.delay)
            self.send_response(answer.status)
            if answer.retry_after:
                self.send_header("Retry-After", answer.retry_after)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler


def running_receiver(directory: Path) -> Iterator[Receiver]:
    """Start a receiver (a generator for a pytest fixture); stopped when resumed."""
    ca_file, cert_file, key_file = make_certificates(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    receiver = Receiver(url="", ca_file=ca_file)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    receiver.url = f"https://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
