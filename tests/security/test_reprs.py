"""Every object that carries a value or a token masks it in repr, str, format and %-logging.

These objects are what a careless `log.debug("%r", thing)` or a traceback frame would show;
none of them may show the plaintext in any of the usual encodings.
"""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from hub.api.schemas import SecretCreate, SecretUpdate, TokenCreated
from hub.crypto import KeyRing
from hub.secret_value import SecretValue
from hub.secrets.lookup import Found
from hub.secrets.records import Resolved
from hub.tokens import IssuedToken, TokenInfo
from tests.security.conftest import leaked, secret_text

VALUE = secret_text()
TOKEN = "sk_" + secret_text()
NOW = datetime(2026, 1, 1, tzinfo=UTC)
INFO = TokenInfo(id="t1", tenant_id="x", role="admin", description="", prefix=TOKEN[:11],
                 created_by="test", created_at=NOW, revoked_at=None, last_used_at=None)


def renderings(thing: Any) -> str:
    """Every text a log line or a traceback could make of `thing`."""
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "%s %r", (thing, thing), None)
    return "\n".join([repr(thing), str(thing), f"{thing}", f"{thing!r}", format(thing, ""),
                      "%s" % (thing,), record.getMessage(), repr([thing]),  # noqa: UP031
                      repr({"k": thing}), str((thing,))])


def _keyring() -> KeyRing:
    return KeyRing([KeyRing.generate("k1")])


OBJECTS: dict[str, Any] = {
    "SecretValue": SecretValue(VALUE),
    "SecretValue of bytes": SecretValue(b"\x00" + VALUE.encode()),
    "Resolved": Resolved(key="api", version=3, tenant="acme", type="text",
                         value=SecretValue(VALUE), tenant_id="x"),
    "Found": Found(key="api", secret_id="s", tenant_id="x", tenant_name="acme", depth=0,
                   version=1, type="text",
                   envelope=_keyring().encrypt(VALUE.encode(), b"aad")),
    "Envelope": _keyring().encrypt(VALUE.encode(), b"aad"),
    "SecretCreate": SecretCreate(key="api", value=VALUE),
    "SecretCreate of a file": SecretCreate(
        key="api", type="file",
        value=base64.b64encode(VALUE.encode()).decode()),
    "SecretUpdate": SecretUpdate(value=VALUE),
    "IssuedToken": IssuedToken(INFO, TOKEN),
    "TokenCreated": TokenCreated.of(INFO, TOKEN),
}


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_the_repr_and_str_of_each_value_carrier_mask_the_value(name: str) -> None:
    shown = renderings(OBJECTS[name])
    assert leaked(shown, VALUE, TOKEN[3:], base64.b64encode(VALUE.encode()).decode()) == []


def test_a_secret_request_model_dumped_to_json_masks_the_value() -> None:
    for model in (OBJECTS["SecretCreate"], OBJECTS["SecretUpdate"]):
        assert leaked(model.model_dump_json(), VALUE) == []
        assert leaked(str(model.model_dump()), VALUE) == []


def test_the_api_validation_error_of_a_secret_body_never_holds_the_value() -> None:
    # The route turns this into a problem; the exception itself must not carry the value
    # either, should anything ever log it.
    for body in ({"key": "bad key", "value": VALUE, "type": "password"},
                 {"key": "api", "value": [VALUE]}, {"key": "api", "value": {VALUE: 1}},
                 {"key": "api", "value": VALUE, "extra": VALUE}):
        with pytest.raises(ValidationError) as caught:
            SecretCreate.model_validate(body)
        assert leaked(str(caught.value) + repr(caught.value), VALUE) == [], body
    with pytest.raises(ValidationError) as caught:
        SecretUpdate.model_validate({"value": [VALUE], "expected_version": VALUE})
    assert leaked(str(caught.value), VALUE) == []
