"""The sealed channel that carries resolved secret values from the hub to a worker.

The hub seals a delivery's values into one ASCII token, `v1.<key id>.<base64url blob>`, with
AES-256-GCM under a transport key that only the hub and the workers hold. The associated data
binds the token to its execution id and attempt, and the expiry travels inside the encrypted
part, so a token cannot be replayed for another execution, another attempt, or after its time,
and cannot be edited. The broker, its retries and its result backend only ever see the token.

Every failure is an opaque `SealError` (a `CryptoError`); an intact token past its time is a
`SealExpired`, so a worker can report "expired" distinctly. Neither says anything about values.
Clocks are injected: `unseal` is given `now`, it never reads the time itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.crypto import NONCE_BYTES, NamedKeys, associated_data
from hub.errors import CryptoError, InvalidInput
from hub.secret_value import SecretValue

TOKEN_VERSION = "v1"  # noqa: S105 (a format tag, not a secret)


class SealError(CryptoError):
    """A sealed token could not be opened: tampered, misdirected, or under an unknown key."""

    code = "seal_error"

    def __init__(self, message: str = "sealed values could not be opened") -> None:
        super().__init__(message)


class SealExpired(SealError):
    """An intact sealed token whose time has passed."""

    code = "seal_expired"

    def __init__(self, message: str = "sealed values expired") -> None:
        super().__init__(message)


class TransportKeys(NamedKeys):
    """The transport keys shared by the hub and the workers: the first seals, all unseal.

    Parsed from `HUB_TRANSPORT_KEY` / `HUB_TRANSPORT_KEY_FILE` in the same `id:base64url`
    form as the master key ring (see `hub.keyfiles.load_transport_keys`).
    """


def seal(
    values: Mapping[str, SecretValue],
    *,
    keys: TransportKeys,
    execution_id: str,
    attempt: int,
    expires_at: datetime,
) -> str:
    """Seal `values` for one attempt of one execution, openable until `expires_at`."""
    if not isinstance(keys, TransportKeys):
        raise TypeError("seal needs TransportKeys")
    _require_aware(expires_at, "expires_at")
    body: dict[str, str] = {}
    for name, value in values.items():
        if not isinstance(name, str) or not isinstance(value, SecretValue):
            raise InvalidInput("sealed values are a mapping of names to SecretValue")
        body[name] = base64.b64encode(value.reveal()).decode("ascii")
    plaintext = json.dumps(
        {"exp": expires_at.isoformat(), "values": body}, separators=(",", ":")
    ).encode("ascii")
    key = keys.primary
    nonce = os.urandom(NONCE_BYTES)
    blob = nonce + AESGCM(key.material).encrypt(
        nonce, plaintext, _seal_aad(key.id, execution_id, attempt)
    )
    return f"{TOKEN_VERSION}.{key.id}.{_encode(blob)}"


def unseal(
    token: str, *, keys: TransportKeys, execution_id: str, attempt: int, now: datetime
) -> dict[str, SecretValue]:
    """The values sealed for this execution and attempt; `SealError`/`SealExpired` otherwise."""
    _require_aware(now, "now")
    # The decryption happens in a helper so no frame left in a traceback holds the plaintext.
    opened = _open_token(token, keys, execution_id, attempt)
    if opened is None:
        raise SealError()
    expires_at, values = opened
    if now >= expires_at:
        raise SealExpired()
    return values


def _open_token(
    token: object, keys: TransportKeys, execution_id: str, attempt: int
) -> tuple[datetime, dict[str, SecretValue]] | None:
    """Decrypt and parse a token, or None for any failure (the caller raises opaquely)."""
    if not isinstance(token, str) or not isinstance(keys, TransportKeys):
        return None
    version, _, rest = token.partition(".")
    key_id, _, encoded = rest.partition(".")
    key = keys.get(key_id)
    if version != TOKEN_VERSION or key is None:
        return None
    try:
        blob = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        # Only the canonical spelling opens: no stray characters, no unused bits set.
        if _encode(blob) != encoded or len(blob) < NONCE_BYTES + 16:
            return None
        plaintext = AESGCM(key.material).decrypt(
            blob[:NONCE_BYTES], blob[NONCE_BYTES:], _seal_aad(key.id, execution_id, attempt)
        )
        body = json.loads(plaintext)
        expires_at = datetime.fromisoformat(body["exp"])
        values = {
            name: SecretValue(base64.b64decode(value, validate=True))
            for name, value in body["values"].items()
        }
    except (InvalidTag, binascii.Error, ValueError, TypeError, KeyError, AttributeError):
        return None
    if expires_at.tzinfo is None:
        return None
    return expires_at, values


def _encode(blob: bytes) -> str:
    return base64.urlsafe_b64encode(blob).rstrip(b"=").decode("ascii")


def _seal_aad(key_id: str, execution_id: str, attempt: int) -> bytes:
    if not isinstance(execution_id, str) or isinstance(attempt, bool) or not isinstance(
        attempt, int
    ):
        raise InvalidInput("execution_id is a string and attempt an integer")
    return associated_data("seal", TOKEN_VERSION, key_id, execution_id, attempt)


def _require_aware(moment: object, name: str) -> None:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidInput(f"{name} must be a timezone-aware datetime")
