"""The scrubber: every form of every registered value masked whole, whatever the order."""

from __future__ import annotations

import base64
import html
import json
import os
import threading
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.errors import InvalidInput
from hub.logging import REDACTED, Scrubber
from tests.hub.logging.conftest import filler, secret_values
from tests.hub.logging.leaks import leaked, windows

ENCODERS: dict[str, Callable[[str], str]] = {
    "raw": lambda v: v,
    "quote": lambda v: quote(v, safe=""),
    "quote_default": quote,
    "quote_plus": quote_plus,
    "json_ascii": lambda v: json.dumps(v)[1:-1],
    "json_native": lambda v: json.dumps(v, ensure_ascii=False)[1:-1],
    "repr": lambda v: repr(v)[1:-1],
    "repr_bytes": lambda v: repr(v.encode())[2:-1],
    "html": html.escape,
    "json_of_repr": lambda v: json.dumps(repr({"k": v}))[1:-1],
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _no_leak(output: str, value: str, *around: str) -> None:
    ignore = {w for w in windows(value) if any(w in text for text in around)}
    assert leaked(output, value, ignore=ignore) == set()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=secret_values, encoder=st.sampled_from(sorted(ENCODERS)), before=filler,
       after=filler)
def test_no_six_character_run_of_a_value_survives_in_any_form_or_position(
    value: str, encoder: str, before: str, after: str
) -> None:
    scrubber = Scrubber(background=False)
    scrubber.add(value)
    output = scrubber.scrub(before + ENCODERS[encoder](value) + after)
    assert REDACTED in output
    _no_leak(output, value, before, after)


@settings(max_examples=200, deadline=None)
@given(value=secret_values, head=st.binary(max_size=5), tail=st.binary(max_size=5),
       urlsafe=st.booleans(), padded=st.booleans())
