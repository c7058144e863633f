"""Envelope encryption of secret values with AES-256-GCM, under a ring of named master keys.

Each `encrypt` draws a fresh random 256-bit data key (DEK), encrypts the value with it, and
wraps the DEK under the ring's primary master key (KEK). A DEK encrypts exactly one value, so
nonce reuse under a DEK is impossible by construction; the KEK only ever wraps 32-byte DEKs.
Associated data binds the value ciphertext to the immutable ids of its row, and the wrapped
DEK to the same ids plus the KEK id, so a blob copied anywhere else fails to decrypt.

Every blob starts with a format version byte, then a 96-bit random nonce, then the GCM output.
Every failure on the way back is one opaque `CryptoError`: which check failed is not said.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.errors import ConfigurationError, CryptoError

KEY_BYTES = 32
NONCE_BYTES = 12
FORMAT_V1 = b"\x01"
_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_AAD_LABEL = b"hub-aad-v1"
_CHECK_PLAINTEXT = b"hub key check v1"


def associated_data(*parts: str | int) -> bytes:
    """Encode `parts` canonically: distinct part lists never give the same bytes.

    Each part carries a type tag and a length, after a fixed context label, so ("ab", "c"),
    ("a", "bc") and ("1",) vs (1,) all differ.
    """
    out = [_AAD_LABEL]
    for part in parts:
        if isinstance(part, bool) or not isinstance(part, str | int):
            raise TypeError(f"associated data parts are str or int, not {type(part).__name__}")
        tag, raw = (b"s", part.encode("utf-8")) if isinstance(part, str) else (b"i", b"%d" % part)
        out.append(tag + len(raw).to_bytes(4, "big") + raw)
    return b"".join(out)


class _HoldsKeyMaterial:
    """Never pickled (key material stays in memory); immutable, so a copy is itself."""

    __slots__ = ()

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("key material is never pickled")

    def __copy__(self) -> Self:
        return self  # immutable

    def __deepcopy__(self, memo: object) -> Self:
        return self


@dataclass(frozen=True, repr=False)
class MasterKey(_HoldsKeyMaterial):
    """A named 256-bit AES key: a master KEK here, a transport key in `hub.sealing`."""

    id: str
    material: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _KEY_ID.fullmatch(self.id):
            raise ConfigurationError(
                "a key id is 1-64 characters of letters, digits, '_' or '-', starting with "
                "a letter or digit"
            )
        if not isinstance(self.material, bytes) or len(self.material) != KEY_BYTES:
            raise ConfigurationError(f"key {self.id!r} must be exactly {KEY_BYTES} bytes")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MasterKey):
            return NotImplemented
        return self.id == other.id and hmac.compare_digest(self.material, other.material)

    def __hash__(self) -> int:
        return hash(self.id)  # equal keys share an id; the material stays out of hashes


class NamedKeys(_HoldsKeyMaterial):
    """An ordered set of named keys: the first one makes new blobs, all of them open old ones.

    The shared shape of the master `KeyRing` and `hub.sealing.TransportKeys`: parsing from a
    setting, serializing back, generating, and rotating (new primary, old keys kept to read).
    """

    def __init__(self, keys: Sequence[MasterKey]) -> None:
        keys = tuple(keys)
        if not keys:
            raise ConfigurationError(f"a {type(self).__name__} needs at least one key")
        if not all(isinstance(key, MasterKey) for key in keys):
            raise TypeError(f"a {type(self).__name__} holds MasterKey objects")
        by_id = {key.id: key for key in keys}
        if len(by_id) != len(keys):
            raise ConfigurationError(f"key ids in a {type(self).__name__} must be unique")
        self._keys = keys
        self._by_id = by_id

    @classmethod
    def parse(cls, text: str, *, source: str) -> Self:
        """Read `id:base64url,id:base64url` (or one entry per line; `#` starts a comment).

        `source` names where the text came from (a variable or a file) in error messages;
        those messages never contain the text itself.
        """
        keys = []
        entries = [
            entry.strip()
            for line in text.splitlines()
            for entry in line.split("#", 1)[0].split(",")
        ]
        for number, entry in enumerate((e for e in entries if e), start=1):
            key_id, colon, encoded = entry.partition(":")
            material = _decode_key(encoded.strip()) if colon else None
            if material is None or not _KEY_ID.fullmatch(key_id.strip()):
                raise ConfigurationError(
                    f"{source}: key entry {number} is not of the form 'id:base64url' with a "
                    f"{KEY_BYTES}-byte key (generate one with `hubctl keys generate`)"
                )
            keys.append(MasterKey(key_id.strip(), material))
        if not keys:
            raise ConfigurationError(f"{source}: no key found (expected 'id:base64url')")
        try:
            return cls(keys)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{source}: {exc.message}") from None

    def serialize(self) -> str:
        """The inverse of `parse`: one line, usable as an environment variable or a file."""
        return ",".join(
            f"{key.id}:{base64.urlsafe_b64encode(key.material).rstrip(b'=').decode('ascii')}"
            for key in self._keys
        )

    @staticmethod
    def generate(key_id: str | None = None) -> MasterKey:
        """A new random key; its default id tells its birth date, e.g. `k20261123a1b2`."""
        if key_id is None:
            key_id = f"k{datetime.now(UTC):%Y%m%d}{secrets.token_hex(2)}"
        return MasterKey(key_id, os.urandom(KEY_BYTES))

    @property
    def primary_id(self) -> str:
        return self._keys[0].id

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key.id for key in self._keys)

    def has(self, key_id: str) -> bool:
        return key_id in self._by_id

    def with_primary(self, key: MasterKey) -> Self:
        """A new ring where `key` makes new blobs and every other key still reads old ones."""
        known = self._by_id.get(key.id)
        if known is not None and known != key:
            # Replacing a key under its own id would orphan everything it wrapped.
            raise ConfigurationError(f"this {type(self).__name__} already has a key {key.id!r}")
        return type(self)([key, *(k for k in self._keys if k.id != key.id)])

    def without(self, key_id: str) -> Self:
        """A new ring without `key_id` (it must exist and must not be the last key)."""
        if key_id not in self._by_id:
            raise ConfigurationError(f"no key {key_id!r} in this {type(self).__name__}")
        return type(self)([key for key in self._keys if key.id != key_id])

    @property
    def primary(self) -> MasterKey:
        """The key that makes new blobs."""
        return self._keys[0]

    def get(self, key_id: str) -> MasterKey | None:
        """The key named `key_id`, or None."""
        return self._by_id.get(key_id)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(ids={self.ids!r})"


@dataclass(frozen=True, repr=False)
class Envelope:
    """One encrypted value as stored: three columns, none of them secret on its own."""

    #: Which master key wrapped the DEK (its own column, so rotation can select by it).
    kek_id: str
    #: version || nonce || AESGCM(kek).encrypt(dek, aad=wrap aad)
    wrapped_key: bytes
    #: version || nonce || AESGCM(dek).encrypt(plaintext, aad)
    ciphertext: bytes

    def __repr__(self) -> str:
        return f"Envelope(kek_id={self.kek_id!r}, ciphertext=<{len(self.ciphertext)} bytes>)"


class KeyRing(NamedKeys):
    """The master keys: envelope encryption, rotation by re-wrapping, and key checks."""

    def encrypt(self, plaintext: bytes, aad: bytes) -> Envelope:
        """Encrypt under a fresh DEK, wrapped by the primary key; both bound to `aad`."""
        _require_bytes(plaintext, aad)
        kek = self.primary
        dek = AESGCM.generate_key(bit_length=256)
        return Envelope(
            kek_id=kek.id,
            wrapped_key=_gcm_seal(kek.material, dek, _wrap_aad(kek.id, aad)),
            ciphertext=_gcm_seal(dek, plaintext, aad),
        )

    def decrypt(self, envelope: Envelope, aad: bytes) -> bytes:
        """The plaintext, or `CryptoError` for any failure (unknown key, tampering, wrong aad)."""
        # The work happens in a helper so that no frame left in a traceback holds the DEK.
        plaintext = self._decrypt_or_none(envelope, aad)
        if plaintext is None:
            raise CryptoError()
        return plaintext

    def rewrap(self, envelope: Envelope, aad: bytes) -> Envelope:
        """The same value re-wrapped under the primary key; the value ciphertext is untouched.

        Only the DEK is unwrapped, never the value, so a rotation job handles no plaintext.
        """
        wrapped = self._rewrap_key(envelope, aad)
        if wrapped is None:
            raise CryptoError()
        return Envelope(self.primary_id, wrapped, envelope.ciphertext)

    def make_check(self, key_id: str) -> bytes:
        """A small blob, kept in the database, that only the key `key_id` can open."""
        key = self.get(key_id)
        if key is None:
            raise CryptoError(f"no master key {key_id!r} in the key ring")
        return _gcm_seal(key.material, _CHECK_PLAINTEXT, associated_data("key-check", key_id))

    def verify_check(self, key_id: str, blob: bytes) -> bool:
        """True if this ring holds `key_id` and it is the very key that made `blob`."""
        key = self.get(key_id)
        if key is None:
            return False
        found = _gcm_open(key.material, blob, associated_data("key-check", key_id))
        return found == _CHECK_PLAINTEXT

    def _unwrap(self, envelope: Envelope, aad: bytes) -> bytes | None:
        if not isinstance(envelope, Envelope) or not isinstance(aad, bytes):
            return None
        kek = self.get(envelope.kek_id)
        if kek is None:
            return None
        return _gcm_open(kek.material, envelope.wrapped_key, _wrap_aad(kek.id, aad))

    def _decrypt_or_none(self, envelope: Envelope, aad: bytes) -> bytes | None:
        dek = self._unwrap(envelope, aad)
        if dek is None or len(dek) != KEY_BYTES:
            return None
        return _gcm_open(dek, envelope.ciphertext, aad)

    def _rewrap_key(self, envelope: Envelope, aad: bytes) -> bytes | None:
        dek = self._unwrap(envelope, aad)
        if dek is None or len(dek) != KEY_BYTES:
            return None
        return _gcm_seal(self.primary.material, dek, _wrap_aad(self.primary_id, aad))


def _wrap_aad(kek_id: str, aad: bytes) -> bytes:
    # The KEK id is bound too, so a wrapped DEK cannot be relabelled to another key.
    return b"dek" + associated_data(kek_id) + aad


def _gcm_seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT_V1 + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _gcm_open(key: bytes, blob: bytes, aad: bytes) -> bytes | None:
    """The plaintext of a v1 blob, or None for any failure (callers raise opaquely)."""
    if not isinstance(blob, bytes) or blob[:1] != FORMAT_V1:
        return None
    nonce = blob[1 : 1 + NONCE_BYTES]
    body = blob[1 + NONCE_BYTES :]
    if len(nonce) != NONCE_BYTES or len(body) < 16:
        return None
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        return None


def _decode_key(encoded: str) -> bytes | None:
    """32 bytes from base64url or standard base64, padded or not; None if it is neither."""
    text = encoded.replace("+", "-").replace("/", "_").rstrip("=")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == KEY_BYTES else None


def _require_bytes(*values: object) -> None:
    for value in values:
        if not isinstance(value, bytes):
            raise TypeError(f"expected bytes, not {type(value).__name__}")
