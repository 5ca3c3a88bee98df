"""Files the platform takes (a consulting message's attachments, a financing application's
documents): their type told by their bytes, never by their name, within limits of size and
number, under names that are safe to hand to any browser and file system.

- :func:`sniff` names the type of some bytes (PDF, PNG, JPEG, GIF, WEBP, the Office Open XML
  documents docx/xlsx/pptx, a ZIP archive, UTF-8 plain text); anything else is ``None``, and so is
  an Office document whose ``[Content_Types].xml`` or parts show macros, ActiveX controls or
  embedded OLE objects, whatever its parts are called.
- :func:`accept_file` refuses what is not one of those (``rule/attachment-type``, 422, naming
  the file), an empty file (``rule/attachment-empty``) and a file over :data:`MAX_FILE_BYTES`
  (``rule/attachment-too-large``; the limit is the caller's, :data:`MAX_FILE_BYTES` by default);
  it answers the name to keep, corrected to the type's extension.
- :func:`check_files` holds a message's files together: at most :data:`MAX_FILES`
  (``rule/too-many-attachments``) and :data:`MAX_MESSAGE_BYTES` in all (``rule/attachment-too-large``).
- :func:`safe_filename` makes a name harmless; :func:`content_disposition` hands it to a browser.

Pure: no Flask, no session.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote
from xml.etree import ElementTree

from shared.errors import RuleViolation
from shared.i18n import _

MiB = 1024 * 1024
MAX_FILE_BYTES = 10 * MiB
MAX_FILES = 5
MAX_MESSAGE_BYTES = 25 * MiB
MAX_FILENAME = 120
"""Characters of a kept name, its extension included."""

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ZIP = "application/zip"
TEXT = "text/plain; charset=utf-8"
CSV = "text/csv; charset=utf-8"

EXTENSIONS: dict[str, tuple[str, ...]] = {
    PDF: ("pdf",),
    PNG: ("png",),
    JPEG: ("jpg", "jpeg", "jpe"),
    GIF: ("gif",),
    WEBP: ("webp",),
    DOCX: ("docx",),
    XLSX: ("xlsx",),
    PPTX: ("pptx",),
    ZIP: ("zip",),
    TEXT: ("txt", "text", "log", "md"),
    CSV: ("csv",),
}
"""Each accepted type and the extensions a name of it may have; the first is the one given to a
name that has none of them."""

_MISLEADING = frozenset(
    {ext for exts in EXTENSIONS.values() for ext in exts}
    | {"exe", "com", "bat", "cmd", "scr", "msi", "dll", "ps1", "vbs", "js", "jar", "sh", "app", "apk", "lnk"}
    | {"html", "htm", "xhtml", "svg", "xml", "hta", "doc", "xls", "ppt", "docm", "xlsm", "pptm", "rtf", "heic"}
)
"""Extensions that claim a type: one that contradicts the bytes is replaced, not kept."""

_OOXML_PARTS = (("word/document.xml", DOCX), ("xl/workbook.xml", XLSX), ("ppt/presentation.xml", PPTX))
_CONTENT_TYPES = "[Content_Types].xml"
_MAX_CONTENT_TYPES = 1 * MiB
_CODE_TYPES = ("macroenabled", "vbaproject", "vbadata", "activex", "oleobject")
"""Words of the content types of parts that run or carry code: a VBA project or its data, a
macro-enabled main part, an ActiveX control, an embedded OLE object."""
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_MARKUP = re.compile(r"\s*<")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$", re.IGNORECASE)
_FORBIDDEN = frozenset('<>:"/\\|?*')
_EXTENSION = re.compile(r"^[A-Za-z0-9]{1,10}$")


@dataclass(frozen=True)
class AcceptedFile:
    """A file a message may carry: the name to keep, the type its bytes are, their size and sha256."""

    filename: str
    content_type: str
    size: int
    sha256: str


def sniff(data: bytes, name: str = "") -> str | None:
    """The type of ``data`` by its content (``name`` only tells CSV from plain text, both text);
    ``None`` for anything not accepted: executables, HTML, SVG and other markup, Office files that
    are broken or carry code or foreign objects (macros, ActiveX, OLE: :func:`_harmless_office`),
    text that is not UTF-8 or holds control characters (NUL, DEL…; tabs, line ends and form feeds
    are text), unknown bytes."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if len(data) >= 12 and data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(data)
    return _text_kind(data, name)


def _zip_kind(data: bytes, *, depth: int = 0) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if _CONTENT_TYPES not in names:
                return ZIP
            if not _harmless_office(archive, names, depth):
                return None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, OSError, EOFError):
        return None  # says it is a ZIP and is not one (or not one that can be read)
    for part, kind in _OOXML_PARTS:
        if part in names:
            return kind
    return ZIP


def _harmless_office(archive: zipfile.ZipFile, names: set[str], depth: int) -> bool:
    """Whether an Office Open XML package holds no code and no foreign object: its parts, by the
    types ``[Content_Types].xml`` declares and by their names, are no macros (a VBA project under
    any name, a macro-enabled main part), no ActiveX control and no OLE object; an embedded part
    is itself such a document (a chart's workbook) or it is refused. Content types that cannot
    be read (broken, too large, with a DTD) are no proof: refused."""
    declared = _read(archive, _CONTENT_TYPES, _MAX_CONTENT_TYPES)
    if declared is None or _DTD.search(declared):
        return False
    try:
        # No DTD got here (refused above), so no entity can expand: the parse is of bounded size.
        root = ElementTree.fromstring(declared)  # noqa: S314
    except ElementTree.ParseError:
        return False
    kinds = [
        e.get("ContentType", "").lower() for e in root.iter() if e.tag.rpartition("}")[2] in ("Default", "Override")
    ]
    if any(word in kind for kind in kinds for word in _CODE_TYPES):
        return False
    for name in names:
        lowered = name.lower()
        if lowered.endswith("vbaproject.bin") or "activex/" in lowered:
            return False
        if "/embeddings/" in f"/{lowered}" and not name.endswith("/"):
            inner = _read(archive, name, MAX_FILE_BYTES)
            if depth >= 1 or inner is None or _zip_kind(inner, depth=depth + 1) not in (DOCX, XLSX, PPTX):
                return False
    return True


