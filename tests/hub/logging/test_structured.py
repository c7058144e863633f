"""The structured pass: keys and values at any depth, bytes, numbers and objects."""

from __future__ import annotations

import json
from typing import Any

import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.logging import REDACTED, Scrubber
from hub.logging.processors import ScrubbingRenderer
from hub.logging.structured import CYCLE, scrub_structure
from tests.hub.logging.conftest import filler, secret_values
from tests.hub.logging.leaks import leaked, windows

SECRET = "hunter2-hunter2"


def _scrubber(*values: str | bytes) -> Scrubber:
    scrubber = Scrubber(background=False)
    for value in values:
        scrubber.add(value)
    return scrubber


def test_a_record_without_secrets_is_returned_untouched() -> None:
    event = {"event": "hello", "n": 3, "nested": {"a": [1, 2, {"b": "c"}]}}
    assert scrub_structure(_scrubber(SECRET), event) is event


def test_a_secret_used_as_a_dict_key_is_masked() -> None:
    # L06: Airflow's test says "We don't mask dict keys".
    result = scrub_structure(_scrubber(SECRET), {"event": "x", "d": {SECRET: 1}})
    assert result["d"] == {REDACTED: 1}


def test_a_secret_nested_deeper_than_six_levels_is_masked() -> None:
    # L07: Airflow stops at depth 5.
    deep: Any = SECRET
    for _ in range(40):
        deep = [deep]
    result = scrub_structure(_scrubber(SECRET), {"event": "x", "deep": deep})
    assert SECRET not in repr(result) and REDACTED in repr(result)


def test_secrets_in_tuples_sets_and_frozensets_are_masked() -> None:
    event = {"event": "x", "t": (SECRET, 1), "s": {SECRET}, "f": frozenset({SECRET, "ok"})}
    result = scrub_structure(_scrubber(SECRET), event)
    assert result["t"] == (REDACTED, 1)
    assert result["s"] == {REDACTED}
    assert result["f"] == frozenset({REDACTED, "ok"})


def test_a_numeric_secret_is_masked_through_its_text() -> None:
    # L08: a PIN or numeric token.
    result = scrub_structure(_scrubber("12345678"), {"event": "x", "pin": 12345678})
    assert result["pin"] == REDACTED


def test_an_object_whose_repr_holds_a_secret_is_replaced_by_its_scrubbed_repr() -> None:
    # L09: Airflow returns unknown objects unchanged and the renderer calls repr later.
    class Connection:
        def __repr__(self) -> str:
            return f"Connection(password={SECRET!r})"

    result = scrub_structure(_scrubber(SECRET), {"event": "x", "conn": Connection()})
    assert result["conn"] == f"Connection(password='{REDACTED}')"


def test_an_object_whose_str_holds_a_secret_is_masked_too() -> None:
    class Token:
        def __str__(self) -> str:
            return f"token {SECRET}"

    result = scrub_structure(_scrubber(SECRET), {"event": "x", "t": Token()})
    assert SECRET not in str(result["t"])


def test_a_secret_inside_bytes_is_masked() -> None:
    # L10: a raw HTTP body.
    body = b"POST /x\r\nAuthorization: " + SECRET.encode()
    result = scrub_structure(_scrubber(SECRET), {"event": "x", "body": body})
    assert SECRET not in result["body"] and REDACTED in result["body"]


def test_a_cycle_is_cut_and_the_record_still_scrubbed() -> None:
    loop: dict[str, Any] = {"secret": SECRET}
    loop["self"] = loop
    result = scrub_structure(_scrubber(SECRET), {"event": "x", "loop": loop})
    assert result["loop"] == {"secret": REDACTED, "self": CYCLE}


def test_the_input_structure_is_never_mutated() -> None:
    # L40: Airflow rewrites exc.args in place; code that still holds the objects sees masks.
    inner = [SECRET]
    event = {"event": SECRET, "inner": inner}
    scrub_structure(_scrubber(SECRET), event)
    assert event == {"event": SECRET, "inner": [SECRET]} and inner == [SECRET]


def test_two_keys_masked_to_the_same_text_keep_both_values() -> None:
    result = scrub_structure(_scrubber(SECRET, "other-secret"),
                             {"event": "x", "d": {SECRET: 1, "other-secret": 2}})
    assert sorted(result["d"].values()) == [1, 2]


json_leaves = st.one_of(st.integers(), st.booleans(), st.none(), filler)


@settings(max_examples=200, deadline=None)
@given(value=secret_values, data=st.data())
def test_json_output_with_secrets_anywhere_stays_valid_json_and_holds_no_run_of_them(
    value: str, data: st.DataObject
) -> None:
    # F10 and the done-when criterion: keys, values, nested, inside longer strings.
    placed = st.one_of(json_leaves, st.just(value), filler.map(lambda f: f + value + f))
    tree = st.recursive(
        placed,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.one_of(filler, st.just(value)), children, max_size=4),
        ),
        max_leaves=12,
    )
    event = {"event": data.draw(placed.map(str)), "payload": data.draw(tree)}
    scrubber = _scrubber(value)
    render = ScrubbingRenderer(structlog.processors.JSONRenderer(), scrubber)
    line = render(None, "info", event)
    json.loads(line)
    ignore = {w for w in windows(value) if w in "event payload true false null"}
    assert leaked(line, value, ignore=ignore) == set()


@settings(max_examples=200, deadline=None)
@given(value=secret_values, around=filler, data=st.data())
def test_console_output_of_nested_reprs_holds_no_run_of_a_secret(
    value: str, around: str, data: st.DataObject
) -> None:
    # The console renderer reprs containers: quote styles depend on the whole string.
    leaf = data.draw(st.sampled_from([value, around + value, value + "'", '"' + value + "'"]))
    event = {"event": "x", "payload": {"list": [leaf], "tuple": (leaf,), leaf: 1}}
    scrubber = _scrubber(value)
    render = ScrubbingRenderer(structlog.dev.ConsoleRenderer(colors=False), scrubber)
    line = render(None, "info", event)
    ignore = {w for w in windows(value) if w in around or w in "event payload list tuple"}
    assert leaked(line, value, ignore=ignore) == set()
