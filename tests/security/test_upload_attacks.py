"""Hostile uploads against both doors that take files: a consulting case's message attachments and
a financing application's documents, through the embedded edge as a client sends them.

Each attack is refused with a problem+json whose ``detail`` follows ``Accept-Language``, and
leaves NOTHING behind: no row in the service's database (every table compared before and after)
and no file in its store directory (both stores are directories here, so a stray byte would show
as a file). A name with a path trick in it is not refused but kept as a safe name the service
makes: the download's ``Content-Disposition`` never carries the trick, and the bytes lie under a
generated key in the store, nowhere else.

tests/consulting/test_attachments*.py and tests/finance/test_documents.py check each rule on its
service's app; this file runs the same attacks against both services behind the edge.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import MetaData
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from gateway.routes import LARGE_BODIES
from services.consulting import models as consulting
from services.finance import models as finance
from shared.db import Database
from tests.endpoint_matrix import snapshot
from tests.park import Park, running_park

PROBLEM = "application/problem+json"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64 + b"This program cannot be run in DOS mode."
HTML = b"<!DOCTYPE html><html><body><script>fetch('/api/v1/me')</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.cookie)</script></svg>'
CJK = re.compile(r"[\u4e00-\u9fff]")
STORE_KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{32}")


@dataclass(frozen=True)
class Door:
    """A service's upload endpoint, who may use it, its form around the file, and what it keeps."""

    service: str
    path: str
    user: str
    fields: dict[str, str]
    database: Database
    metadata: MetaData
    store: Path

    @property
    def limit(self) -> int:
        (large,) = (body for body in LARGE_BODIES if body.service == self.service)
        return large.limit


@pytest.fixture(scope="module")
def park(demo_platform: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Park]:
    """The whole demo, with both services keeping their files in directories (var/…-files)."""
    yield from running_park(
        demo_platform,
        tmp_path_factory.mktemp("upload-attacks"),
        PARKHUB_CONSULTING_FILES="consulting-files",
        PARKHUB_FINANCE_FILES="finance-files",
    )


@pytest.fixture(scope="module")
def doors(park: Park) -> dict[str, Door]:
    """A case of bob's and a draft application of alice's, to upload to."""
    items = park.as_user("bob", "GET", "/api/v1/consulting/items").json
    item = next(
        i["id"] for i in (items["items"] if isinstance(items, dict) else items) if i["code"] == "legal_consultation"
    )
    case = park.as_user(
        "bob",
        "POST",
        "/api/v1/consulting/cases",
        json={"item_id": item, "subject": "Upload attacks", "description": "Files.", "answers": {"question": "?"}},
    )
    assert case.status_code == 201, case.get_data(as_text=True)
    products = park.as_user("alice", "GET", "/api/v1/finance/products").json["items"]
    product = next(p["id"] for p in products if p["code"] == "lab_equipment_lease")
    application = park.as_user(
        "alice",
        "POST",
        "/api/v1/finance/applications",
        json={"product_id": product, "amount": "300000.00", "term_months": 24, "purpose": "Upload attacks"},
    )
    assert application.status_code == 201, application.get_data(as_text=True)
    settings = park.platform.settings
    return {
        "consulting": Door(
            "consulting",
            f"/api/v1/consulting/cases/{case.json['id']}/messages",
            "bob",
            {"body": "See attached."},
            consulting.database(settings),
            consulting.Base.metadata,
            settings.var_dir / "consulting-files",
        ),
        "finance": Door(
            "finance",
            f"/api/v1/finance/applications/{application.json['id']}/documents",
            "alice",
            {"doc_type": "business_licence"},
            finance.database(settings),
            finance.Base.metadata,
            settings.var_dir / "finance-files",
        ),
    }


def form(door: Door, content: bytes, name: str) -> tuple[bytes, str]:
    """The door's multipart form with one file part, in memory, and its Content-Type."""
    items: list[tuple[str, Any]] = [*door.fields.items(), ("file", FileStorage(io.BytesIO(content), filename=name))]
    boundary, body = encode_multipart(MultiDict(items))
    return body, f"multipart/form-data; boundary={boundary}"


