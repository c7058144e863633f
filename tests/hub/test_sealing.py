"""The sealed channel: tokens open only for their execution, attempt, key and time."""

from __future__ import annotations

import base64
import json
import logging
import traceback
import urllib.parse
from datetime import UTC, datetime, timedelta

import pytest

from hub.errors import CryptoError, InvalidInput
from hub.sealing import SealError, SealExpired, TransportKeys, seal, unseal
from hub.secret_value import SecretValue

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LATER = NOW + timedelta(minutes=10)
PASSWORD = "pa55word-for-the-smtp-server"
TOKEN_VALUE = "tok_Zm9vYmFyYmF6cXV4"


def keys(key_id: str = "t1") -> TransportKeys:
    return TransportKeys([TransportKeys.generate(key_id)])


def sealed(transport: TransportKeys, execution_id: str = "exec-1", attempt: int = 1) -> str:
    values = {"password": SecretValue(PASSWORD), "token": SecretValue(TOKEN_VALUE)}
    return seal(values, keys=transport, execution_id=execution_id, attempt=attempt,
                expires_at=LATER)


def test_seal_then_unseal_returns_the_values() -> None:
    transport = keys()
    values = unseal(sealed(transport), keys=transport, execution_id="exec-1", attempt=1,
                    now=NOW)
    assert set(values) == {"password", "token"}
    assert values["password"].reveal_text() == PASSWORD
    assert values["token"] == SecretValue(TOKEN_VALUE)


def test_binary_and_empty_values_round_trip() -> None:
    transport = keys()
    raw = bytes(range(256))
    token = seal({"file": SecretValue(raw), "empty": SecretValue(b"")}, keys=transport,
                 execution_id="e", attempt=2, expires_at=LATER)
    values = unseal(token, keys=transport, execution_id="e", attempt=2, now=NOW)
    assert values["file"].reveal() == raw
    assert values["empty"].reveal() == b""


def test_token_is_compact_ascii_naming_its_key() -> None:
    token = sealed(keys("t1"))
    assert token.isascii()
    assert token.startswith("v1.t1.")
    assert token.count(".") == 2


def test_sealed_token_contains_no_plaintext_nor_its_encodings() -> None:
    token = sealed(keys())
    for value in (PASSWORD, TOKEN_VALUE):
        raw = value.encode()
        forms = [
            value,
            base64.b64encode(raw).decode().rstrip("="),
            base64.urlsafe_b64encode(raw).decode().rstrip("="),
            raw.hex(),
            urllib.parse.quote(value),
            json.dumps(value),
        ]
        for form in forms:
            assert form not in token
    assert "password" not in token  # the parameter names are sealed too


@pytest.mark.parametrize(
    ("execution_id", "attempt"), [("exec-2", 1), ("exec-1", 2), ("exec-1", 0), ("", 1)]
)
def test_unseal_for_another_execution_or_attempt_fails(execution_id: str, attempt: int) -> None:
    transport = keys()
    with pytest.raises(SealError) as caught:
        unseal(sealed(transport), keys=transport, execution_id=execution_id, attempt=attempt,
               now=NOW)
    assert not isinstance(caught.value, SealExpired)


def test_unseal_at_or_after_expiry_fails_as_expired() -> None:
    transport = keys()
    token = sealed(transport)
    for now in (LATER, LATER + timedelta(days=1)):
        with pytest.raises(SealExpired) as caught:
            unseal(token, keys=transport, execution_id="exec-1", attempt=1, now=now)
        assert isinstance(caught.value, CryptoError)
    # One microsecond before expiry it still opens.
    assert unseal(token, keys=transport, execution_id="exec-1", attempt=1,
                  now=LATER - timedelta(microseconds=1))


def test_expiry_in_another_timezone_means_the_same_instant() -> None:
    transport = keys()
    tz = datetime(2026, 1, 2, 4, 14, 5).astimezone().tzinfo
    token = seal({}, keys=transport, execution_id="e", attempt=1, expires_at=LATER.astimezone(tz))
    with pytest.raises(SealExpired):
        unseal(token, keys=transport, execution_id="e", attempt=1, now=LATER)


