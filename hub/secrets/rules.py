"""The secret store's input rules, checked before anything is encrypted or written.

Every refusal is an `InvalidInput` whose message names the field and the rule, and whose
details name the field: never the value, which may be the secret itself (a key field holding
a pasted password is a classic). Sizes come from the settings.
"""

from __future__ import annotations

import re

from hub import names
from hub.config import Settings
from hub.errors import InvalidInput
from hub.secret_value import SecretValue
from hub.secrets.models import TYPES

# RFC 6838 type/subtype, loosely; parameters such as '; charset=utf-8' allowed.
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*"
                         r"(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=[A-Za-z0-9!#$&^_.+\"-]+)*")
DESCRIPTION_LENGTH = 1000
NOTE_LENGTH = 1024
FILENAME_LENGTH = 255
DEFAULT_MEDIA_TYPE = "application/octet-stream"


def check_key(key: object, *, field: str = "key") -> str:
    """A secret key: the rule of `hub.names`, up to its `KEY_LENGTH`."""
    return names.check_name(key, field=field)


def check_type(type: object) -> str:
    if type not in TYPES:
        raise InvalidInput(f"type: one of {', '.join(TYPES)}", field="type")
    return str(type)


def as_secret(value: object) -> SecretValue:
    """`value` as a `SecretValue` (str and bytes are wrapped at once)."""
    if isinstance(value, SecretValue):
        return value
    if isinstance(value, str | bytes):
        return SecretValue(value)
    raise InvalidInput("value: a secret value is text or bytes", field="value")


def check_value(value: SecretValue, type: str, settings: Settings) -> None:
    """Size, encoding and the length floor below which a value cannot be masked in logs."""
    raw = value.reveal()
    if type == "text":
        if len(raw) > settings.max_text_bytes:
            raise InvalidInput(f"value: a text secret is at most {settings.max_text_bytes} "
                               "bytes of UTF-8", field="value")
        try:
            length = len(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise InvalidInput("value: a text secret must be valid UTF-8 (store binary data "
                               "as type 'file')", field="value") from None
    else:
        if len(raw) > settings.max_file_bytes:
            raise InvalidInput(f"value: a file secret is at most {settings.max_file_bytes} "
                               "bytes", field="value")
        length = len(raw)
    floor = settings.min_secret_length
    if length < floor:
        raise InvalidInput(
            f"value: a secret must be at least {floor} characters long; shorter values cannot "
            "be scrubbed from logs without wrecking ordinary text (every occurrence of a short "
            "string would be masked)", field="value")


def check_description(description: object) -> str:
    if not isinstance(description, str) or len(description) > DESCRIPTION_LENGTH:
        raise InvalidInput(f"description: text of at most {DESCRIPTION_LENGTH} characters",
                           field="description")
    return description


def check_note(note: object) -> str | None:
    if note is None:
        return None
    if not isinstance(note, str) or len(note) > NOTE_LENGTH:
        raise InvalidInput(f"note: text of at most {NOTE_LENGTH} characters", field="note")
    return note


def check_file_fields(type: str, filename: object, media_type: object) -> tuple[str | None,
                                                                                 str | None]:
    """(filename, media type) for a file secret; both must be absent for a text secret."""
    if type == "text":
        if filename is not None or media_type is not None:
            raise InvalidInput("filename, media_type: only a file secret has them",
                               field="filename")
        return None, None
    if (not isinstance(filename, str) or not 0 < len(filename) <= FILENAME_LENGTH
            or any(c in filename for c in "/\\\x00") or filename in (".", "..")
            or not filename.isprintable()):
        raise InvalidInput(f"filename: a file secret needs a file name of 1 to "
                           f"{FILENAME_LENGTH} printable characters without '/' or '\\'",
                           field="filename")
    media_type = DEFAULT_MEDIA_TYPE if media_type is None else media_type
    if not isinstance(media_type, str) or len(media_type) > 255 \
            or not _MEDIA_TYPE.fullmatch(media_type):
        raise InvalidInput("media_type: a media type such as 'application/x-pem-file'",
                           field="media_type")
    return filename, media_type


def check_expected_version(expected_version: object) -> int | None:
    if expected_version is None:
        return None
    if isinstance(expected_version, bool) or not isinstance(expected_version, int) \
            or expected_version < 1:
        raise InvalidInput("expected_version: a version number (1 or more)",
                           field="expected_version")
    return expected_version


def check_retention(max_versions: object, max_age_days: object) -> None:
    for name, number in (("max_versions", max_versions), ("max_age_days", max_age_days)):
        if number is not None and (isinstance(number, bool) or not isinstance(number, int)
                                   or number < 1):
            raise InvalidInput(f"{name}: a whole number of 1 or more", field=name)
