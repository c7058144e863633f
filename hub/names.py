"""The one rule for names people choose: secret keys, parameter and definition names, tenants.

A name is ASCII letters, digits, '_', '.' and '-', starts with a letter or '_', and is at
most some number of characters long: `KEY_LENGTH` for a secret key (and so for a parameter,
Event Type, Action or Automation name, since a `SECRET` parameter's value is a key), less for
a tenant. The limit is each caller's; the characters, and how a refusal says them, are here.
"""

from __future__ import annotations

import re

from hub.errors import InvalidInput

__all__ = ["CHARACTERS", "KEY_LENGTH", "check_name", "is_valid_name", "name_rule"]

#: The longest secret key (and parameter or definition name).
KEY_LENGTH = 128
#: The characters rule as refusals state it.
CHARACTERS = "letters, digits, '_', '.' or '-', starting with a letter or '_'"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def is_valid_name(name: object, *, max_length: int = KEY_LENGTH) -> bool:
    """True for a str of 1 to `max_length` characters that follows the rule."""
    return (isinstance(name, str) and 0 < len(name) <= max_length
            and _NAME.fullmatch(name) is not None)


def name_rule(max_length: int = KEY_LENGTH) -> str:
    """The whole rule in words, e.g. "1 to 128 characters of letters, digits, ..."."""
    return f"1 to {max_length} characters of {CHARACTERS}"


def check_name(name: object, *, field: str, max_length: int = KEY_LENGTH) -> str:
    """`name` if it is valid, else `InvalidInput` "<field>: <the rule>" naming `field`.

    The message never repeats `name`: a pasted password is a classic in a name field.
    """
    if not is_valid_name(name, max_length=max_length):
        raise InvalidInput(f"{field}: {name_rule(max_length)}", field=field)
    assert isinstance(name, str)
    return name
