"""What the database holds: ciphertexts bound to their rows, and never a value in any form."""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from hub.crypto import KeyRing, MasterKey
from hub.errors import CryptoError
from hub.secret_value import SecretValue
from hub.secrets.models import Secret, SecretVersion
from hub.secrets.store import SecretStore
from hub.tenants import TenantService

VALUE = "s3cr3t-Value-that-must-never-be-stored"
FILE_VALUE = b"\x00\x01binary-file-secret-\xfe\xff-payload"


def _copy_ciphertext(sessions: sessionmaker[Session], source_key: str, target_key: str) -> None:
    with sessions.begin() as session:
        def version_of(key: str) -> SecretVersion:
            return session.scalars(select(SecretVersion).join(Secret).where(
                Secret.key == key, SecretVersion.version == Secret.current_version)).one()

        source, target = version_of(source_key), version_of(target_key)
        session.execute(update(SecretVersion).where(
            SecretVersion.secret_id == target.secret_id,
            SecretVersion.version == target.version).values(
                kek_id=source.kek_id, wrapped_key=source.wrapped_key,
                ciphertext=source.ciphertext))


def test_ciphertext_copied_to_another_row_fails_to_decrypt(
        store: SecretStore, sessions: sessionmaker[Session]) -> None:
    store.create("acme", "SOURCE", SecretValue(VALUE), actor="test")
    store.create("acme", "TARGET", SecretValue("target value, long"), actor="test")
    _copy_ciphertext(sessions, "SOURCE", "TARGET")
    with pytest.raises(CryptoError) as caught:
        store.resolve("acme", "TARGET")
    assert str(caught.value) == "decryption failed"
    assert store.resolve("acme", "SOURCE").value.reveal_text() == VALUE


def test_ciphertext_moved_to_another_tenant_fails_to_decrypt(
        store: SecretStore, tenants: TenantService, sessions: sessionmaker[Session]) -> None:
    tenants.create("other", actor="test")
    store.create("acme", "SOURCE", SecretValue(VALUE), actor="test")
    store.create("other", "TARGET", SecretValue("target value, long"), actor="test")
    _copy_ciphertext(sessions, "SOURCE", "TARGET")
    with pytest.raises(CryptoError):
        store.resolve("other", "TARGET")


def test_ciphertext_of_an_old_version_put_in_the_current_one_fails(
        store: SecretStore, sessions: sessionmaker[Session]) -> None:
    store.create("acme", "TOKEN", SecretValue(VALUE), actor="test")
    store.update("acme", "TOKEN", actor="test", value=SecretValue("the second value"))
    with sessions.begin() as session:
        old = session.get_one(SecretVersion, (session.scalars(select(Secret.id)).one(), 1))
        session.execute(update(SecretVersion).where(SecretVersion.version == 2).values(
            wrapped_key=old.wrapped_key, ciphertext=old.ciphertext))
    with pytest.raises(CryptoError):
        store.resolve("acme", "TOKEN")


def test_the_wrong_master_key_fails_cleanly_and_opaquely(
        store: SecretStore, make_store: Callable[..., SecretStore]) -> None:
    store.create("acme", "TOKEN", SecretValue(VALUE), actor="test")
    impostor = make_store(keyring=KeyRing([MasterKey("k1", b"\x02" * 32)]))
    with pytest.raises(CryptoError) as caught:
        impostor.resolve("acme", "TOKEN")
    assert VALUE not in repr(caught.value) and "TOKEN" not in str(caught.value)


def test_restore_under_the_wrong_key_fails_and_changes_nothing(
        store: SecretStore, make_store: Callable[..., SecretStore], dump: Callable) -> None:
    store.create("acme", "TOKEN", SecretValue(VALUE), actor="test")
    store.update("acme", "TOKEN", actor="test", value=SecretValue("the second value"))
    before = dump()
    with pytest.raises(CryptoError):
        make_store(keyring=KeyRing([MasterKey("k1", b"\x02" * 32)])).restore(
            "acme", "TOKEN", 1, actor="test")
    assert dump() == before


def _forms(value: bytes) -> list[bytes]:
    """The value and the encodings someone might store by mistake."""
    forms = [value, base64.b64encode(value), base64.urlsafe_b64encode(value),
             base64.b64encode(value).rstrip(b"="), binascii.hexlify(value),
             binascii.hexlify(value).upper(), urllib.parse.quote(value).encode()]
    return forms


def _exercise(store: SecretStore) -> None:
    store.create("acme", "TEXT", SecretValue(VALUE), actor="test", note="first")
    store.create("acme", "FILE", SecretValue(FILE_VALUE), actor="test", type="file",
                 filename="blob.bin")
    store.update("acme", "TEXT", actor="test", value=SecretValue(VALUE + "-v2"))
    store.restore("acme", "TEXT", 1, actor="test")
    store.rename("acme", "TEXT", "TEXT_RENAMED", actor="test")
    store.delete("acme", "FILE", actor="test")
    store.undelete("acme", "FILE", actor="test")
    store.resolve_many("acme", ["TEXT_RENAMED", "FILE"])


def _all_rows_as_text(engine: Engine) -> bytes:
    with engine.connect() as conn:
        tables = [name for (name,) in conn.execute(text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"))]
        chunks = []
        for table in tables:
            for row in conn.execute(text(f'SELECT "{table}"::text FROM "{table}"')):
                chunks.append(row[0].encode())
        return b"\n".join(chunks)


def _stored(engine: Engine) -> bytes:
    if engine.dialect.name == "sqlite":
        engine.dispose()
        # Every byte of the file and of its write-ahead log, where recent pages live.
        path = Path(engine.url.database or "")
        return path.read_bytes() + b"".join(
            p.read_bytes() for p in path.parent.glob(path.name + "-*"))
    return _all_rows_as_text(engine)


def test_the_scan_sees_a_value_that_was_stored_in_the_clear(store: SecretStore,
                                                            engine: Engine) -> None:
    store.create("acme", "CARELESS", SecretValue(VALUE), actor="test",
                 description=base64.b64encode(FILE_VALUE).decode())
    assert base64.b64encode(FILE_VALUE) in _stored(engine)


def test_the_database_never_holds_a_value_nor_its_base64_or_hex(
        store: SecretStore, engine: Engine) -> None:
    _exercise(store)
    stored = _stored(engine)
    for value in (VALUE.encode(), (VALUE + "-v2").encode(), FILE_VALUE):
        for form in _forms(value):
            assert form not in stored
            assert form.lower() not in stored.lower() or form.isdigit()
