"""Where attachments' bytes live: the kernel's stores (:mod:`shared.files.store`) bound to
consulting's ``attachment_blobs`` and its setting ``PARKHUB_CONSULTING_FILES``
(:attr:`shared.settings.Settings.consulting_files`): ``database`` (the default: a message and
its files commit or roll back together), or a directory. Nothing here commits.
"""

from __future__ import annotations

from services.consulting.models import AttachmentBlob
from shared.files import store as _kernel
from shared.files.store import DATABASE, FILESYSTEM, FileSystemStore, StoredFileMissing, new_key
from shared.settings import Settings

AttachmentStore = _kernel.FileStore
"""Bytes by key: ``put``, ``get``, ``delete`` (:class:`shared.files.store.FileStore`)."""

__all__ = [
    "DATABASE",
    "FILESYSTEM",
    "AttachmentStore",
    "DatabaseStore",
    "FileSystemStore",
    "StoredFileMissing",
    "configured_store",
    "new_key",
    "store_named",
]


class DatabaseStore(_kernel.DatabaseStore):
    """The bytes in ``attachment_blobs``, in the caller's transaction."""

    blob = AttachmentBlob


def configured_store(settings: Settings) -> AttachmentStore:
    """The store new attachments go to: ``database``, or a directory (relative to ``var_dir``)."""
    if settings.consulting_files == DATABASE:
        return DatabaseStore()
    return _kernel.configured_store(settings.consulting_files, settings.var_dir, AttachmentBlob)


def store_named(storage: str, settings: Settings) -> AttachmentStore:
    """The store an attachment row names (``storage``): its bytes are read where they were put."""
    return _kernel.store_named(storage, settings.consulting_files, settings.var_dir, AttachmentBlob)
