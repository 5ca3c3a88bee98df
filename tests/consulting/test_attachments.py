"""Attachments over HTTP: a multipart message with files, their types told by content, downloads
with the sniffed type, a safe name (RFC 6266, Chinese names), nosniff, length and the sha256 as
ETag; the refusals (type, empty, size, count) naming the file; the upload route's larger body
limit and its 413; who may download (whoever may read the message, else 404)."""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from services.consulting.models import Attachment, Message
from services.consulting.rules.attachments import MiB
from tests.consulting.conftest import USERS
from tests.consulting.test_messages import READS, SEES_CASE, make_case

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(40)
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(60) + b"This program cannot be run in DOS mode."
HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def form(fields: dict[str, str], files: list[tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """A multipart body in memory and its Content-Type (the test client would spool a large one
    to a temporary file it never closes)."""
    items: list[tuple[str, Any]] = list(fields.items())
    items += [(part, FileStorage(io.BytesIO(content), filename=name)) for part, content, name in files]
    boundary, body = encode_multipart(MultiDict(items))
    return body, f"multipart/form-data; boundary={boundary}"


def upload(api: Any, case_id: str, user: str, files: list[tuple[bytes, str]], **fields: str) -> Any:
    body, content_type = form(
        {"body": fields.pop("body", "See attached."), **fields}, [("file", content, name) for content, name in files]
    )
    return api.client.post(
        f"/api/v1/consulting/cases/{case_id}/messages",
        data=body,
        headers={**api.headers(user), "Content-Type": content_type},
    )


def test_files_are_stored_typed_by_content_and_downloaded_as_sent(api, db):
    case_id = make_case(db)
    sent = [(PDF, "合同草案 v2.pdf"), (PNG, "scan.png"), (docx(), "意见书.docx"), (b"a,b\n1,2\n", "data.csv")]
    answer = upload(api, case_id, "bob", sent)
    assert answer.status_code == 201, answer.get_json()
    attachments = answer.get_json()["attachments"]
    assert [a["filename"] for a in attachments] == ["合同草案 v2.pdf", "scan.png", "意见书.docx", "data.csv"]
    assert [a["content_type"] for a in attachments] == [
        "application/pdf",
        "image/png",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "text/csv; charset=utf-8",
    ]
    for attachment, (content, _name) in zip(attachments, sent, strict=True):
        assert attachment["size"] == len(content)
        assert attachment["sha256"] == hashlib.sha256(content).hexdigest()
        assert attachment["url"] == f"/api/v1/consulting/cases/{case_id}/attachments/{attachment['id']}"
        got = api.get(attachment["url"], user="lawyer")
        assert got.status_code == 200
        assert got.data == content
        assert got.headers["Content-Type"] == attachment["content_type"]
        assert got.headers["X-Content-Type-Options"] == "nosniff"
        assert got.headers["Content-Length"] == str(len(content))
        assert got.headers["ETag"] == f'"{attachment["sha256"]}"'
        assert got.headers["Content-Disposition"].startswith("attachment; ")
    thread = api.get(f"/cases/{case_id}/messages", user="alice").get_json()["items"]
    assert thread[0]["attachments"] == attachments


def test_a_chinese_name_is_sent_as_rfc_6266_with_an_ascii_fallback(api, db):
    case_id = make_case(db)
    attachment = upload(api, case_id, "bob", [(PDF, "合同草案.pdf")]).get_json()["attachments"][0]
    disposition = api.get(attachment["url"], user="bob").headers["Content-Disposition"]
    assert disposition == "attachment; filename=\"____.pdf\"; filename*=UTF-8''" + quote("合同草案.pdf")


def test_an_unchanged_file_is_a_304(api, db):
    case_id = make_case(db)
    attachment = upload(api, case_id, "bob", [(PDF, "a.pdf")]).get_json()["attachments"][0]
    again = api.get(attachment["url"], user="bob", headers={"If-None-Match": f'"{attachment["sha256"]}"'})
    assert again.status_code == 304
    assert again.data == b""


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (EXE, "setup.exe"),
        (EXE, "report.pdf"),
        (HTML, "page.html"),
        (HTML, "notes.txt"),
        (SVG, "logo.svg"),
        (b"\x00\x01\x02binary", "data.bin"),
        ("中文".encode("gb18030"), "gbk.txt"),
    ],
)
def test_what_is_not_an_accepted_type_is_refused_naming_the_file(api, db, content, name):
    case_id = make_case(db)
    answer = upload(api, case_id, "bob", [(PDF, "fine.pdf"), (content, name)])
    assert answer.status_code == 422
    problem = answer.get_json()
    assert problem["type"].endswith("/rule/attachment-type")
    assert problem["filename"] == name
    assert name in problem["detail"]
    with db.reading() as session:  # nothing of the message is kept
        assert session.scalar(select(func.count()).select_from(Message)) == 0
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_a_name_that_contradicts_the_content_gets_the_contents_extension(api, db):
    case_id = make_case(db)
    files = [(JPEG, "photo.png"), (PDF, "invoice.exe"), (PDF, "scan"), (PDF, "../../etc/passwd"), (PNG, ".hidden.png")]
    names = [a["filename"] for a in upload(api, case_id, "bob", files).get_json()["attachments"]]
    assert names == ["photo.jpg", "invoice.pdf", "scan.pdf", "passwd.pdf", "hidden.png"]


