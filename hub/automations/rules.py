"""The checks a definition passes before it is saved, and the two it meets on every event.

Save time: names, payload schemas (is the schema itself valid?), JMESPath conditions (do they
compile?), timeouts and retry policies, and parameters against the sink's own pydantic model.
Event time: does a payload satisfy its event type's schema, and does a condition hold.

Nothing here touches the database; the service calls these before it writes anything, so a
refusal changes nothing. Messages name fields, rules and parameters, never a value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import jmespath
import jsonschema
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from jsonschema.exceptions import SchemaError
from pydantic import ValidationError

from hub.errors import InvalidInput
from hub.names import is_valid_name
from hub.parameters import KEY_RULE, SECRET, STRING, ParameterSpec
from hub.templates import is_template
from sinks.base import Sink, SinkError

SinkLookup = Callable[[str], Sink[Any]]

DEFAULT_TIMEOUT = 30.0
MAX_TIMEOUT = 3600.0
MAX_ATTEMPTS = 20
MAX_BACKOFF = 24 * 3600.0
#: When an action gives no retry policy: three tries in all, the hub's backoff starting at 10 s.
DEFAULT_RETRY = {"attempts": 3, "backoff": 10.0}
MAX_CONDITION_CHARS = 4096
MAX_SCHEMA_CHARS = 256 * 1024
# The one placeholder a SECRET or templated parameter takes while the sink's model is checked.
_PLACEHOLDER = "placeholder"


def check_name(name: object, *, what: str) -> str:
    if not is_valid_name(name):
        raise InvalidInput(f"invalid {what} name: a name is {KEY_RULE}")
    assert isinstance(name, str)
    return name


def check_timeout(timeout: object) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise InvalidInput("timeout must be a number of seconds")
    if not (math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
        raise InvalidInput(f"timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds")
    return float(timeout)


def check_retry(retry: Mapping[str, Any] | None) -> tuple[int, float]:
    """`{"attempts": n, "backoff": s}` (either may be left out) -> (attempts, backoff)."""
    if retry is None:
        retry = {}
    if not isinstance(retry, Mapping) or not set(retry) <= {"attempts", "backoff"}:
        raise InvalidInput('retry must be an object {"attempts": n, "backoff": seconds}')
    attempts = retry.get("attempts", DEFAULT_RETRY["attempts"])
    backoff = retry.get("backoff", DEFAULT_RETRY["backoff"])
    if isinstance(attempts, bool) or not isinstance(attempts, int) \
            or not 1 <= attempts <= MAX_ATTEMPTS:
        raise InvalidInput(f"retry attempts must be a whole number of tries from 1 to "
                           f"{MAX_ATTEMPTS} (the first try included)")
    if isinstance(backoff, bool) or not isinstance(backoff, int | float) \
            or not (math.isfinite(backoff) and 0 <= backoff <= MAX_BACKOFF):
        raise InvalidInput(f"retry backoff must be from 0 to {MAX_BACKOFF:g} seconds")
    return attempts, float(backoff)


# -- payload schemas -------------------------------------------------------------------------

def check_schema(schema: Any) -> Any:
    """A valid JSON schema (or None), returned as a private JSON copy."""
    if schema is None:
        return None
    if not isinstance(schema, Mapping | bool):
        raise InvalidInput("schema must be a JSON schema object")
    try:
        text = json.dumps(schema, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidInput("schema must be plain JSON") from None
    if len(text) > MAX_SCHEMA_CHARS:
        raise InvalidInput(f"schema is larger than {MAX_SCHEMA_CHARS} characters")
    try:
        _validator(text)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path) or "(root)"
        raise InvalidInput(f"schema is not a valid JSON schema at {where}: {exc.message}") \
            from None
    return json.loads(text)


@lru_cache(maxsize=512)
def _validator(schema_text: str) -> Any:
    # Built once per distinct schema: ingest validates every event against the same few.
    schema = json.loads(schema_text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate_payload(schema: Any, payload: Any, *, event_type: str) -> None:
    """InvalidInput naming the JSON path and the rule broken; never the offending value."""
    if schema is None:
        return
    validator = _validator(json.dumps(schema))
    try:
        error = jsonschema.exceptions.best_match(validator.iter_errors(payload))
    except Exception as exc:  # e.g. a "$ref" that cannot be resolved: the schema's fault
        raise InvalidInput(f"the schema of event type {event_type!r} cannot be applied: "
                           f"{type(exc).__name__}") from None
    if error is None:
        return
    rule = json.dumps(error.validator_value, default=str)
    if len(rule) > 200:
        rule = rule[:200] + "..."
    raise InvalidInput(
        f"payload does not match the schema of event type {event_type!r} at "
        f"{error.json_path}: rule {error.validator!r} {rule}",
        path=error.json_path, rule=str(error.validator))


# -- conditions ------------------------------------------------------------------------------

def compile_condition(condition: str | None) -> str | None:
    """A JMESPath expression that parses, or None for "always"."""
    if condition is None:
        return None
    if not isinstance(condition, str) or not condition.strip():
        raise InvalidInput("condition must be a non-empty JMESPath expression, or null")
    if len(condition) > MAX_CONDITION_CHARS:
        raise InvalidInput(f"condition is longer than {MAX_CONDITION_CHARS} characters")
    try:
        _compiled(condition)
    except JMESPathError as exc:
        # jmespath's own message locates the error in the expression (the author's text).
        raise InvalidInput(f"condition is not a valid JMESPath expression: "
                           f"{_first_line(exc)}") from None
    return condition


@lru_cache(maxsize=2048)
def _compiled(condition: str) -> ParsedResult:
    return jmespath.compile(condition)


def condition_holds(condition: str | None, payload: Any) -> bool:
    """JMESPath truthiness of the result: false, null, "", [] and {} fail; 0 holds."""
    if condition is None:
        return True
    result = _compiled(condition).search(payload)
    return not (result is None or result is False or result in ("", [], {}))


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# -- parameters against a sink -----------------------------------------------------------------

def load_sink(sinks: SinkLookup, name: object) -> Sink[Any]:
    if not isinstance(name, str) or not name:
        raise InvalidInput("sink must be the name of an installed sink")
    try:
        return sinks(name)
    except SinkError as exc:
        raise InvalidInput(str(exc)) from None


def sink_fields(sink: Sink[Any]) -> dict[str, bool]:
    """The names a sink's model accepts -> whether that field is a credential."""
    credentials = sink.credential_fields()
    return {(info.alias or name): name in credentials
            for name, info in sink.parameters.model_fields.items()}


