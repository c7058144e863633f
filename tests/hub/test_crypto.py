"""Envelope encryption: round trips, binding to associated data, rotation, opaque failures."""

from __future__ import annotations

import base64
import logging
import pickle
import traceback
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.crypto import Envelope, KeyRing, MasterKey, associated_data
from hub.errors import ConfigurationError, CryptoError

PLAIN = b"s3cret-value-of-a-tenant"
AAD = associated_data("secret-value", 1, 42, 3, "text")


def ring(*ids: str) -> KeyRing:
    return KeyRing([KeyRing.generate(key_id) for key_id in ids or ("k1",)])


def material_forms(key: MasterKey) -> list[str]:
    raw = key.material
    return [
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        base64.b64encode(raw).decode().rstrip("="),
        raw.hex(),
        repr(raw)[2:-1],
    ]


def test_encrypt_then_decrypt_returns_the_plaintext() -> None:
    keys = ring()
    envelope = keys.encrypt(PLAIN, AAD)
    assert envelope.kek_id == "k1"
    assert PLAIN not in envelope.ciphertext
    assert keys.decrypt(envelope, AAD) == PLAIN


def test_empty_plaintext_round_trips() -> None:
    keys = ring()
    assert keys.decrypt(keys.encrypt(b"", AAD), AAD) == b""


@given(plaintext=st.binary(max_size=2048), aad=st.binary(max_size=256))
def test_round_trip_holds_for_arbitrary_bytes_and_aad(plaintext: bytes, aad: bytes) -> None:
    keys = KeyRing([MasterKey("k1", bytes(range(32)))])
    assert keys.decrypt(keys.encrypt(plaintext, aad), aad) == plaintext


@pytest.mark.parametrize(
    "other",
    [
        associated_data("secret-value", 2, 42, 3, "text"),  # another tenant
        associated_data("secret-value", 1, 43, 3, "text"),  # another secret row
        associated_data("secret-value", 1, 42, 4, "text"),  # another version
        associated_data("secret-value", 1, 42, 3, "file"),  # another type
        b"",
    ],
)
def test_ciphertext_moved_to_another_aad_fails_to_decrypt(other: bytes) -> None:
    keys = ring()
    envelope = keys.encrypt(PLAIN, AAD)
    with pytest.raises(CryptoError):
        keys.decrypt(envelope, other)


def test_ciphertext_moved_to_another_tenant_fails_even_with_its_wrapped_key() -> None:
    keys = ring()
    mine = keys.encrypt(PLAIN, associated_data("secret-value", 1, 7, 1, "text"))
    theirs = keys.encrypt(b"other", associated_data("secret-value", 2, 8, 1, "text"))
    swapped = replace(theirs, ciphertext=mine.ciphertext)
    with pytest.raises(CryptoError):
        keys.decrypt(swapped, associated_data("secret-value", 2, 8, 1, "text"))


def test_wrong_key_with_the_same_id_fails_with_an_opaque_message() -> None:
    envelope = ring("k1").encrypt(PLAIN, AAD)
    impostor = ring("k1")
    with pytest.raises(CryptoError) as caught:
        impostor.decrypt(envelope, AAD)
    message = str(caught.value)
    assert message == "decryption failed"
    assert caught.value.__context__ is None
    for needle in (PLAIN.decode(), envelope.ciphertext.hex(), AAD.hex(), "k1"):
        assert needle not in message


def test_unknown_kek_id_fails() -> None:
    envelope = ring("k1").encrypt(PLAIN, AAD)
    with pytest.raises(CryptoError):
        ring("k2").decrypt(envelope, AAD)


def test_relabelled_kek_id_fails_even_when_both_keys_are_in_the_ring() -> None:
    keys = ring("k1", "k2")
    envelope = keys.encrypt(PLAIN, AAD)
    with pytest.raises(CryptoError):
        keys.decrypt(replace(envelope, kek_id="k2"), AAD)