def test_base64_of_a_value_at_any_alignment_leaves_no_encoded_character_visible(
    value: str, head: bytes, tail: bytes, urlsafe: bool, padded: bool
) -> None:
    # L16/L17: base64(user + ":" + secret) and base64(secret + "\n"), padded or trimmed.
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    encoded = encode(head + value.encode() + tail).decode()
    if not padded:
        encoded = encoded.rstrip("=")
    scrubber = Scrubber(background=False)
    scrubber.add(value)
    output = scrubber.scrub(f"Authorization: Basic {encoded} ok")
    _no_leak(output, value)
    # Every base64 character that carries a bit of the value is gone: decode what is left.
    visible = output.removeprefix("Authorization: Basic ").removesuffix(" ok")
    for piece in visible.split(REDACTED):
        assert len(piece) <= 4 * (len(head) // 3 + 1) + 4 * (len(tail) // 3 + 1)


@settings(max_examples=200, deadline=None)
@given(value=secret_values, before=filler, keep=st.integers(min_value=6, max_value=39))
def test_a_value_cut_by_truncation_does_not_leave_its_head_visible(
    value: str, before: str, keep: int
) -> None:
    # L29: Celery cuts reprs at 1024 characters and appends "...".
    keep = min(keep, len(value) - 1)
    if keep < 6:
        return
    scrubber = Scrubber(background=False)
    scrubber.add(value)
    for cut in (value[:keep] + "...", value[:keep] + "\u2026", value[:keep]):
        output = scrubber.scrub(before + cut)
        assert value[:keep] not in output
    # reprlib keeps the tail too: 'abc...xyz'
    output = scrubber.scrub("..." + value[-keep:] + " " + before)
    assert value[-keep:] not in output


@settings(max_examples=200, deadline=None)
@given(first=secret_values, extra=secret_values, before=filler, after=filler,
       order=st.booleans())
def test_a_value_that_is_a_prefix_of_another_never_leaves_the_longer_partly_visible(
    first: str, extra: str, before: str, after: str, order: bool
) -> None:
    # L30: Airflow's alternation masks `abcde12345` inside `abcde12345XYZ-tail-secret`.
    longer = first + extra
    scrubber = Scrubber(background=False)
    for value in ([first, longer] if order else [longer, first]):
        scrubber.add(value)
    output = scrubber.scrub(before + longer + after)
    # One mask; a value ending in a backslash may take the character it escapes with it.
    assert output.startswith(before + REDACTED) and output.count(REDACTED) == 1
    assert after.endswith(output.removeprefix(before + REDACTED))


def test_prefix_secrets_are_masked_whole_in_either_order() -> None:
    # L30, reproduced literally.
    for order in (["abcde12345", "abcde12345XYZ-tail-secret"],
                  ["abcde12345XYZ-tail-secret", "abcde12345"]):
        scrubber = Scrubber(background=False)
        for value in order:
            scrubber.add(value)
        assert scrubber.scrub("token=abcde12345XYZ-tail-secret") == "token=" + REDACTED


def test_overlapping_and_self_overlapping_secrets_are_masked_as_one_range() -> None:
    # L31: `abc123` + `123xyz` in `abc123xyz`; GH-T2 OverlappingSecrets and AdjacentSecrets.
    scrubber = Scrubber(min_length=6, background=False)
    scrubber.add("abc123zz")
    scrubber.add("123zzxyz")
    scrubber.add("abababab")
    assert scrubber.scrub("<abc123zzxyz>") == f"<{REDACTED}>"
    assert scrubber.scrub("<ababababab>") == f"<{REDACTED}>"
    assert scrubber.scrub("abc123zzabc123zz") == REDACTED


def test_values_and_forms_sharing_their_first_or_last_six_characters_are_each_masked_whole(
) -> None:
    # The automaton holds only each form's first and last six characters; forms that share
    # them (a value and its URL encoding, two values with one prefix) must each be checked.
    values = ["shared/head one", "shared/head two!", "one tail/shared", "two! tail/shared"]
    scrubber = Scrubber(background=False)
    scrubber.add_many(values[:2])
    for value in values[2:]:
        scrubber.add(value)
    for rebuilt in (False, True):
        if rebuilt:
            scrubber.compact()
        for value in values:
            for name, encode in ENCODERS.items():
                if name == "json_of_repr":  # wraps the value in a dict: not the form alone
                    continue
                text = f"a={encode(value)} b"
                assert scrubber.scrub(text) == f"a={REDACTED} b", (name, rebuilt)


def test_scrubbing_twice_changes_nothing_more() -> None:
    # L32: idempotence; the replacement itself is never a match.
    scrubber = Scrubber(background=False)
    scrubber.add("hunter2hunter2")
    once = scrubber.scrub("a hunter2hunter2 b")
    assert scrubber.scrub(once) == once == f"a {REDACTED} b"


def test_the_replacement_does_not_depend_on_the_length_of_the_value() -> None:
    scrubber = Scrubber(background=False)
    scrubber.add("short-sec")
    scrubber.add("a-much-longer-secret-value-indeed")
    assert scrubber.scrub("short-sec") == scrubber.scrub("a-much-longer-secret-value-indeed")


def test_a_mask_never_leaves_half_an_escape_that_would_break_a_json_line() -> None:
    # F10: `n1234567` registered, and the JSON text holds "\n1234567".
    scrubber = Scrubber(background=False)
    scrubber.add("n1234567")
    scrubber.add("u00e9-secret")
    line = json.dumps({"a": "\n1234567", "b": "\\u00e9-secret"})
    assert json.loads(scrubber.scrub(line)) == {"a": REDACTED, "b": "\\" + REDACTED}


@pytest.mark.parametrize("value", ["", "Q", "Seven77"])
def test_values_shorter_than_the_floor_are_refused_without_echoing_them(value: str) -> None:
    # F01/F02/F04: an empty or one-character secret would mask everything, and reveal itself.
    with pytest.raises(InvalidInput) as raised:
        Scrubber(background=False).add(value)
    assert "8 characters" in str(raised.value)
    assert value == "" or value not in str(raised.value)


def test_a_value_that_is_not_text_or_bytes_is_refused() -> None:
    with pytest.raises(InvalidInput):
        Scrubber().add(12345678)  # type: ignore[arg-type]


def test_a_common_word_inside_other_words_is_masked_only_when_registered() -> None:
    # F03/F05: nothing is masked that was not registered; what is, is masked everywhere.
    scrubber = Scrubber(background=False)
    assert scrubber.scrub("mypasswordfile airflow") == "mypasswordfile airflow"
    scrubber.add("passwordfile")
    assert scrubber.scrub("mypasswordfile") == "my" + REDACTED


def test_bytes_values_are_masked_in_their_text_and_repr_forms() -> None:
    scrubber = Scrubber(background=False)
    scrubber.add(b"byte-secret-\xc3\xa9")
    assert scrubber.scrub("x byte-secret-é y") == f"x {REDACTED} y"
    assert scrubber.scrub(repr(b"byte-secret-\xc3\xa9")) == f"b'{REDACTED}'"


def test_a_value_with_a_ttl_is_kept_at_least_that_long_then_dropped_at_a_rebuild() -> None:
    clock = Clock()
    scrubber = Scrubber(background=False, clock=clock)
    scrubber.add("task-secret-1", ttl=60)
    clock.now += 59
    scrubber.compact()
    assert scrubber.scrub("task-secret-1") == REDACTED
    clock.now += 2
    scrubber.compact()
    assert scrubber.scrub("task-secret-1") == "task-secret-1"
    assert len(scrubber) == 0


def test_adding_a_value_again_extends_its_lifetime() -> None:
    clock = Clock()
    scrubber = Scrubber(background=False, clock=clock)
    scrubber.add("task-secret-1", ttl=60)
    clock.now += 50
    scrubber.add("task-secret-1", ttl=60)
    clock.now += 50
    scrubber.compact()
    assert scrubber.scrub("task-secret-1") == REDACTED


def test_a_value_without_ttl_outlives_expiring_ones() -> None:
    clock = Clock()
    scrubber = Scrubber(background=False, clock=clock)
    scrubber.add("hub-wide-secret")
    scrubber.add("task-secret-1", ttl=1)
    clock.now += 10
    scrubber.compact()
    assert scrubber.scrub("hub-wide-secret task-secret-1") == f"{REDACTED} task-secret-1"


def test_the_number_of_values_is_bounded_by_evicting_the_least_recently_added() -> None:
    scrubber = Scrubber(background=False, max_values=10)
    for n in range(25):
        scrubber.add(f"secret-number-{n:03}")
    scrubber.compact()
    assert len(scrubber) == 10
    assert scrubber.scrub("secret-number-024") == REDACTED
    assert scrubber.scrub("secret-number-000") == "secret-number-000"


def test_many_small_registrations_are_folded_into_few_automata() -> None:
    scrubber = Scrubber(background=False)
    values = [f"secret-value-{n:04}" for n in range(200)]
    for value in values:
        scrubber.add(value)
    assert len(scrubber._matchers) <= 2 + 4
    assert all(scrubber.scrub(v) == REDACTED for v in values)


def test_values_added_while_other_threads_scrub_are_all_masked() -> None:
    scrubber = Scrubber()  # with the background compaction thread
    stop = threading.Event()
    errors: list[BaseException] = []

    def log_forever() -> None:
        try:
            while not stop.is_set():
                scrubber.scrub("nothing to see " * 20 + "secret-value-0001")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=log_forever) for _ in range(3)]
    for thread in threads:
        thread.start()
    values = [f"secret-value-{n:04}" for n in range(300)]
    try:
        for value in values:
            scrubber.add(value)
            # Masked from the moment add() returns, compaction or not.
            assert scrubber.scrub(f"x {value} y") == f"x {REDACTED} y"
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors
    assert all(scrubber.scrub(v) == REDACTED for v in values)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_keeps_the_values_and_can_add_more() -> None:
    scrubber = Scrubber()
    scrubber.add("parent-secret")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            scrubber.add("child-secret-1")
            ok = scrubber.scrub("parent-secret child-secret-1") == f"{REDACTED} {REDACTED}"
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    os.close(read)
    assert answer == b"1"


def test_a_value_accepted_under_a_lowered_floor_is_masked() -> None:
    scrubber = Scrubber(min_length=4, background=False)
    scrubber.add("pin4")
    assert scrubber.scrub("the pin4 is") == f"the {REDACTED} is"
