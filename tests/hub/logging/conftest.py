"""Fixtures for the scrubber's tests: a fresh scrubber, and a strategy of awkward secrets."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from hub.logging import Scrubber

# Quotes, backslashes, URL and base64 specials, non-ASCII and newlines; no lower-case letters
# (the filler text around a secret is lower case) and none of the letters of "[REDACTED]".
SECRET_ALPHABET = "BFGHIJKLMNOPQSUVWXYZ0123456789'\"\\%+/=&<>é€漢\n -_.:@"
FILLER_ALPHABET = "abcdefghijklmnopqrstuvwxyz ,;"

secret_values = st.text(alphabet=SECRET_ALPHABET, min_size=8, max_size=40).filter(
    lambda s: len(s.strip()) >= 8
)
filler = st.text(alphabet=FILLER_ALPHABET, max_size=30)


@pytest.fixture
def scrubber() -> Scrubber:
    return Scrubber(background=False)
