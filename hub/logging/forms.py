"""The forms a secret value takes in text: every encoding the scrubber must recognise.

A value rarely leaks verbatim. It leaks URL-encoded in a DSN, base64-encoded in a Basic auth
header, JSON-escaped inside an already serialized payload, `repr`-escaped inside a dict that
was logged with `%r`, HTML-escaped in a rendered page, hex-dumped, or one line at a time when
a PEM key is printed. `forms_of(value)` lists each of those forms once, so the matcher can
look for all of them in one pass.

Base64 is the subtle one: an encoded value's characters depend on where the value starts
within a 3-byte group and on the bytes around it. For each of the three alignments we keep
only the characters that the value alone determines (the "core"), and say how far a match must
be widened, within base64 characters, to cover the whole 4-character groups the value touches.
Otherwise the characters that mix one or two bits of the secret with its neighbours stay
visible (GitHub's `OlBh***` leak).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterator
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import NamedTuple
from urllib.parse import quote, quote_plus

#: Forms shorter than this are never registered on their own: they would mask common text
#: and turn the mask into an oracle (`Jan 3, 202[REDACTED]`).
MIN_FORM_LENGTH = 6

_XML_QUOTES = str.maketrans({'"': "&quot;", "'": "&apos;"})


class Form(NamedTuple):
    """One way a value is written: the text, and how far a match widens (base64 groups)."""

    text: str
    widen_left: int = 0
    widen_right: int = 0


def forms_of(value: str | bytes) -> list[Form]:
    """The value, and every distinct other form at least `MIN_FORM_LENGTH` characters long."""
    if isinstance(value, bytes):
        try:
            text: str | None = value.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        raw = value
    else:
        text = value
        raw = value.encode("utf-8", "surrogatepass")
    texts = list(_text_forms(text)) if text is not None else [raw.decode("latin-1")]
    texts.append(_bytes_repr_body(raw))
    # Hex dumps of a key or a file secret (digests, debug dumps), in both cases.
    hexed = raw.hex()
    texts.extend((hexed, hexed.upper()))
    # The value itself is always kept: if it was accepted, it is masked, however short.
    best = {form: Form(form) for index, form in enumerate(dict.fromkeys(texts))
            if index == 0 or len(form) >= MIN_FORM_LENGTH}
    for form in _base64_forms(raw):
        if len(form.text) < MIN_FORM_LENGTH:
            continue
        seen = best.get(form.text)
        if seen is not None:
            # Same text from two encodings: widen as far as the wider of the two asks.
            form = Form(form.text, max(seen.widen_left, form.widen_left),
                        max(seen.widen_right, form.widen_right))
        best[form.text] = form
    return list(best.values())


def _text_forms(text: str) -> Iterator[str]:
    # Registration computes these while other threads log: the JSON encoders are called
    # directly (what `json.dumps` of a str does, without its per-call set-up), and each URL
    # encoding is lower-cased once even where several encoders agree.
    yield text
    urls = [quote(text, safe=""), quote(text)]
    if " " in text:  # otherwise `quote_plus` is `quote`, and says so in its code
        urls += [quote_plus(text, safe=""), quote_plus(text)]
    for quoted in dict.fromkeys(urls):
        yield quoted
        # Some encoders write the hex digits in lower case (`%2f`).
        if "%" in quoted:
            yield _lower_percent_hex(quoted)
    json_ascii = encode_basestring_ascii(text)[1:-1]
    json_native = encode_basestring(text)[1:-1]
    repr_body = repr(text)[1:-1]
    yield from (json_ascii, json_native, repr_body, ascii(text)[1:-1])
    # Celery's saferepr escapes the quote and nothing else (`'it\\'s'`), as do shell-ish
    # quoters.
    naive = [text.replace("'", "\\'"), text.replace('"', '\\"')]
    yield from naive
    # The repr of a longer string that holds both quotes: single-quoted, `'` escaped.
    forced_single = repr(text + "'\"")[1:-4]
    yield forced_single
    # One level of composition: a repr that was then JSON-encoded (a logged dict rendered to a
    # JSON line) and a JSON document whose text was then repr'd (a message body dump).
    for inner in (repr_body, forced_single, *naive):
        yield encode_basestring_ascii(inner)[1:-1]
    yield repr(json_ascii)[1:-1]
    yield html.escape(text, quote=True)
    unquoted_html = html.escape(text, quote=False)
    yield unquoted_html
    yield unquoted_html.translate(_XML_QUOTES)
    if "\n" in text or "\r" in text:
        # A multi-line value (a PEM key) is often printed, and logged, one line at a time.
        for line in text.splitlines():
            yield line.strip()


def _lower_percent_hex(quoted: str) -> str:
    parts = quoted.split("%")
    return parts[0] + "".join("%" + part[:2].lower() + part[2:] for part in parts[1:])


def _bytes_repr_body(raw: bytes) -> str:
    return repr(raw)[2:-1]


def _base64_forms(raw: bytes) -> Iterator[Form]:
    """The value's core characters in base64 at each byte alignment, both alphabets."""
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + raw).decode("ascii")
        total = shift + len(raw)
        # Characters wholly made of the value's bits: from the first 6-bit slot that starts
        # at or after the value's first bit, to the last one that ends within its last bit.
        first = -(-8 * shift // 6)
        last = 8 * total // 6
        group_end = 4 * -(-total // 3)
        core = encoded[first:last]
        widen = (first, group_end - last)
        yield Form(core, *widen)
        yield Form(core.replace("+", "-").replace("/", "_"), *widen)
