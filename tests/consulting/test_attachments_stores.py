"""Both attachment stores through HTTP: the database (the default) and a directory
(``PARKHUB_CONSULTING_FILES``): what is written where, the row's storage, key and sha256, the
download; the file store's atomic write and its clean-up when the transaction rolls back."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from services.consulting.handlers.storage import (
    DatabaseStore,
    FileSystemStore,
    StoredFileMissing,
    configured_store,
    new_key,
)
from services.consulting.models import Attachment, AttachmentBlob
from shared.settings import Settings
from tests.conftest import make_settings
from tests.consulting.test_attachments import PDF, PNG, upload
from tests.consulting.test_messages import make_case


@pytest.fixture(params=["database", "files"])
def settings(request: pytest.FixtureRequest, tmp_path: Path, migrated_services: Path) -> Settings:
    """The suite's settings, with attachments in the database or in ``var/files``."""
    var = tmp_path / "var"
    shutil.copytree(migrated_services, var)
    return make_settings(var, PARKHUB_CONSULTING_FILES=request.param)


def test_files_go_to_the_configured_store_and_come_back(api, db, settings):
    case_id = make_case(db)
    answer = upload(api, case_id, "bob", [(PDF, "a.pdf"), (PNG, "b.png")])
    assert answer.status_code == 201, answer.get_json()
    attachments = answer.get_json()["attachments"]
    with db.reading() as session:
        rows = {r.id: (r.sha256, r.storage, r.storage_key) for r in session.scalars(select(Attachment))}
        blobs = {b.key: bytes(b.data) for b in session.scalars(select(AttachmentBlob))}
    directory = settings.var_dir / "files"
    for attachment, content in zip(attachments, (PDF, PNG), strict=True):
        sha256, storage, key = rows[attachment["id"]]
        assert sha256 == hashlib.sha256(content).hexdigest()
        assert len(key) == 32 and "a.pdf" not in key
        if settings.consulting_files == "database":
            assert storage == "database"
            assert blobs[key] == content
        else:
            assert storage == "filesystem"
            assert (directory / key[:2] / key).read_bytes() == content
        got = api.get(attachment["url"], user="desk")
        assert got.status_code == 200 and got.data == content
    if settings.consulting_files == "database":
        assert not directory.exists()
    else:
        assert blobs == {}
        assert not list(directory.rglob(".incoming-*"))  # no temporary file left behind


def test_a_refused_message_leaves_no_bytes_anywhere(api, db, settings):
    case_id = make_case(db)
    answer = upload(api, case_id, "bob", [(PDF, "a.pdf"), (b"MZ\x90\x00", "b.exe")])
    assert answer.status_code == 422
    with db.reading() as session:
        assert session.scalars(select(AttachmentBlob)).first() is None
    directory = settings.var_dir / "files"
    assert not directory.exists() or not [p for p in directory.rglob("*") if p.is_file()]


def test_the_store_puts_gets_and_deletes_by_key_in_the_transaction(db, settings):
    store = configured_store(settings)
    kept, dropped = new_key(), new_key()
    with db.unit_of_work() as uow:
        store.put(uow.session, kept, b"kept")
        uow.commit()
    with db.unit_of_work() as uow:
        store.put(uow.session, dropped, b"dropped")
        # no commit: the transaction rolls back, and what it wrote goes with it
    with db.reading() as session:
        assert store.get(session, kept) == b"kept"
        with pytest.raises(StoredFileMissing):
            store.get(session, dropped)
    if isinstance(store, FileSystemStore):
        assert not store.path(dropped).exists()
    with db.unit_of_work() as uow:
        store.delete(uow.session, kept)
        uow.commit()
    with db.reading() as session, pytest.raises(StoredFileMissing):
        store.get(session, kept)


def test_keys_come_from_the_store_never_from_a_caller(tmp_path, db):
    directory = tmp_path / "store"
    for store in (DatabaseStore(), FileSystemStore(directory)):
        with db.unit_of_work() as uow:
            for key in ("../../etc/passwd", "a.pdf", "", "ABCDEF" * 6):
                with pytest.raises(ValueError):
                    store.put(uow.session, key, b"x")
    assert not directory.exists()


def test_the_setting_reads_database_or_a_directory(tmp_path):
    assert make_settings(tmp_path).consulting_files == "database"
    assert isinstance(configured_store(make_settings(tmp_path)), DatabaseStore)
    elsewhere = configured_store(make_settings(tmp_path, PARKHUB_CONSULTING_FILES=str(tmp_path / "att")))
    assert isinstance(elsewhere, FileSystemStore)
    assert elsewhere.directory == tmp_path / "att"
    relative = configured_store(make_settings(tmp_path, PARKHUB_CONSULTING_FILES="files"))
    assert isinstance(relative, FileSystemStore)
    assert relative.directory == tmp_path.resolve() / "files"


def test_a_delete_takes_effect_when_its_transaction_commits(db, settings):
    store = configured_store(settings)
    key = new_key()
    with db.unit_of_work() as uow:
        store.put(uow.session, key, b"kept")
        uow.commit()
    with db.unit_of_work() as uow:
        store.delete(uow.session, key)
        with db.reading() as other:
            assert store.get(other, key) == b"kept"  # not gone before the commit
        # no commit: the row that names the file stays, and so does the file
    with db.reading() as session:
        assert store.get(session, key) == b"kept"
    with db.unit_of_work() as uow:
        store.delete(uow.session, key)
        uow.commit()
    with db.reading() as session, pytest.raises(StoredFileMissing):
        store.get(session, key)
    if isinstance(store, FileSystemStore):
        assert not store.path(key).exists()
