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
cost of a scan barely grows with the number of forms.
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

_FULL, _HEAD, _TAIL = 0, 1, 2
_SMALL_AUTOMATON = 2000

Range = tuple[int, int]


class Matcher:
    """An immutable automaton over `forms`; `find(text)` lists the ranges to mask."""

    __slots__ = ("_automaton", "_forms", "_kind", "_owner", "_widen_left", "_widen_right",
                 "size")

    def __init__(self, forms: Iterable[Form]) -> None:
        patterns: list[str] = []
        self._forms: list[str] = []
        # Parallel arrays indexed by pattern id: compact, and cheap to read on the hot path.
        self._kind = array("b")
        self._owner = array("l")
        self._widen_left = array("b")
        self._widen_right = array("b")
        for form in forms:
            owner = len(self._forms)
            self._forms.append(form.text)
            self._add(patterns, form.text, _FULL, owner, form.widen_left, form.widen_right)
            if len(form.text) > MIN_FRAGMENT:
                self._add(patterns, form.text[:MIN_FRAGMENT], _HEAD, owner)
                self._add(patterns, form.text[-MIN_FRAGMENT:], _TAIL, owner)
        self.size = len(self._forms)
        self._automaton = (
            ahocorasick_rs.AhoCorasick(
                patterns,
                matchkind=ahocorasick_rs.MatchKind.Standard,
                # Small runs are rebuilt on registration: the quickest build. Big ones are
                # scanned for every line: the faster, more compact scan.
                implementation=(ahocorasick_rs.Implementation.NoncontiguousNFA
                                if len(patterns) < _SMALL_AUTOMATON
                                else ahocorasick_rs.Implementation.ContiguousNFA),
                store_patterns=False,
            )
            if patterns
            else None
        )

    def _add(self, patterns: list[str], text: str, kind: int, owner: int,
             widen_left: int = 0, widen_right: int = 0) -> None:
        patterns.append(text)
        self._kind.append(kind)
        self._owner.append(owner)
        self._widen_left.append(widen_left)
        self._widen_right.append(widen_right)

    def find(self, text: str) -> list[Range]:
        """The ranges of `text` to mask (unsorted, possibly overlapping)."""
        if self._automaton is None:
            return []
        hits = self._automaton.find_matches_as_indexes(text, overlapping=True)
        if not hits:
            return []
        ranges: list[Range] = []
        fragments: list[tuple[int, int, int]] = []
        for pattern, start, end in hits:
            kind = self._kind[pattern]
            if kind != _FULL:
                fragments.append((pattern, start, end))
                continue
            if self._widen_left[pattern]:
                start = _widen_left(text, start, self._widen_left[pattern])
            if self._widen_right[pattern]:
                end = _widen_right(text, end, self._widen_right[pattern])
            ranges.append((start, end))
        for pattern, start, end in fragments:
            # A head or tail inside a whole match is the usual case: nothing to check.
            if any(s <= start and end <= e for s, e in ranges):
                continue
            form = self._forms[self._owner[pattern]]
            if self._kind[pattern] == _HEAD:
                fragment = _head_fragment(text, start, form)
            else:
                fragment = _tail_fragment(text, end, form)
            if fragment is not None:
                ranges.append(fragment)
        return ranges


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
