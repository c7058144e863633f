"""SecretValue: the plaintext is reachable through reveal() and nothing else."""

from __future__ import annotations

import copy
import logging
import pickle
import traceback

import pytest

from hub.errors import CryptoError
from hub.secret_value import SecretValue

PLAIN = "hunter2-correct-horse"


def test_reveal_returns_the_bytes_and_text_given() -> None:
    assert SecretValue(PLAIN).reveal() == PLAIN.encode()
    assert SecretValue(PLAIN.encode()).reveal_text() == PLAIN
    assert SecretValue("pässwörd").reveal() == "pässwörd".encode()


def test_repr_str_format_and_fstrings_show_only_the_mask() -> None:
    value = SecretValue(PLAIN)
    # Every formatting route on purpose, the old ones included.
    shown = [repr(value), str(value), format(value, ">40"), f"{value}", f"{value!r}",
             "%s %r" % (value, value), "{}".format(value),  # noqa: UP031, UP032
             repr([value]), repr({"k": value})]
    assert repr(value) == "SecretValue('[REDACTED]')"
    assert str(value) == "[REDACTED]"
    for text in shown:
        assert PLAIN not in text


def test_percent_r_logging_shows_the_mask(caplog: pytest.LogCaptureFixture) -> None:
    value = SecretValue(PLAIN)
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("value=%r also %s", value, value)
    assert "[REDACTED]" in caplog.text
    assert PLAIN not in caplog.text


def test_traceback_with_locals_shows_only_the_mask() -> None:
    def fail(value: SecretValue) -> None:
        raise RuntimeError(f"could not use {value}")

    try:
        fail(SecretValue(PLAIN))
    except RuntimeError as exc:
        rendered = "".join(
            traceback.TracebackException.from_exception(exc, capture_locals=True).format()
        )
    assert "[REDACTED]" in rendered
    assert PLAIN not in rendered


def test_secret_value_cannot_be_pickled() -> None:
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError):
            pickle.dumps(SecretValue(PLAIN), protocol=protocol)


def test_copies_are_the_same_immutable_value() -> None:
    value = SecretValue(PLAIN)
    assert copy.copy(value) is value
    assert copy.deepcopy({"a": value})["a"] is value


def test_equality_compares_values_and_hashing_is_refused() -> None:
    assert SecretValue(PLAIN) == SecretValue(PLAIN.encode())
    assert SecretValue(PLAIN) != SecretValue(PLAIN + "x")
    assert SecretValue(PLAIN) != PLAIN
    with pytest.raises(TypeError):
        hash(SecretValue(PLAIN))


def test_empty_value_is_truthy_and_has_no_length() -> None:
    assert bool(SecretValue(b""))
    with pytest.raises(TypeError):
        len(SecretValue(PLAIN))  # type: ignore[arg-type]


def test_reveal_text_of_non_utf8_fails_opaquely() -> None:
    raw = b"\xff\xfe-not-text-\x80"
    with pytest.raises(CryptoError) as caught:
        SecretValue(raw).reveal_text()
    assert str(caught.value) == "not text"
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_other_types_are_refused_without_echoing_them() -> None:
    with pytest.raises(TypeError) as caught:
        SecretValue(12345678)  # type: ignore[arg-type]
    assert "12345678" not in str(caught.value)