def _read(archive: zipfile.ZipFile, name: str, limit: int) -> bytes | None:
    """The bytes of ``name``, or None past ``limit`` (read no further: a small part may unpack huge)."""
    with archive.open(name) as part:
        data = part.read(limit + 1)
    return None if len(data) > limit else data


def _text_kind(data: bytes, name: str) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _CONTROL.search(text):
        return None  # NUL and other control characters: binary data that happens to decode
    if _MARKUP.match(text.removeprefix("\ufeff")):
        return None  # HTML, SVG, XML: a browser may run what they hold
    return CSV if _extension(name) == "csv" else TEXT


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem and _EXTENSION.match(ext) else ""


def safe_filename(name: str) -> str:
    """A name that is harmless anywhere: no path parts (only what follows the last ``/`` or
    ``\\``), no control or formatting characters (bidirectional overrides that disguise an
    extension included), none of ``<>:"/\\|?*``, no leading dots or spaces, no trailing dots or
    spaces, not a reserved device name of Windows (``CON``, ``com1.txt``: prefixed with ``_``),
    at most :data:`MAX_FILENAME` characters with its extension kept. Letters of any script stay
    (``合同.pdf`` is ``合同.pdf``). Never empty: ``file`` when nothing is left."""
    text = unicodedata.normalize("NFC", name)
    text = re.split(r"[/\\]", text)[-1]
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char in _FORBIDDEN or category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            continue
        kept.append(" " if category.startswith("Z") else char)
    text = re.sub(r" {2,}", " ", "".join(kept)).strip(" .")
    stem, dot, ext = text.rpartition(".")
    if not dot:
        stem, ext = text, ""
    if _WINDOWS_RESERVED.match(stem.split(".")[0].strip()):
        stem = "_" + stem
    if not stem:
        stem = "file"
    if len(ext) > 16:  # not an extension: part of the name
        stem, ext = f"{stem}.{ext}", ""
    suffix = f".{ext}" if ext else ""
    stem = stem[: MAX_FILENAME - len(suffix)].rstrip(" .") or "file"
    return stem + suffix


def named_for(name: str, content_type: str) -> str:
    """``name`` made safe, with an extension that agrees with ``content_type``: a name whose
    extension names another type (``photo.png`` holding a JPEG, ``invoice.exe`` holding a PDF)
    gets the type's own (``photo.jpg``, ``invoice.pdf``); one without any gets it appended."""
    safe = safe_filename(name)
    allowed = EXTENSIONS[content_type]
    ext = _extension(safe)
    if ext in allowed:
        return safe
    stem = safe[: -len(ext) - 1] if ext in _MISLEADING else safe
    return safe_filename(f"{stem}.{allowed[0]}")


def accept_file(name: str, data: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> AcceptedFile:
    """``data`` sent as ``name``, if it may be kept: refused (422) when empty
    (``rule/attachment-empty``), over ``max_bytes`` (``rule/attachment-too-large``) or of a type
    not accepted (``rule/attachment-type``), each naming the file."""
    shown = safe_filename(name)
    if not data:
        raise RuleViolation(_("The file {name} is empty.", name=shown), code="rule/attachment-empty", filename=shown)
    if len(data) > max_bytes:
        raise RuleViolation(
            _("The file {name} is larger than {limit} MiB.", name=shown, limit=max_bytes // MiB),
            code="rule/attachment-too-large",
            filename=shown,
            limit=max_bytes,
        )
    kind = sniff(data, shown)
    if kind is None:
        raise RuleViolation(
            _(
                "The file {name} is not of a type the park accepts: PDF, an image (PNG, JPEG, GIF, WEBP), "
                "a Word, Excel or PowerPoint document (docx, xlsx, pptx), plain text or CSV in UTF-8, or a ZIP "
                "archive.",
                name=shown,
            ),
            code="rule/attachment-type",
            filename=shown,
        )
    return AcceptedFile(named_for(name, kind), kind, len(data), hashlib.sha256(data).hexdigest())


def check_files(sizes: Sequence[int]) -> None:
    """A message's files together: at most :data:`MAX_FILES` (``rule/too-many-attachments``) and
    :data:`MAX_MESSAGE_BYTES` in all (``rule/attachment-too-large``), both 422."""
    if len(sizes) > MAX_FILES:
        raise RuleViolation(
            _("A message carries at most {limit} files; this one has {count}.", limit=MAX_FILES, count=len(sizes)),
            code="rule/too-many-attachments",
            limit=MAX_FILES,
        )
    if sum(sizes) > MAX_MESSAGE_BYTES:
        raise RuleViolation(
            _("A message's files come to at most {limit} MiB together.", limit=MAX_MESSAGE_BYTES // MiB),
            code="rule/attachment-too-large",
            limit=MAX_MESSAGE_BYTES,
        )


def content_disposition(filename: str) -> str:
    """``Content-Disposition`` of a download (RFC 6266): ``attachment``, an ASCII ``filename`` for
    old clients (other characters as ``_``) and the name itself as ``filename*=UTF-8''…``."""
    safe = safe_filename(filename)
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%' else "_" for c in safe)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(safe, safe='')}"
