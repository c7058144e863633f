"""One compiled generation of the scrubber: an Aho-Corasick automaton over a set of forms.

A `Matcher` is immutable once built, so the logging hot path reads it without a lock. It
reports the ranges of a text to mask:

- every occurrence of every form, overlapping ones included (a form that is a prefix, suffix
  or overlap of another is found whole, whatever order the values were added in);
- base64 matches widened over the rest of the 4-character groups the value touches;
- fragments cut by truncation: text that ends at a boundary (end of the text, an ellipsis,
  or the separator the scrubber joins strings with) and is a prefix of a form, or starts at a
  boundary and is a suffix of one, at least `MIN_FRAGMENT` characters long. Celery cuts reprs
  at 1024 characters and appends `...`; without this rule the head of a secret would survive.

The automaton is the Rust `ahocorasick_rs` (an NFA): linear in the text, and the
cost of a scan barely grows with the number of forms. It holds only each form's first and last
`MIN_FRAGMENT` characters; whole matches are confirmed with `startswith` (see `Matcher`).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

import ahocorasick_rs

from hub.logging.forms import MIN_FORM_LENGTH, Form

#: The shortest truncated head or tail of a form that is masked.
MIN_FRAGMENT = MIN_FORM_LENGTH

#: Joins the strings of one record so that one scan covers them all; a boundary for fragments.
SEPARATOR = "\x00"
_ELLIPSES = ("...", "\u2026")
_BASE64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=")

_HEAD, _TAIL = 0, 1
_SMALL_AUTOMATON = 2000

Range = tuple[int, int]


class Matcher:
    """An immutable automaton over `forms`; `find(text)` lists the ranges to mask.

    The automaton holds only the first and last `MIN_FRAGMENT` characters of each form (its
    "keys"), never the whole form: every occurrence of a form starts with an occurrence of its
    head, so a head hit followed by `startswith` finds each whole match, and the same hit
    serves the truncated-head rule. Short keys make the automaton about a fifth of the states
    of one holding whole forms: a build takes that much less time (and Rust builds hold the
    GIL), and the scan touches less memory.
    """

    __slots__ = ("_automaton", "_codes", "_forms", "_offsets", "_widen_left", "_widen_right",
                 "size")

    def __init__(self, forms: Iterable[Form]) -> None:
        self._forms: list[str] = []
        self._widen_left = array("b")
        self._widen_right = array("b")
        # Key text -> codes `owner * 2 + kind`: forms often share a head (a value and its
        # URL-encoding), and one pattern per distinct key keeps every hit reported once.
        keys: dict[str, list[int]] = {}
        for form in forms:
            owner = len(self._forms)
            self._forms.append(form.text)
            self._widen_left.append(form.widen_left)
            self._widen_right.append(form.widen_right)
            keys.setdefault(form.text[:MIN_FRAGMENT], []).append(2 * owner + _HEAD)
            if len(form.text) > MIN_FRAGMENT:
                keys.setdefault(form.text[-MIN_FRAGMENT:], []).append(2 * owner + _TAIL)
        self.size = len(self._forms)
        # The codes of pattern p are _codes[_offsets[p]:_offsets[p + 1]]: compact arrays.
        self._offsets = array("l", [0])
        self._codes = array("l")
        for codes in keys.values():
            self._codes.extend(codes)
            self._offsets.append(len(self._codes))
        self._automaton = (
            ahocorasick_rs.AhoCorasick(
                list(keys),
                matchkind=ahocorasick_rs.MatchKind.Standard,
                # Small runs are rebuilt on registration: the quickest build. Big ones are
                # scanned for every line: the faster, more compact scan.
                implementation=(ahocorasick_rs.Implementation.NoncontiguousNFA
                                if len(keys) < _SMALL_AUTOMATON
                                else ahocorasick_rs.Implementation.ContiguousNFA),
                store_patterns=False,
            )
            if keys
            else None
        )

    def find(self, text: str) -> list[Range]:
        """The ranges of `text` to mask (unsorted, possibly overlapping)."""
        if self._automaton is None:
            return []
        hits = self._automaton.find_matches_as_indexes(text, overlapping=True)
        if not hits:
            return []
        forms, codes, offsets = self._forms, self._codes, self._offsets
        ranges: list[Range] = []
        fragments: list[tuple[int, int, int]] = []
        for pattern, start, end in hits:
            for index in range(offsets[pattern], offsets[pattern + 1]):
                owner, kind = divmod(codes[index], 2)
                form = forms[owner]
                if kind == _HEAD:
                    if text.startswith(form, start):
                        ranges.append(self._whole(text, owner, start, start + len(form)))
                    else:
                        fragments.append((kind, owner, start))
                # A tail that ends a whole match was reported with that match's head.
                elif not text.endswith(form, 0, end):
                    fragments.append((kind, owner, end))
        for kind, owner, at in fragments:
            key = (at, at + MIN_FRAGMENT) if kind == _HEAD else (at - MIN_FRAGMENT, at)
            # A head or tail inside a whole match is the usual case: nothing to check.
            if any(s <= key[0] and key[1] <= e for s, e in ranges):
                continue
            form = forms[owner]
            if kind == _HEAD:
                fragment = _head_fragment(text, at, form)
            else:
                fragment = _tail_fragment(text, at, form)
            if fragment is not None:
                ranges.append(fragment)
        return ranges

    def _whole(self, text: str, owner: int, start: int, end: int) -> Range:
        """A whole match, widened over the rest of the base64 groups it touches."""
        if self._widen_left[owner]:
            start = _widen_left(text, start, self._widen_left[owner])
        if self._widen_right[owner]:
            end = _widen_right(text, end, self._widen_right[owner])
        return start, end


def _widen_left(text: str, start: int, most: int) -> int:
    stop = max(0, start - most)
    while start > stop and text[start - 1] in _BASE64_CHARS:
        start -= 1
    return start


def _widen_right(text: str, end: int, most: int) -> int:
    stop = min(len(text), end + most)
    while end < stop and text[end] in _BASE64_CHARS:
        end += 1
    return end


def _head_fragment(text: str, start: int, form: str) -> Range | None:
    """`text[start:q]` if it is a cut-off head of `form` ending at a boundary `q`."""
    length = _common_prefix(text[start:start + len(form)], form)
    if length >= len(form):
        return None  # a whole match is reported as such
    # The value may itself contain dots: the boundary can lie inside the common part.
    for end in range(start + length, start + MIN_FRAGMENT - 1, -1):
        if _is_boundary_after(text, end):
            return (start, end)
    return None


def _tail_fragment(text: str, end: int, form: str) -> Range | None:
    """`text[b:end]` if it is a tail of `form` starting at a boundary `b` (`abc...xyz`)."""
    window = text[max(0, end - len(form)):end]
    length = _common_prefix(window[::-1], form[::-1])
    if length >= len(form):
        return None
    for start in range(end - length, end - MIN_FRAGMENT + 1):
        if _is_boundary_before(text, start):
            return (start, end)
    return None


def _common_prefix(first: str, second: str) -> int:
    """The length of the longest common prefix (a binary search over C-speed comparisons)."""
    low, high = 0, min(len(first), len(second))
    while low < high:
        middle = (low + high + 1) // 2
        if first[:middle] == second[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _is_boundary_after(text: str, index: int) -> bool:
    return index == len(text) or text.startswith((SEPARATOR, *_ELLIPSES), index)


def _is_boundary_before(text: str, index: int) -> bool:
    return index == 0 or text.endswith((SEPARATOR, *_ELLIPSES), 0, index)
