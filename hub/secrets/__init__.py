"""The secret store: encrypted, versioned, per-tenant secrets (see `hub.secrets.store`)."""

from hub.secrets.keyring_checks import open_keyring
from hub.secrets.store import (
    Actor,
    DeleteReport,
    Reference,
    ReferenceFinder,
    Resolved,
    SecretInfo,
    SecretStore,
    VersionInfo,
)

__all__ = ["Actor", "DeleteReport", "Reference", "ReferenceFinder", "Resolved", "SecretInfo",
           "SecretStore", "VersionInfo", "open_keyring"]