def test_an_empty_file_is_refused(api, db):
    case_id = make_case(db)
    answer = upload(api, case_id, "bob", [(b"", "empty.pdf")])
    assert answer.status_code == 422
    assert answer.get_json()["type"].endswith("/rule/attachment-empty")
    assert answer.get_json()["filename"] == "empty.pdf"


def test_at_most_five_files(api, db):
    case_id = make_case(db)
    answer = upload(api, case_id, "bob", [(PDF, f"{n}.pdf") for n in range(6)])
    assert answer.status_code == 422
    assert answer.get_json()["type"].endswith("/rule/too-many-attachments")
    assert upload(api, case_id, "bob", [(PDF, f"{n}.pdf") for n in range(5)]).status_code == 201


def test_a_file_over_ten_mib_is_refused(api, db):
    case_id = make_case(db)
    answer = upload(api, case_id, "bob", [(PDF + bytes(10 * MiB), "big.pdf")])
    assert answer.status_code == 422
    assert answer.get_json()["type"].endswith("/rule/attachment-too-large")
    assert answer.get_json()["filename"] == "big.pdf"


def test_the_upload_route_takes_more_than_the_platforms_body_limit(api, db, settings):
    assert settings.max_body_bytes == 10 * MiB
    case_id = make_case(db)
    six = PDF + bytes(6 * MiB)
    answer = upload(api, case_id, "bob", [(six, "a.pdf"), (six, "b.pdf")])  # 12 MiB of files
    assert answer.status_code == 201, answer.get_json()
    # every other route keeps the platform's limit
    other = api.post(f"/cases/{case_id}/quotes", {"fee": "1.00", "description": "x" * (11 * MiB)}, user="lawyer")
    assert other.status_code == 413