def check_action_parameters(sink: Sink[Any], params: Sequence[ParameterSpec], *,
                            owner: str) -> None:
    """Names the sink knows, credentials bound to SECRET, values of the right types.

    Completeness is not judged here: the event type may supply required fields; see
    `check_delivery`.
    """
    fields = sink_fields(sink)
    for spec in params:
        if spec.name not in fields:
            raise InvalidInput(
                f"{owner}: sink {sink.name!r} has no parameter {spec.name!r}; "
                f"its parameters: {', '.join(sorted(fields))}")
    _check_credentials(sink, fields, params, owner=owner)
    _check_with_model(sink, params, owner=owner, complete=False)


def check_delivery(sink: Sink[Any], event_type_params: Iterable[ParameterSpec],
                   action_params: Iterable[ParameterSpec], *, owner: str) -> list[str]:
    """Would the merged parameters make a complete, valid set for the sink? Returns warnings
    (event type parameters the sink does not take, which are not sent to it)."""
    fields = sink_fields(sink)
    merged = {spec.name: ("event type", spec) for spec in event_type_params}
    merged.update((spec.name, ("action", spec)) for spec in action_params)
    warnings = [f"{owner}: event type parameter {name!r} is not a parameter of sink "
                f"{sink.name!r} and will not be sent to it"
                for name in merged if name not in fields]
    used = [spec for name, (_, spec) in merged.items() if name in fields]
    _check_credentials(sink, fields, used, owner=owner)
    _check_with_model(sink, used, owner=owner, complete=True)
    return warnings


def _check_credentials(sink: Sink[Any], fields: Mapping[str, bool],
                       params: Iterable[ParameterSpec], *, owner: str) -> None:
    for spec in params:
        if fields.get(spec.name) and spec.type != SECRET:
            raise InvalidInput(
                f"{owner}: parameter {spec.name!r} is a credential of sink {sink.name!r}; "
                f"bind it to a SECRET parameter (a secret key), not a {spec.type} value")


def _check_with_model(sink: Sink[Any], params: Iterable[ParameterSpec], *, owner: str,
                      complete: bool) -> None:
    values: dict[str, Any] = {}
    stand_ins: set[str] = set()
    for spec in params:
        if spec.type == SECRET or (spec.type == STRING and is_template(spec.value)):
            # Known only at dispatch: check the name and let the model judge the rest then.
            values[spec.name] = _PLACEHOLDER
            stand_ins.add(spec.name)
        else:
            values[spec.name] = spec.value
    try:
        sink.parameters.model_validate(values)
        return
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
    problems = []
    for error in errors:
        loc = error["loc"]
        if loc and loc[0] in stand_ins:
            continue
        if not complete and (error["type"] == "missing" or not loc):
            continue  # the event type may still supply it; judged when an automation links
        where = ".".join(str(part) for part in loc) or "(parameters)"
        problems.append(f"{where}: {error['msg']}")
    if problems:
        raise InvalidInput(f"{owner}: parameters do not fit sink {sink.name!r}: "
                           + "; ".join(problems))
