"""rules/attachments.py, pure: types by content, names made safe (hypothesis properties), names
corrected to their content, the limits of a file and of a message, Content-Disposition; and
rules/follow_up.py's window on ended cases."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from services.consulting.rules.attachments import (
    CSV,
    DOCX,
    EXTENSIONS,
    GIF,
    JPEG,
    MAX_FILE_BYTES,
    MAX_FILENAME,
    MAX_MESSAGE_BYTES,
    PDF,
    PNG,
    PPTX,
    TEXT,
    WEBP,
    XLSX,
    ZIP,
    accept_file,
    check_files,
    content_disposition,
    named_for,
    safe_filename,
    sniff,
)
from services.consulting.rules.follow_up import FOLLOW_UP_DAYS, check_message_allowed, check_quote_answerable
from shared.errors import Conflict, RuleViolation


def archive(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name in names:
            z.writestr(name, "<Types/>" if name == "[Content_Types].xml" else "x")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (b"%PDF-1.4\n%%EOF", "x", PDF),
        (b"\x89PNG\r\n\x1a\n\x00", "x", PNG),
        (b"\xff\xd8\xff\xdb\x00", "x", JPEG),
        (b"GIF89a\x01\x00", "x", GIF),
        (b"GIF87a\x01\x00", "x", GIF),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "x", WEBP),
        (archive("[Content_Types].xml", "word/document.xml"), "x.zip", DOCX),
        (archive("[Content_Types].xml", "xl/workbook.xml"), "x", XLSX),
        (archive("[Content_Types].xml", "ppt/presentation.xml"), "x", PPTX),
        (archive("reports/q1.pdf", "reports/q2.pdf"), "x.docx", ZIP),
        ("合同 第一稿\n".encode(), "notes", TEXT),
        ("\ufeffname,amount\n张三,12\n".encode(), "list.CSV", CSV),
        (b"name,amount\n", "list.txt", TEXT),
    ],
)
def test_the_type_is_told_by_the_bytes(data, name, kind):
    assert sniff(data, name) == kind


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03",  # a Windows executable
        b"\x7fELF\x02\x01",  # a Linux one
        b"<!doctype html><p>hi",
        b"  \n<html><script>x()</script>",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        b"<svg onload=alert(1)>",
        "\ufeff<html>".encode(),
        b"text with a NUL \x00 inside",
        "GBK 文本".encode("gbk"),
        b"PK\x03\x04 not really a zip",
        archive("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"),  # macros
        b"\xca\xfe\xba\xbe",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # old binary Office (doc, xls): macros inside
    ],
)
def test_what_is_not_accepted_has_no_type(data):
    assert sniff(data, "anything.pdf") is None


def office(content_types: str, *parts: str) -> bytes:
    """An Office Open XML package: its ``[Content_Types].xml`` and ``parts``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", content_types)
        for name in parts:
            z.writestr(name, "x")
    return buffer.getvalue()


def types(*overrides: tuple[str, str]) -> str:
    listed = "".join(f'<Override PartName="{part}" ContentType="{kind}"/>' for part, kind in overrides)
    return f'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">{listed}</Types>'


WORD_MAIN = ("/word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")


@pytest.mark.parametrize(
    "data",
    [
        # a macro-enabled document whose VBA part is not called vbaProject.bin
        office(
            types(
                ("/word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"),
                ("/word/macros.bin", "application/vnd.ms-office.vbaProject"),
            ),
            "word/document.xml",
            "word/macros.bin",
        ),
        office(types(("/xl/workbook.xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml")), "xl/workbook.xml"),
        # a Default by extension says the same as an Override
        office(
            '<Types><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
            "word/document.xml",
            "word/stuff.bin",
        ),
        # an embedded OLE object (an executable packaged in a document), by name or by type
        office("<Types/>", "word/document.xml", "word/embeddings/oleObject1.bin"),
        office(
            types(WORD_MAIN, ("/word/objects/x.bin", "application/vnd.openxmlformats-officedocument.oleObject")),
            "word/document.xml",
            "word/objects/x.bin",
        ),
        office(types(WORD_MAIN), "word/document.xml", "word/activeX/activeX1.xml"),
        office(types(WORD_MAIN, ("/word/activeX/a.xml", "application/vnd.ms-office.activeX+xml")), "word/document.xml"),
        # content types that cannot be read are no proof of anything
        office("<Types", "word/document.xml"),
        office('<!DOCTYPE x [<!ENTITY a "aaaa">]><Types/>', "word/document.xml"),
    ],
)
def test_office_documents_with_code_or_embedded_objects_are_refused(data):
    assert sniff(data, "report.docx") is None
    with pytest.raises(RuleViolation) as refused:
        accept_file("report.docx", data)
    assert refused.value.code == "rule/attachment-type"


def test_an_office_document_with_images_is_a_document():
    data = office(
        types(WORD_MAIN, ("/word/media/image1.png", "image/png")), "word/document.xml", "word/media/image1.png"
    )
    assert sniff(data, "x") == DOCX


def test_accepting_a_file_names_it_after_its_content_and_hashes_it():
    accepted = accept_file("C:\\Users\\bob\\Desktop\\照片.png", b"\xff\xd8\xff\xe0 jpeg")
    assert accepted.filename == "照片.jpg"
    assert accepted.content_type == JPEG
    assert accepted.size == 9
    assert len(accepted.sha256) == 64


