"""The leak criterion of the scrubber's tests: no 6-character run of a value or of its forms."""

from __future__ import annotations

from hub.logging.forms import MIN_FORM_LENGTH, forms_of

WINDOW = MIN_FORM_LENGTH


def windows(value: str | bytes) -> set[str]:
    """Every run of `WINDOW` consecutive characters of `value` and of each of its forms."""
    runs: set[str] = set()
    for form in forms_of(value):
        text = form.text
        runs.update(text[i:i + WINDOW] for i in range(len(text) - WINDOW + 1))
    return runs


def leaked(text: str, *values: str | bytes, ignore: frozenset[str] | set[str] = frozenset()
           ) -> set[str]:
    """The runs of `values` (and forms) found in `text`; empty means no leak."""
    found: set[str] = set()
    for value in values:
        found.update(run for run in windows(value) if run in text and run not in ignore)
    return found