def test_files_over_twenty_five_mib_together_are_refused(api, db):
    case_id = make_case(db)
    nine = PDF + bytes(9 * MiB)
    answer = upload(api, case_id, "bob", [(nine, "a.pdf"), (nine, "b.pdf"), (PDF + bytes(7 * MiB + MiB // 2), "c.pdf")])
    assert answer.status_code == 422
    assert answer.get_json()["type"].endswith("/rule/attachment-too-large")


def test_a_body_over_the_upload_limit_is_a_413_problem(api, db):
    case_id = make_case(db)
    nine = PDF + bytes(9 * MiB)
    answer = upload(api, case_id, "bob", [(nine, "a.pdf"), (nine, "b.pdf"), (nine, "c.pdf")])
    assert answer.status_code == 413
    assert answer.mimetype == "application/problem+json"
    problem = answer.get_json()
    assert problem["type"].endswith("/payload-too-large")
    assert problem["limit"] == 26 * MiB
    assert str(26 * MiB) in problem["detail"]


def test_a_form_with_other_fields_is_refused(api, db):
    case_id = make_case(db)
    body, content_type = form({"body": "x"}, [("attachment", PDF, "a.pdf")])
    answer = api.client.post(
        f"/api/v1/consulting/cases/{case_id}/messages",
        data=body,
        headers={**api.headers("bob"), "Content-Type": content_type},
    )
    assert answer.status_code == 422
    assert "attachment" in answer.get_json()["errors"]


def test_a_form_sets_the_visibility(api, db):
    case_id = make_case(db)
    answer = upload(api, case_id, "lawyer", [(PDF, "fees.pdf")], visibility="firm")
    assert answer.status_code == 201
    assert answer.get_json()["visibility"] == "firm"
    refused = upload(api, case_id, "bob", [(PDF, "x.pdf")], visibility="desk")
    assert refused.status_code == 403


@pytest.mark.parametrize("user", tuple(USERS))
def test_whoever_may_read_the_message_downloads_its_files_and_nobody_else(api, db, user):
    case_id = make_case(db)
    urls = {}
    for visibility, author in (("tenant", "bob"), ("desk", "desk"), ("firm", "lawyer")):
        written = upload(api, case_id, author, [(PDF, f"{visibility}.pdf")], visibility=visibility)
        urls[visibility] = written.get_json()["attachments"][0]["url"]
    for visibility, url in urls.items():
        answer = api.get(url, user=user)
        if user in SEES_CASE and visibility in READS[user]:
            assert answer.status_code == 200, (visibility, answer.get_json())
            assert answer.data == PDF
        else:
            assert answer.status_code == 404, (visibility, answer.status_code)
            assert answer.get_json()["type"].endswith("/not-found")


def test_an_attachment_of_another_case_or_none_at_all_is_404(api, db):
    first, second = make_case(db), make_case(db)
    attachment = upload(api, first, "bob", [(PDF, "a.pdf")]).get_json()["attachments"][0]
    assert api.get(f"/cases/{second}/attachments/{attachment['id']}", user="desk").status_code == 404
    assert api.get(f"/cases/{first}/attachments/{uuid.uuid4()}", user="desk").status_code == 404
    assert api.get(f"/cases/{first}/attachments/not-a-uuid", user="desk").status_code == 404


def test_a_refused_file_is_named_in_the_readers_language(api, db):
    case_id = make_case(db)
    body, content_type = form({"body": "x"}, [("file", EXE, "安装程序.exe")])
    answer = api.client.post(
        f"/api/v1/consulting/cases/{case_id}/messages",
        data=body,
        headers={**api.headers("bob"), "Content-Type": content_type, "Accept-Language": "zh-CN"},
    )
    assert answer.status_code == 422
    assert answer.get_json()["detail"].startswith("文件安装程序.exe的类型不被园区接受")


NAMELESS_PART = (
    b"--x\r\nContent-Disposition: form-data\r\n\r\nno name\r\n"
    b'--x\r\nContent-Disposition: form-data; name="body"\r\n\r\nhello\r\n--x--\r\n'
)


def test_a_form_part_without_a_name_is_a_422_naming_it(api, db):
    """A hand-made multipart body may carry a part with no name (the fuzzer sent one): it is an
    unknown field like any other, never a 500."""
    case_id = make_case(db)
    answer = api.client.post(
        f"/api/v1/consulting/cases/{case_id}/messages",
        data=NAMELESS_PART,
        content_type="multipart/form-data; boundary=x",
        headers=api.headers("bob"),
    )
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["errors"] == {"(unnamed part)": ["Unknown field."]}
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0