def send(
    park: Park, door: Door, body: bytes, content_type: str, *, language: str = "en", **environ: Any
) -> TestResponse:
    """POST ``body`` to the door as its user. ``environ`` overrides what the WSGI server would
    say of the body (a Content-Length that lies, a chunked body without one)."""
    return park.client.open(
        door.path,
        method="POST",
        input_stream=io.BytesIO(body),
        headers={
            "Authorization": f"Bearer {park.token(door.user)}",
            "Content-Type": content_type,
            "Accept-Language": language,
        },
        environ_overrides=environ,
    )


def stored_files(door: Door) -> set[str]:
    return (
        {str(p.relative_to(door.store)) for p in door.store.rglob("*") if p.is_file()} if door.store.exists() else set()
    )


def var_files(park: Park) -> set[str]:
    var = park.platform.settings.var_dir
    return {
        str(p.relative_to(var))
        for p in var.rglob("*")
        if p.is_file() and not p.name.endswith(("-wal", "-shm", "-journal"))
    }


@dataclass
class Before:
    rows: dict[str, list[tuple[Any, ...]]]
    files: set[str]


def before(park: Park, door: Door) -> Before:
    assert park.platform.bus.wait_until_idle(30)
    return Before(snapshot(door.database, door.metadata), stored_files(door))


def assert_nothing_written(park: Park, door: Door, was: Before) -> None:
    assert park.platform.bus.wait_until_idle(30)
    assert stored_files(door) == was.files, "a refused upload left a file in the store"
    now = snapshot(door.database, door.metadata)
    changed = [table for table in now if now[table] != was.rows.get(table)]
    assert changed == [], f"a refused upload changed {changed}"


def assert_problem(response: TestResponse, status: int, language: str) -> dict[str, Any]:
    """A ``status`` problem+json whose detail is in ``language`` (zh: Chinese, en: no Chinese)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    problem: dict[str, Any] = response.json
    assert problem["status"] == status and problem["detail"]
    assert response.headers["Content-Language"] == {"en": "en", "zh": "zh-CN"}[language]
    assert bool(CJK.search(problem["detail"])) == (language == "zh"), problem["detail"]
    return problem


DISGUISES = {
    "a Windows program named .pdf": (EXE, "invoice.pdf"),
    "an HTML page with script named .pdf": (HTML, "statement.pdf"),
    "an SVG with script named .pdf": (SVG, "logo.pdf"),
    "an SVG with script named .png": (SVG, "logo.png"),
    "an HTML page named .txt": (HTML, "notes.txt"),
}


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("disguise", DISGUISES)
@pytest.mark.parametrize("service", ["consulting", "finance"])
def test_the_content_not_the_name_decides_and_a_disguised_file_is_refused(
    park: Park, doors: dict[str, Door], service: str, disguise: str, language: str
) -> None:
    door = doors[service]
    content, name = DISGUISES[disguise]
    was = before(park, door)
    response = send(park, door, *form(door, content, name), language=language)
    problem = assert_problem(response, 422, language)
    assert problem["type"].endswith("/rule/attachment-type")
    assert problem["filename"] == name and name in problem["detail"]
    assert_nothing_written(park, door, was)


def over_the_limit(door: Door) -> tuple[bytes, str]:
    """A form whose body is just over the door's limit (its file alone is)."""
    return form(door, PDF + b"\x00" * (door.limit + 1 - len(PDF)), "large.pdf")


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("how", ["honest length", "length claims more", "length claims less", "chunked, no length"])
@pytest.mark.parametrize("service", ["consulting", "finance"])
def test_a_body_over_the_limit_is_a_413_however_its_length_is_told(
    park: Park, doors: dict[str, Door], service: str, how: str, language: str
) -> None:
    door = doors[service]
    was = before(park, door)
    if how == "honest length":
        response = send(park, door, *over_the_limit(door), language=language)
    elif how == "length claims more":  # a small body that says it is large: refused unread, at the edge
        body, content_type = form(door, PDF, "small.pdf")
        response = send(park, door, body, content_type, language=language, CONTENT_LENGTH=str(door.limit + 1))
    elif how == "length claims less":  # a large body that says it is small: read no further than it says
        body, content_type = over_the_limit(door)
        response = send(park, door, body, content_type, language=language, CONTENT_LENGTH="2048")
    else:  # nobody can tell the size before reading: the service stops reading at its limit
        body, content_type = over_the_limit(door)
        response = send(
            park,
            door,
            body,
            content_type,
            language=language,
            CONTENT_LENGTH="",
            HTTP_TRANSFER_ENCODING="chunked",
            **{"wsgi.input_terminated": True},
        )
    if how == "length claims less":
        # What it said was the whole body: a form cut short, whose file never arrived.
        problem = assert_problem(response, 422, language)
        assert problem["type"].endswith(("/rule/message-empty", "/validation-failed"))
    else:
        problem = assert_problem(response, 413, language)
        assert problem["type"].endswith("/payload-too-large")
        assert str(door.limit) in problem["detail"]
    assert_nothing_written(park, door, was)