@pytest.mark.parametrize(
    ("name", "kind", "kept"),
    [
        ("report.pdf", PDF, "report.pdf"),
        ("REPORT.PDF", PDF, "REPORT.PDF"),
        ("photo.jpeg", JPEG, "photo.jpeg"),
        ("photo.png", JPEG, "photo.jpg"),
        ("invoice.exe", PDF, "invoice.pdf"),
        ("page.html", TEXT, "page.txt"),
        ("scan", PDF, "scan.pdf"),
        ("report.v2", PDF, "report.v2.pdf"),
        ("data.csv", CSV, "data.csv"),
        ("bundle.tar", ZIP, "bundle.tar.zip"),
    ],
)
def test_a_name_that_contradicts_its_content_is_corrected(name, kind, kept):
    assert named_for(name, kind) == kept


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Windows\\system32\\cmd.exe", "cmd.exe"),
        (".bashrc", "bashrc"),
        ("...", "file"),
        ("", "file"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("LPT1.tar.gz", "_LPT1.tar.gz"),
        ("report. ", "report"),
        ("a\x00b\nc\td.pdf", "abcd.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # a right-to-left override hides .exe
        ('what?<is>"this"|*.pdf', "whatisthis.pdf"),
        ("合同 草案　第二稿.docx", "合同 草案 第二稿.docx"),
    ],
)
def test_names_are_made_safe(name, safe):
    assert safe_filename(name) == safe


def test_a_long_name_is_cut_keeping_its_extension():
    name = "很长的文件名" * 50 + ".pdf"
    safe = safe_filename(name)
    assert len(safe) == MAX_FILENAME
    assert safe.endswith(".pdf")


@given(st.text(max_size=400))
def test_safe_filename_properties(name):
    safe = safe_filename(name)
    assert safe
    assert len(safe) <= MAX_FILENAME
    assert "/" not in safe and "\\" not in safe
    assert not any(c in safe for c in '<>:"|?*')
    assert not safe.startswith((".", " "))
    assert not safe.endswith((".", " "))
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in safe)
    assert safe.split(".")[0].strip().upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}
    assert safe_filename(safe) == safe  # idempotent


@given(st.text(alphabet=st.characters(categories=("Lo", "Lu", "Ll", "Nd")), min_size=1, max_size=50))
def test_letters_of_any_script_and_a_short_extension_are_kept(stem):
    assume(not re.fullmatch(r"(con|prn|aux|nul|com.|lpt.)", stem, re.IGNORECASE))  # Windows' devices
    assert safe_filename(f"{stem}.pdf") == unicodedata.normalize("NFC", f"{stem}.pdf")[:MAX_FILENAME]


@given(st.text(max_size=200), st.sampled_from(sorted(EXTENSIONS)))
def test_a_kept_name_always_ends_with_an_extension_of_its_content(name, kind):
    kept = named_for(name, kind)
    assert kept.rsplit(".", 1)[-1].lower() in EXTENSIONS[kind]
    assert safe_filename(kept) == kept


@given(st.text(max_size=200))
def test_content_disposition_is_ascii_and_carries_the_name(name):
    header = content_disposition(name)
    assert header.isascii()
    assert header.startswith('attachment; filename="')
    utf8 = header.split("filename*=UTF-8''", 1)[1]
    assert unquote(utf8) == safe_filename(name)
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in fallback and "\\" not in fallback


def test_limits_of_a_file_and_of_a_message():
    with pytest.raises(RuleViolation) as empty:
        accept_file("a.pdf", b"")
    assert empty.value.code == "rule/attachment-empty"
    with pytest.raises(RuleViolation) as big:
        accept_file("a.pdf", b"%PDF-" + bytes(MAX_FILE_BYTES))
    assert big.value.code == "rule/attachment-too-large"
    assert big.value.extra["filename"] == "a.pdf"
    accept_file("a.pdf", b"%PDF-" + bytes(MAX_FILE_BYTES - 5))  # exactly the limit
    with pytest.raises(RuleViolation) as many:
        check_files([1] * 6)
    assert many.value.code == "rule/too-many-attachments"
    check_files([1] * 5)
    with pytest.raises(RuleViolation) as total:
        check_files([MAX_MESSAGE_BYTES // 2, MAX_MESSAGE_BYTES // 2 + 1])
    assert total.value.code == "rule/attachment-too-large"
    check_files([MAX_MESSAGE_BYTES // 2, MAX_MESSAGE_BYTES // 2])


def test_a_refused_type_names_the_file_made_safe():
    with pytest.raises(RuleViolation) as refused:
        accept_file("../evil.exe", b"MZ\x90\x00")
    assert refused.value.code == "rule/attachment-type"
    assert refused.value.extra["filename"] == "evil.exe"
    assert "evil.exe" in str(refused.value)


def test_an_ended_case_takes_messages_for_a_while():
    ended = datetime(2026, 11, 1, 10, tzinfo=UTC)
    for status in ("submitted", "in_progress", "solution_proposed"):
        check_message_allowed(status, ended, ended + timedelta(days=400))
    for status in ("closed", "cancelled"):
        check_message_allowed(status, ended, ended + timedelta(days=FOLLOW_UP_DAYS))
        with pytest.raises(Conflict) as late:
            check_message_allowed(status, ended, ended + timedelta(days=FOLLOW_UP_DAYS, seconds=1))
        assert late.value.code == "rule/case-ended"
        assert "2026-11-01" in str(late.value)
        with pytest.raises(Conflict):
            check_quote_answerable(status)
    check_quote_answerable("waiting_on_tenant")
