"""Typed parameters of Event Types and Actions: `{name, type, value}` and their validation.

A parameter's type is one of `STRING NUMBER BOOLEAN JSON SECRET`. A `SECRET` parameter holds
the *key* of a secret, never its value: the hub resolves the key just before dispatch. Because
authors do paste credentials where a key belongs, a `SECRET` value that is not a valid key, or
that looks like a credential rather than a name, is refused, and the refusal never repeats it.
A `STRING` value may be a template over the event payload (see `hub.templates`); it is parsed
here, when its owner is saved, and rendered by `render_parameters` at dispatch.

Messages name the owner and the parameter, never a value: any value might be a pasted secret.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hub.errors import InvalidInput
from hub.names import CHARACTERS, KEY_LENGTH, is_valid_name
from hub.templates import check_template, render

__all__ = [
    "KEY_RULE",
    "MAX_PARAMETERS",
    "PARAMETER_TYPES",
    "ParameterSpec",
    "looks_like_credential",
    "merge_parameters",
    "parameters_from_json",
    "parameters_to_json",
    "parse_parameters",
    "render_parameters",
    "secret_keys",
]

STRING, NUMBER, BOOLEAN, JSON, SECRET = "STRING", "NUMBER", "BOOLEAN", "JSON", "SECRET"
PARAMETER_TYPES = (STRING, NUMBER, BOOLEAN, JSON, SECRET)

MAX_PARAMETERS = 100
MAX_VALUE_CHARS = 64 * 1024

# Parameter, event type, action and automation names follow the secret key rule of hub.names.
KEY_RULE = f"1 to {KEY_LENGTH} {CHARACTERS}"

# Well-known credential formats: vendors prefix their tokens precisely so they can be spotted.
_CREDENTIAL_PREFIXES = (
    "sk_live_", "sk_test_", "rk_live_", "rk_test_", "pk_live_", "whsec_",  # Stripe
    "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",  # GitHub
    "glpat-", "xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-", "xapp-",  # GitLab, Slack
    "eyJ",  # a base64 JSON object: a JWT
    "AIza", "ya29.", "npm_", "pypi-", "SG.", "dop_v1_", "shpat_", "hf_",
)
_CLOUD_KEY_ID = re.compile(r"(AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{12,}")
_PEM = "-----BEGIN"
# A generated secret has a long run without word separators; a name is made of short words.
_RANDOM_MIN_LENGTH = 20
_HEX_MIN_LENGTH = 32
# Fraction of adjacent characters that switch class (lower/upper/digit). About 0.6 for random
# base62 text, about 0.3 for CamelCase words with a trailing number.
_RANDOM_SWITCH_RATIO = 0.5


@dataclass(frozen=True)
class ParameterSpec:
    """One validated parameter. For `SECRET`, `value` is a secret key."""

    name: str
    type: str
    value: Any


def looks_like_credential(text: str) -> bool:
    """True when `text` is shaped like a token or key rather than a name someone chose."""
    if text.startswith(_CREDENTIAL_PREFIXES) or _PEM in text:
        return True
    if _CLOUD_KEY_ID.fullmatch(text):
        return True
    # Judge each separated part: a name is made of short words, a token has a long random run.
    return any(_looks_random(part) for part in re.split(r"[_.\-]", text))


def _looks_random(part: str) -> bool:
    if len(part) >= _HEX_MIN_LENGTH and re.fullmatch(r"[0-9a-f]+|[0-9A-F]+", part):
        return any(c.isdigit() for c in part) and any(c.isalpha() for c in part)
    if len(part) < _RANDOM_MIN_LENGTH:
        return False
    if not (any(c.islower() for c in part) and any(c.isupper() for c in part)
            and any(c.isdigit() for c in part)):
        return False
    classes = [0 if c.islower() else 1 if c.isupper() else 2 for c in part]
    switches = sum(a != b for a, b in itertools.pairwise(classes))
    ratio = switches / (len(part) - 1)
    return ratio >= _RANDOM_SWITCH_RATIO or (len(part) >= _HEX_MIN_LENGTH and ratio >= 0.35)


def parse_parameters(raw: Sequence[Mapping[str, Any]], *, owner: str) -> list[ParameterSpec]:
    """Validate `[{name, type, value}, ...]`; `owner` (e.g. "action 'notify'") names the source.

    Raises InvalidInput naming the owner and the parameter, never echoing a value.
    """
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
        raise InvalidInput(f"{owner}: parameters must be a list of {{name, type, value}} objects")
    if len(raw) > MAX_PARAMETERS:
        raise InvalidInput(f"{owner}: at most {MAX_PARAMETERS} parameters")
    specs: list[ParameterSpec] = []
    seen: set[str] = set()
    for position, item in enumerate(raw, start=1):
        spec = _parse_one(item, owner=owner, position=position)
        if spec.name in seen:
            raise InvalidInput(f"{owner}: parameter {spec.name!r} is given twice")
        seen.add(spec.name)
        specs.append(spec)
    return specs


def _parse_one(item: Any, *, owner: str, position: int) -> ParameterSpec:
    if not isinstance(item, Mapping):
        raise InvalidInput(f"{owner}: parameter #{position} must be an object "
                           "with name, type and value")
    if set(item) != {"name", "type", "value"}:
        raise InvalidInput(f"{owner}: parameter #{position} must have exactly the fields "
                           "name, type and value")
    name = item["name"]
    if not is_valid_name(name):
        raise InvalidInput(f"{owner}: parameter #{position} has an invalid name; "
                           f"a name is {KEY_RULE}")
    kind = item["type"].upper() if isinstance(item["type"], str) else None
    if kind not in PARAMETER_TYPES:
        raise InvalidInput(f"{owner}: parameter {name!r} has an unknown type; "
                           f"allowed types: {', '.join(PARAMETER_TYPES)}")
    where = f"{owner}: parameter {name!r} of type {kind}"
    return ParameterSpec(name=name, type=kind, value=_check_value(kind, item["value"], where))


def _check_value(kind: str, value: Any, where: str) -> Any:
    if kind == SECRET:
        if not is_valid_name(value) or looks_like_credential(value):
            raise InvalidInput(f"{where} must name a secret key, not hold a value "
                               f"(a key is {KEY_RULE})")
        return value
    if kind == STRING:
        if not isinstance(value, str):
            raise InvalidInput(f"{where} needs a string, not {_json_kind(value)}")
        if len(value) > MAX_VALUE_CHARS:
            raise InvalidInput(f"{where} is longer than {MAX_VALUE_CHARS} characters")
        check_template(value, where=where)
        return value
    if kind == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"{where} needs a number, not {_json_kind(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(f"{where} needs a finite number")
        return value
    if kind == BOOLEAN:
        if not isinstance(value, bool):
            raise InvalidInput(f"{where} needs true or false, not {_json_kind(value)}")
        return value
    try:
        encoded = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidInput(f"{where} needs a JSON value") from None
    if len(encoded) > MAX_VALUE_CHARS:
        raise InvalidInput(f"{where} is larger than {MAX_VALUE_CHARS} characters of JSON")
    return json.loads(encoded)  # a private copy: later changes to the caller's object don't leak in


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def merge_parameters(event_type_params: Iterable[ParameterSpec],
                     action_params: Iterable[ParameterSpec]) -> list[ParameterSpec]:
    """The parameters one delivery gets: the event type's, then the action's; the action's
    parameter wins when both have the same name."""
    merged = {spec.name: spec for spec in event_type_params}
    merged.update((spec.name, spec) for spec in action_params)
    return list(merged.values())


def render_parameters(params: Sequence[ParameterSpec], *, payload: Any,
                      event: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values for the sink, with `STRING` templates rendered over the event.

    `SECRET` parameters are left out: the dispatcher resolves them from `secret_keys`.
    Raises `hub.templates.TemplateFailed` naming the parameter when a template fails.
    """
    values: dict[str, Any] = {}
    for spec in params:
        if spec.type == SECRET:
            continue
        if spec.type == STRING:
            values[spec.name] = render(spec.value, payload=payload, event=event,
                                       where=f"parameter {spec.name!r}")
        else:
            values[spec.name] = spec.value
    return values


def secret_keys(params: Iterable[ParameterSpec]) -> dict[str, str]:
    """Parameter name -> secret key, for the `SECRET` parameters."""
    return {spec.name: spec.value for spec in params if spec.type == SECRET}


def parameters_to_json(params: Iterable[ParameterSpec]) -> list[dict[str, Any]]:
    """The stored (and API) form: `[{name, type, value}, ...]`."""
    return [{"name": p.name, "type": p.type, "value": p.value} for p in params]


def parameters_from_json(stored: Iterable[Mapping[str, Any]]) -> list[ParameterSpec]:
    """Rebuild specs from rows written by `parameters_to_json` (already validated)."""
    return [ParameterSpec(name=p["name"], type=p["type"], value=p["value"]) for p in stored]