@pytest.mark.parametrize("field", ["wrapped_key", "ciphertext"])
def test_every_tampered_byte_fails_to_decrypt(field: str) -> None:
    keys = ring()
    envelope = keys.encrypt(PLAIN, AAD)
    blob: bytes = getattr(envelope, field)
    for index in range(len(blob)):
        tampered = bytearray(blob)
        tampered[index] ^= 0x01
        with pytest.raises(CryptoError):
            changes: dict[str, bytes] = {field: bytes(tampered)}
            keys.decrypt(replace(envelope, **changes), AAD)  # type: ignore[arg-type]


@pytest.mark.parametrize("cut", [0, 1, 13, 28])
def test_truncated_blobs_fail_to_decrypt(cut: int) -> None:
    keys = ring()
    envelope = keys.encrypt(PLAIN, AAD)
    with pytest.raises(CryptoError):
        keys.decrypt(replace(envelope, ciphertext=envelope.ciphertext[:cut]), AAD)
    with pytest.raises(CryptoError):
        keys.decrypt(replace(envelope, wrapped_key=envelope.wrapped_key[:cut]), AAD)


def test_blobs_start_with_a_format_version_byte() -> None:
    envelope = ring().encrypt(PLAIN, AAD)
    assert envelope.ciphertext[0] == 1
    assert envelope.wrapped_key[0] == 1


def test_each_encryption_uses_a_fresh_data_key_and_nonce() -> None:
    keys = ring()
    envelopes = [keys.encrypt(PLAIN, AAD) for _ in range(200)]
    assert len({e.wrapped_key for e in envelopes}) == 200
    assert len({e.ciphertext[1:13] for e in envelopes}) == 200
    assert len({e.wrapped_key[1:13] for e in envelopes}) == 200


def test_rewrap_keeps_the_value_and_switches_the_kek() -> None:
    old = ring("old")
    envelope = old.encrypt(PLAIN, AAD)
    new_key = KeyRing.generate("new")
    rotated = old.with_primary(new_key)
    rewrapped = rotated.rewrap(envelope, AAD)
    assert rewrapped.kek_id == "new"
    assert rewrapped.ciphertext == envelope.ciphertext
    assert rewrapped.wrapped_key != envelope.wrapped_key
    assert rotated.decrypt(rewrapped, AAD) == PLAIN
    # The old ring without the new key cannot read it; the new ring without the old key can.
    with pytest.raises(CryptoError):
        old.decrypt(rewrapped, AAD)
    assert rotated.without("old").decrypt(rewrapped, AAD) == PLAIN


def test_rewrap_with_the_wrong_aad_fails_and_produces_nothing() -> None:
    keys = ring("a")
    envelope = keys.encrypt(PLAIN, AAD)
    with pytest.raises(CryptoError):
        keys.with_primary(KeyRing.generate("b")).rewrap(envelope, b"other")


def test_new_writes_use_the_primary_and_old_keys_still_read() -> None:
    old = ring("old")
    envelope = old.encrypt(PLAIN, AAD)
    rotated = old.with_primary(KeyRing.generate("new"))
    assert rotated.ids == ("new", "old")
    assert rotated.primary_id == "new"
    assert rotated.encrypt(PLAIN, AAD).kek_id == "new"
    assert rotated.decrypt(envelope, AAD) == PLAIN


def test_key_check_proves_the_identity_of_the_key() -> None:
    keys = ring("k1")
    blob = keys.make_check("k1")
    assert keys.verify_check("k1", blob)
    assert not ring("k1").verify_check("k1", blob)  # same id, other material
    assert not ring("k2").verify_check("k1", blob)  # key absent
    assert not keys.verify_check("k1", blob[:-1])
    with pytest.raises(CryptoError):
        keys.make_check("k9")


def test_associated_data_is_unambiguous() -> None:
    assert associated_data("ab", "c") != associated_data("a", "bc")
    assert associated_data("1") != associated_data(1)
    assert associated_data("a", 1) == associated_data("a", 1)
    assert associated_data() != associated_data("")
    with pytest.raises(TypeError):
        associated_data(True)
    with pytest.raises(TypeError):
        associated_data(1.5)  # type: ignore[arg-type]