def test_every_tampered_character_fails_opaquely() -> None:
    transport = keys()
    token = sealed(transport)
    prefix = len("v1.t1.")
    for index in range(prefix, len(token)):
        replacement = "A" if token[index] != "A" else "B"
        tampered = token[:index] + replacement + token[index + 1 :]
        with pytest.raises(SealError):
            unseal(tampered, keys=transport, execution_id="exec-1", attempt=1, now=NOW)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-4],
        lambda t: t.replace("v1.", "v2.", 1),
        lambda t: t + ".extra",
        lambda t: "",
        lambda t: "v1.t1.",
        lambda t: "v1.t1.!!!!",
        lambda t: t.split(".")[2],
    ],
)
def test_malformed_tokens_fail_opaquely(mangle: object) -> None:
    transport = keys()
    token = mangle(sealed(transport))  # type: ignore[operator]
    with pytest.raises(SealError) as caught:
        unseal(token, keys=transport, execution_id="exec-1", attempt=1, now=NOW)
    assert str(caught.value) == "sealed values could not be opened"


def test_another_transport_key_cannot_unseal() -> None:
    token = sealed(keys("t1"))
    for other in (keys("t1"), keys("t2")):
        with pytest.raises(SealError):
            unseal(token, keys=other, execution_id="exec-1", attempt=1, now=NOW)


def test_rotated_transport_keys_still_unseal_tokens_of_the_old_key() -> None:
    old = keys("t1")
    token = sealed(old)
    rotated = old.with_primary(TransportKeys.generate("t2"))
    assert unseal(token, keys=rotated, execution_id="exec-1", attempt=1, now=NOW)
    assert sealed(rotated).startswith("v1.t2.")


def test_seal_errors_and_tracebacks_never_show_values(caplog: pytest.LogCaptureFixture) -> None:
    transport = keys()
    token = sealed(transport)
    try:
        unseal(token, keys=transport, execution_id="exec-1", attempt=1, now=LATER)
    except SealError as exc:
        rendered = "".join(
            traceback.TracebackException.from_exception(exc, capture_locals=True).format()
        )
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("keys=%r", transport)
    key = transport.primary
    for text in (rendered, caplog.text, repr(transport), f"{transport}"):
        assert PASSWORD not in text
        assert base64.urlsafe_b64encode(key.material).decode().rstrip("=") not in text
        assert key.material.hex() not in text
    assert repr(transport) == "TransportKeys(ids=('t1',))"


def test_naive_datetimes_are_refused() -> None:
    transport = keys()
    with pytest.raises(InvalidInput):
        seal({}, keys=transport, execution_id="e", attempt=1, expires_at=LATER.replace(tzinfo=None))
    token = seal({}, keys=transport, execution_id="e", attempt=1, expires_at=LATER)
    with pytest.raises(InvalidInput):
        unseal(token, keys=transport, execution_id="e", attempt=1, now=NOW.replace(tzinfo=None))


def test_only_secret_values_can_be_sealed() -> None:
    with pytest.raises(InvalidInput) as caught:
        seal({"password": PASSWORD}, keys=keys(), execution_id="e", attempt=1,  # type: ignore[dict-item]
             expires_at=LATER)
    assert PASSWORD not in str(caught.value)


def test_transport_keys_parse_and_serialize_round_trip() -> None:
    transport = TransportKeys([TransportKeys.generate("a"), TransportKeys.generate("b")])
    again = TransportKeys.parse(transport.serialize(), source="HUB_TRANSPORT_KEY")
    assert again.ids == ("a", "b")
    token = sealed(transport)
    assert unseal(token, keys=again, execution_id="exec-1", attempt=1, now=NOW)


@pytest.mark.parametrize("count", range(6))
def test_only_the_canonical_spelling_of_a_token_opens(count: int) -> None:
    # Values of every length modulo 3, so the last base64 character has unused bits.
    transport = keys()
    token = seal({"v": SecretValue(b"x" * count)}, keys=transport, execution_id="e",
                 attempt=1, expires_at=LATER)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for variant in {token[:-1] + c for c in alphabet} - {token}:
        with pytest.raises(SealError):
            unseal(variant, keys=transport, execution_id="e", attempt=1, now=NOW)
    for variant in (token + "=", token[:10] + "\n" + token[10:], token + " "):
        with pytest.raises(SealError):
            unseal(variant, keys=transport, execution_id="e", attempt=1, now=NOW)
