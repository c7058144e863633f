"""Sandboxed rendering of `STRING` parameters over an event's payload.

A `STRING` parameter may be a Jinja template such as ``"New order {{ payload.id }}"``. It is
parsed when its owner is saved (a syntax error is the author's mistake, so it is refused
then) and rendered just before dispatch with exactly two names in scope: ``payload`` (the
event's JSON payload) and ``event`` (``{"id": ..., "type": ...}``). Secrets are resolved
separately and never enter this context, so no template can read one.

The environment is Jinja's immutable sandbox (no private or dunder attributes, no mutating
methods), with `StrictUndefined` so a misspelt field fails loudly instead of sending an empty
string, autoescaping off (the output is not HTML), and guards against operators that would
build huge values (``"x" * 10**9``).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from hub.errors import InvalidInput

__all__ = ["MAX_OUTPUT_CHARS", "TemplateFailed", "check_template", "is_template", "render"]

#: A rendered value larger than this is refused: parameters are settings, not bulk data.
MAX_OUTPUT_CHARS = 1024 * 1024
_MAX_REPEAT = 64 * 1024
_MAX_EXPONENT = 256
# Only text containing one of these is a template; everything else is taken literally.
_MARKERS = ("{{", "{%", "{#")


class TemplateFailed(InvalidInput):
    """A template could not be rendered over this payload (missing field, refused operation)."""

    code = "template_failed"


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, also refusing operators that would allocate huge values."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > _MAX_EXPONENT:
                raise SecurityError("exponent too large")
            return left**right
        for count, other in ((right, left), (left, right)):
            if (isinstance(other, str | list | tuple) and isinstance(count, int)
                    and count * max(len(other), 1) > _MAX_REPEAT):
                raise SecurityError("repetition too large")
        return left * right


_environment = _Sandbox(undefined=StrictUndefined, autoescape=False)


def is_template(text: str) -> bool:
    """True when `text` contains Jinja markup and must be rendered."""
    return any(marker in text for marker in _MARKERS)


@lru_cache(maxsize=2048)
def _compiled(text: str) -> Template:
    # Templates are parsed once per process; dispatch renders the same few over and over.
    return _environment.from_string(text)


def check_template(text: str, *, where: str) -> None:
    """Refuse a template that does not parse; `where` names the parameter for the message."""
    if not is_template(text):
        return
    try:
        _compiled(text)
    except TemplateSyntaxError as exc:
        raise InvalidInput(
            f"{where}: template syntax error on line {exc.lineno}: {exc.message}"
        ) from None


def render(text: str, *, payload: Any, event: Mapping[str, Any], where: str) -> str:
    """Render `text` over the event; plain text comes back unchanged.

    Raises `TemplateFailed` naming `where` and the Jinja error (which names fields, not values).
    """
    if not is_template(text):
        return text
    try:
        output = _compiled(text).render(payload=payload, event=dict(event))
    except SecurityError:
        raise TemplateFailed(f"{where}: template tried an operation the sandbox forbids") from None
    except TemplateError as exc:
        raise TemplateFailed(
            f"{where}: template failed: {exc.message or type(exc).__name__}") from None
    except Exception as exc:  # a filter or operator raised on the payload's data
        raise TemplateFailed(f"{where}: template failed: {type(exc).__name__}") from None
    if len(output) > MAX_OUTPUT_CHARS:
        raise TemplateFailed(
            f"{where}: rendered value is larger than {MAX_OUTPUT_CHARS} characters")
    return output
