"""The forms of a value: each encoding it can leak in, and base64 widened to whole groups."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus

from hub.logging.forms import MIN_FORM_LENGTH, forms_of


def texts(value: str | bytes) -> set[str]:
    return {form.text for form in forms_of(value)}


def test_forms_include_url_json_repr_and_html_escapes() -> None:
    value = "p@ss wörd/'\"<&>%+"
    found = texts(value)
    expected = {
        value, quote(value, safe=""), quote(value), quote_plus(value, safe=""), quote_plus(value),
        json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1], repr(value.encode())[2:-1],
        "p@ss wörd/&#x27;&quot;&lt;&amp;&gt;%+",
    }
    assert expected <= found


def test_celery_saferepr_style_quote_escaping_is_a_form() -> None:
    # L22: celery.utils.saferepr escapes the quote and leaves backslashes alone.
    assert "it\\'s\\a secret" in texts("it's\\a secret")


def test_base64_forms_cover_all_three_alignments_in_both_alphabets() -> None:
    value = b"\xfb\xff secret bytes \xfe"
    found = texts(value)
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + value).decode()
        core = [f for f in found if f in encoded]
        assert core, shift
        assert any(f in encoded.replace("+", "-").replace("/", "_") for f in found)


def test_base64_form_widens_to_the_whole_groups_the_value_touches() -> None:
    # L17: GitHub leaves `OlBh` visible for base64(":Password123!"); it decodes to ":Pa".
    shifted = [f for f in forms_of("Password123!") if f.widen_left]
    assert {f.widen_left for f in shifted} == {2, 3}


def test_each_long_enough_line_of_a_multiline_value_is_a_form() -> None:
    # L26/L27: a PEM key printed one line at a time.
    value = "-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n{\n}\n-----END KEY-----"
    found = texts(value)
    assert "MIIBOgIBAAJBAKj34GkxFhD9" in found
    assert "{" not in found and "}" not in found  # F02: one-character lines mask nothing


def test_no_form_but_the_value_itself_is_shorter_than_the_minimum() -> None:
    assert all(len(form.text) >= MIN_FORM_LENGTH for form in forms_of("abcdefgh\nxy"))
    # A floor lowered by the operator: the short value is still masked, its forms are not.
    assert [form.text for form in forms_of("ab1") if len(form.text) < MIN_FORM_LENGTH] == ["ab1"]


def test_undecodable_bytes_have_repr_and_base64_forms() -> None:
    value = b"\xff\xfe\x00binary-secret"
    found = texts(value)
    assert repr(value)[2:-1] in found
    assert base64.b64encode(value).decode().rstrip("=")[:-1] in "".join(found)