PATH_TRICKS = {
    "parent directories": "../../etc/passwd",
    "absolute path": "/etc/passwd",
    "windows parents": "..\\..\\windows\\win.ini",
    "windows drive": "C:\\Windows\\System32\\evil.pdf",
    "NUL byte": "report.pdf\x00.exe",
    "right-to-left override": "invoice\u202efdp.exe",
    "very long": "A" * 5000 + ".pdf",
    "only dots": "..",
    "blank": "   ",
    "reserved device": "CON.pdf",
    "hidden": ".bashrc",
}


@pytest.mark.parametrize("trick", PATH_TRICKS)
@pytest.mark.parametrize("service", ["consulting", "finance"])
def test_a_path_trick_in_a_name_is_kept_as_a_safe_name_and_never_reaches_the_disk_or_the_download(
    park: Park, doors: dict[str, Door], service: str, trick: str
) -> None:
    door = doors[service]
    name = PATH_TRICKS[trick]
    files_before, var_before = stored_files(door), var_files(park)
    response = send(park, door, *form(door, PDF, name))
    assert response.status_code == 201, response.get_data(as_text=True)
    document = response.json["attachments"][0] if service == "consulting" else response.json
    kept = document["filename"]
    assert_harmless(kept)
    assert kept.endswith(".pdf")

    # The bytes are under a generated key in the store: nothing else appeared anywhere under var/.
    (new,) = stored_files(door) - files_before
    assert STORE_KEY.fullmatch(new), new
    assert (door.store / new).read_bytes() == PDF
    assert {f for f in var_files(park) - var_before if not f.startswith(door.store.name + "/")} == set()

    download = park.as_user(door.user, "GET", document["url"])
    assert download.status_code == 200 and download.data == PDF
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    plain = re.search(r'filename="([^"]*)"', disposition)
    extended = re.search(r"filename\*=UTF-8''(\S+)", disposition)
    assert plain and extended, disposition
    assert_harmless(plain.group(1))
    assert_harmless(unquote(extended.group(1)))
    assert unquote(extended.group(1)) == kept
    assert len(disposition) < 600


def assert_harmless(name: str) -> None:
    """A name no file system or browser reads as a path, a hidden file or a reversed text."""
    assert name and len(name) <= 120, name
    assert not {"/", "\\", "\x00", ":"} & set(name), name
    assert ".." not in name and not name.startswith((".", " ")), name
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in name), name
    assert not re.match(r"(?i)^(con|prn|aux|nul|com\d|lpt\d)(\.|$)", name), name


def test_an_empty_name_is_refused_or_named_by_the_service(park: Park, doors: dict[str, Door]) -> None:
    """A file part with no name at all: consulting names it ``file.pdf``; finance, which takes one
    document per request, does not count a nameless empty-headed part as its file and says so."""
    consulting_door, finance_door = doors["consulting"], doors["finance"]
    kept = send(park, consulting_door, *form(consulting_door, PDF, ""))
    assert kept.status_code == 201, kept.get_data(as_text=True)
    assert kept.json["attachments"][0]["filename"] == "file.pdf"

    was = before(park, finance_door)
    for language in ("en", "zh"):
        refused = send(park, finance_door, *form(finance_door, PDF, ""), language=language)
        problem = assert_problem(refused, 422, language)
        assert "file" in problem["errors"]
    assert_nothing_written(park, finance_door, was)
