"""The hub's error hierarchy: one root, a few kinds, mapped to HTTP once at the API edge.

Services raise these and know nothing of HTTP; `hub.api` maps each kind to a status code.
Errors on the secret path are opaque: their messages name keys and ids, never values, and
never echo the input that caused them.
"""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Root of every error the hub raises on purpose."""

    #: A short machine-readable code, stable for clients (`problem+json` `type` suffix).
    code = "hub_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        #: Extra, value-free facts for the client (field names, versions, references).
        self.details = details

    def __str__(self) -> str:
        return self.message


class ConfigurationError(HubError):
    """A setting is missing or wrong; the message says which and how to fix it."""

    code = "configuration_error"


class InvalidInput(HubError):
    """The caller sent something malformed; nothing was changed."""

    code = "invalid_input"


class NotFound(HubError):
    """The named thing does not exist (or is not visible to this caller)."""

    code = "not_found"


class Conflict(HubError):
    """The change collides with the current state (stale version, duplicate name, references)."""

    code = "conflict"


class PermissionDenied(HubError):
    """The caller is known but may not do this."""

    code = "permission_denied"


class Unauthenticated(HubError):
    """The caller could not be identified."""

    code = "unauthenticated"


class CryptoError(HubError):
    """Decryption or key handling failed. Opaque on purpose: it never says why in detail."""

    code = "crypto_error"

    def __init__(self, message: str = "decryption failed") -> None:
        super().__init__(message)


class SchemaOutOfDate(HubError):
    """The database schema is behind the code; run `hubctl db upgrade`."""

    code = "schema_out_of_date"


class Unavailable(HubError):
    """A service the hub needs (database, broker) cannot be reached right now."""

    code = "unavailable"
