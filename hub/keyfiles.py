"""Where the hub's keys come from: settings, key files, or a first-run generated default.

Two kinds of key, found the same way, first match wins:
1. the variable itself (`HUB_MASTER_KEY`, `HUB_TRANSPORT_KEY`),
2. the file it names (`HUB_MASTER_KEY_FILE`, `HUB_TRANSPORT_KEY_FILE`),
3. the embedded default, `HUB_HOME/master.key` or `HUB_HOME/transport.key`,
4. when the caller allows it (a first run), a new key written to that default file.

Key files must be private to their owner (mode 0600), are created atomically and never
half-written, and are never silently replaced. Without a key the hub refuses to start; it
never falls back to storing or sending plaintext. Workers load only the transport key.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import SecretStr

from hub.config import Settings
from hub.crypto import KeyRing, NamedKeys
from hub.errors import ConfigurationError
from hub.sealing import TransportKeys

Keys = TypeVar("Keys", bound=NamedKeys)


@dataclass(frozen=True)
class _KeyKind:
    """How to find one kind of key."""

    name: str
    variable: str
    filename: str
    value: Callable[[Settings], SecretStr | None]
    file: Callable[[Settings], Path | None]
    missing_reason: str
    generated_advice: str

    @property
    def file_variable(self) -> str:
        return f"{self.variable}_FILE"


_MASTER = _KeyKind(
    name="master key",
    variable="HUB_MASTER_KEY",
    filename="master.key",
    value=lambda settings: settings.master_key,
    file=lambda settings: settings.master_key_file,
    missing_reason="the database holds encrypted secrets and no master key was given",
    generated_advice="back it up",
)
_TRANSPORT = _KeyKind(
    name="transport key",
    variable="HUB_TRANSPORT_KEY",
    filename="transport.key",
    value=lambda settings: settings.transport_key,
    file=lambda settings: settings.transport_key_file,
    missing_reason="no transport key was given (workers need the same one as the hub)",
    generated_advice="give the same key to every worker",
)


def load_master_keyring(settings: Settings, *, may_generate: bool) -> KeyRing:
    """The master key ring; with `may_generate`, a first run creates `HUB_HOME/master.key`."""
    return _load(settings, _MASTER, KeyRing, may_generate=may_generate)


def load_transport_keys(settings: Settings, *, may_generate: bool) -> TransportKeys:
    """The transport keys; with `may_generate`, a first run creates `HUB_HOME/transport.key`."""
    return _load(settings, _TRANSPORT, TransportKeys, may_generate=may_generate)


def master_key_source(settings: Settings) -> str:
    """Where the master key comes (or would come) from: `HUB_MASTER_KEY` or a file path."""
    return _source(settings, _MASTER)


def transport_key_source(settings: Settings) -> str:
    """Where the transport key comes (or would come) from: `HUB_TRANSPORT_KEY` or a path."""
    return _source(settings, _TRANSPORT)


def save_master_keyring(settings: Settings, ring: KeyRing) -> Path:
    """Replace the master key file with `ring` (atomically, mode 0600) and return its path.

    Refused when the ring comes from `HUB_MASTER_KEY`: the hub cannot change its own
    environment, so the operator sets the new value (the CLI prints it once).
    """
    if _given(_MASTER.value(settings)):
        raise ConfigurationError(
            "the master key comes from HUB_MASTER_KEY, which the hub cannot change: "
            "set HUB_MASTER_KEY to the new key ring yourself"
        )
    path = _file_path(settings, _MASTER)
    _write_key_file(path, ring.serialize(), replace=True)
    return path


def _load(settings: Settings, kind: _KeyKind, keys: type[Keys], *, may_generate: bool) -> Keys:
    value = kind.value(settings)
    if value is not None and _given(value):
        return keys.parse(value.get_secret_value(), source=kind.variable)
    path = _file_path(settings, kind)
    if kind.file(settings) is not None:
        if not path.exists():
            raise ConfigurationError(f"{kind.file_variable} names {path}, which does not exist")
        return keys.parse(_read_key_file(path), source=f"{path} ({kind.file_variable})")
    if path.exists():
        return keys.parse(_read_key_file(path), source=str(path))
    if not may_generate:
        raise ConfigurationError(
            f"{kind.missing_reason}: set {kind.variable} or {kind.file_variable} "
            f"(there is no key file at {path} either)"
        )
    created = _write_key_file(path, keys([keys.generate()]).serialize(), replace=False)
    ring = keys.parse(_read_key_file(path), source=str(path))
    if created:
        # Said once, by the process that made the key: losing it loses every secret.
        print(
            f"hub: generated a new {kind.name} in {path} (mode 0600); {kind.generated_advice}",
            file=sys.stderr,
        )
    return ring


def _source(settings: Settings, kind: _KeyKind) -> str:
    if _given(kind.value(settings)):
        return kind.variable
    return str(_file_path(settings, kind))


def _given(value: SecretStr | None) -> bool:
    # An empty variable counts as unset, as shells and compose files often leave them.
    return value is not None and value.get_secret_value().strip() != ""


def _file_path(settings: Settings, kind: _KeyKind) -> Path:
    return kind.file(settings) or settings.home / kind.filename


def _read_key_file(path: Path) -> str:
    """The file's text, if only its owner may read or write it."""
    try:
        with path.open("rb") as handle:
            mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
            if mode & 0o077:
                raise ConfigurationError(
                    f"key file {path} is open to other users (mode {mode:04o}): "
                    f"run `chmod 600 {path}`"
                )
            raw = handle.read()
    except OSError as exc:
        raise ConfigurationError(f"cannot read key file {path}: {exc.strerror}") from None
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise ConfigurationError(f"key file {path} is not a key file (not ASCII)") from None


def _write_key_file(path: Path, text: str, *, replace: bool) -> bool:
    """Write `text` to `path` with mode 0600, never half-written; False if it already existed.

    The text goes to a private temporary file first; then it is linked into place (which fails
    if another process was faster) or, with `replace`, renamed over the old file.
    """
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                os.fchmod(handle.fileno(), 0o600)  # whatever the umask said
                handle.write(text + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            if replace:
                os.replace(temporary, path)
            else:
                try:
                    os.link(temporary, path)
                except FileExistsError:
                    return False
        finally:
            temporary.unlink(missing_ok=True)
        _sync_folder(folder)
    except OSError as exc:
        raise ConfigurationError(f"cannot write key file {path}: {exc.strerror}") from None
    return True


def _sync_folder(folder: Path) -> None:
    # A key that vanishes in a crash takes every secret with it: make the new name durable.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