def test_parse_reads_commas_and_lines_and_serialize_is_its_inverse() -> None:
    a, b = KeyRing.generate("a"), KeyRing.generate("b")
    keys = KeyRing([a, b])
    text = keys.serialize()
    again = KeyRing.parse(text, source="HUB_MASTER_KEY")
    assert again.ids == ("a", "b")
    assert again.get("a") == a
    per_line = "# rotated\n" + "\n".join(text.split(",")) + "\n"
    assert KeyRing.parse(per_line, source="f").ids == ("a", "b")


def test_parse_accepts_standard_padded_base64() -> None:
    key = KeyRing.generate("k1")
    text = "k1:" + base64.b64encode(key.material).decode()
    assert KeyRing.parse(text, source="HUB_MASTER_KEY").get("k1") == key


@pytest.mark.parametrize(
    "template",
    [
        "{b64}",  # no id
        "k1:{b64}extra",  # not base64 of 32 bytes
        "k1:{short}",  # too short
        "bad id:{b64}",  # invalid id
        "k1:{b64},k1:{b64}",  # duplicate id
        " ",  # empty
    ],
)
def test_parse_errors_name_the_source_and_never_contain_the_key(template: str) -> None:
    key = KeyRing.generate("k1")
    b64 = base64.urlsafe_b64encode(key.material).decode().rstrip("=")
    text = template.format(b64=b64, short=b64[:20])
    with pytest.raises(ConfigurationError) as caught:
        KeyRing.parse(text, source="HUB_MASTER_KEY")
    message = str(caught.value)
    assert "HUB_MASTER_KEY" in message
    assert b64[:16] not in message
    assert caught.value.__context__ is None or b64[:16] not in str(caught.value.__context__)


def test_ring_refuses_no_keys_and_without_refuses_the_last_key() -> None:
    with pytest.raises(ConfigurationError):
        KeyRing([])
    with pytest.raises(ConfigurationError):
        ring("only").without("only")
    with pytest.raises(ConfigurationError):
        ring("a").without("zzz")


def test_master_key_refuses_wrong_lengths() -> None:
    with pytest.raises(ConfigurationError):
        MasterKey("k1", b"x" * 16)


def test_generated_ids_tell_the_date_and_differ() -> None:
    first, second = KeyRing.generate(), KeyRing.generate()
    assert first.id.startswith("k20") and len(first.id) == 13
    assert first.id != second.id or first.material != second.material


def test_reprs_fstrings_logging_and_tracebacks_show_no_key_material(
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = KeyRing.generate("k1")
    keys = KeyRing([key])
    envelope = keys.encrypt(PLAIN, AAD)

    def fail(key: MasterKey, keys: KeyRing, envelope: Envelope) -> None:
        keys.decrypt(envelope, b"wrong aad")

    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("%r %r %s %r", key, keys, keys, envelope)
    try:
        fail(key, keys, envelope)
    except CryptoError as exc:
        rendered = "".join(
            traceback.TracebackException.from_exception(exc, capture_locals=True).format()
        )
    texts = [repr(key), repr(keys), f"{key} {keys!r} {envelope}", caplog.text, rendered]
    assert repr(key) == "MasterKey(id='k1')"
    assert repr(keys) == "KeyRing(ids=('k1',))"
    for text in texts:
        for form in material_forms(key):
            assert form not in text
        assert PLAIN.decode() not in text


def test_keys_cannot_be_pickled() -> None:
    key = KeyRing.generate("k1")
    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(TypeError):
        pickle.dumps(KeyRing([key]))


def test_with_primary_promotes_a_known_key_but_never_replaces_one_under_its_id() -> None:
    a, b = KeyRing.generate("a"), KeyRing.generate("b")
    keys = KeyRing([a, b])
    assert keys.with_primary(b).ids == ("b", "a")
    with pytest.raises(ConfigurationError):
        keys.with_primary(KeyRing.generate("a"))
