"""A plaintext secret held in memory, wrapped so that nothing but `reveal()` shows it.

Every way Python turns an object into text (`repr`, `str`, `format`, f-strings, `%r` logging,
tracebacks that render locals) sees a mask. Pickling is refused, so a value cannot slip into
a broker message, a cache or a result backend by accident; the only way across a process
boundary is `hub.sealing`.
"""

from __future__ import annotations

import hmac
from typing import NoReturn

from hub.errors import CryptoError

MASK = "[REDACTED]"


class SecretValue:
    """Plaintext held in memory; repr/str/format/f-strings show a mask, never the value."""

    __slots__ = ("_value",)

    # Equality is constant-time and by value; a hash would be a value oracle kept in sets/dicts.
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, value: bytes | str) -> None:
        if isinstance(value, str):
            value = value.encode("utf-8")
        elif isinstance(value, bytearray | memoryview):
            value = bytes(value)
        elif not isinstance(value, bytes):
            # The type name is safe to say; the value is not.
            raise TypeError(f"SecretValue takes bytes or str, not {type(value).__name__}")
        self._value: bytes = value

    def reveal(self) -> bytes:
        """The plaintext. Call it only where the value is handed to the code that needs it."""
        return self._value

    def reveal_text(self) -> str:
        """The plaintext as text; an opaque `CryptoError` if it is not UTF-8."""
        try:
            return self._value.decode("utf-8")
        except UnicodeDecodeError:
            # `from None`: the decode error carries the offending bytes in its args.
            raise CryptoError("not text") from None

    def __repr__(self) -> str:
        return f"SecretValue({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, format_spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretValue):
            return NotImplemented
        return hmac.compare_digest(self._value, other._value)

    def __bool__(self) -> bool:
        # Truthy even when empty: "is there a secret" must not reveal "is it empty".
        return True

    def __reduce__(self) -> NoReturn:
        raise TypeError("a SecretValue is never pickled; seal it with hub.sealing instead")

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError("a SecretValue is never pickled; seal it with hub.sealing instead")

    def __copy__(self) -> SecretValue:
        return self

    def __deepcopy__(self, memo: object) -> SecretValue:
        return self
