"""Sandboxed STRING templates: payload and event only, strict, and nothing of Python's."""

from __future__ import annotations

import pytest

from hub.errors import InvalidInput
from hub.templates import TemplateFailed, check_template, is_template, render

EVENT = {"id": "e-1", "type": "order.created"}


def draw(text: str, payload: object = None) -> str:
    return render(text, payload={"id": 7, "items": [1, 2]} if payload is None else payload,
                  event=EVENT, where="parameter 'p'")


def test_plain_text_is_not_a_template_and_comes_back_unchanged() -> None:
    assert not is_template("a { b } c")
    assert draw("a { b } c") == "a { b } c"


def test_payload_and_event_fields_are_rendered() -> None:
    assert draw("{{ event.type }}/{{ payload.id }}/{{ payload['items'] | length }}") \
        == "order.created/7/2"


def test_filters_work_and_output_is_not_html_escaped() -> None:
    assert draw("{{ payload | tojson }}", {"q": "<a&b>"}) == '{"q": "\\u003ca\\u0026b\\u003e"}'
    assert draw("{{ payload.q }}", {"q": "<a&b>"}) == "<a&b>"


def test_a_missing_field_fails_loudly_instead_of_rendering_empty() -> None:
    with pytest.raises(TemplateFailed) as caught:
        draw("{{ payload.nope }}")
    assert "'p'" in caught.value.message


def test_a_syntax_error_is_caught_when_checked() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_template("{% if payload.x %}unterminated", where="parameter 'p'")
    assert "syntax error" in caught.value.message
    check_template("{{ payload.x }}", where="parameter 'p'")


@pytest.mark.parametrize("text", [
    "{{ payload.__class__ }}",
    "{{ payload.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__.__base__.__subclasses__() }}",
    "{{ event.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ lipsum.__globals__ }}",
    "{{ payload.items.append(3) }}",
    "{{ range.__self__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ config }}",
    "{{ request }}",
])
def test_the_sandbox_reaches_no_python_internals(text: str) -> None:
    try:
        output = draw(text, {"id": 1, "items": [1]})
    except TemplateFailed:
        return
    # Rendering nothing harmful is fine too: no module, class or function leaked through.
    assert "<" not in output and "module" not in output and "class" not in output


def test_nothing_but_payload_and_event_is_in_scope() -> None:
    for name in ("secrets", "secret", "env", "os", "settings", "store"):
        with pytest.raises(TemplateFailed):
            draw("{{ " + name + " }}")


@pytest.mark.parametrize("text", ["{{ 'x' * 100000000 }}", "{{ [1] * 100000000 }}",
                                  "{{ 2 ** 100000000 }}"])
def test_operators_that_would_build_huge_values_are_refused(text: str) -> None:
    with pytest.raises(TemplateFailed):
        draw(text)


def test_a_failure_inside_a_filter_names_only_the_error_kind() -> None:
    with pytest.raises(TemplateFailed) as caught:
        draw("{{ payload.n + 1 }}", {"n": "hunter2"})
    assert "TypeError" in caught.value.message and "hunter2" not in caught.value.message
