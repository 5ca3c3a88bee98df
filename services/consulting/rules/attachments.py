"""What a message may carry: the kernel's rules for uploaded files (:mod:`shared.files.kinds`:
types by content, never by name; limits of size and number; safe names), with a message's
limits: at most :data:`MAX_FILES` files of :data:`MAX_FILE_BYTES` each, :data:`MAX_MESSAGE_BYTES`
together. Pure: no Flask, no session.
"""

from __future__ import annotations

from shared.files.kinds import (
    CSV,
    DOCX,
    EXTENSIONS,
    GIF,
    JPEG,
    MAX_FILE_BYTES,
    MAX_FILENAME,
    MAX_FILES,
    MAX_MESSAGE_BYTES,
    PDF,
    PNG,
    PPTX,
    TEXT,
    WEBP,
    XLSX,
    ZIP,
    AcceptedFile,
    MiB,
    accept_file,
    check_files,
    content_disposition,
    named_for,
    safe_filename,
    sniff,
)

__all__ = [
    "CSV",
    "DOCX",
    "EXTENSIONS",
    "GIF",
    "JPEG",
    "MAX_FILENAME",
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "MAX_MESSAGE_BYTES",
    "PDF",
    "PNG",
    "PPTX",
    "TEXT",
    "WEBP",
    "XLSX",
    "ZIP",
    "AcceptedFile",
    "MiB",
    "accept_file",
    "check_files",
    "content_disposition",
    "named_for",
    "safe_filename",
    "sniff",
]
