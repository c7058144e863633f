"""The one name rule (hub.names) and the callers that share it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hub import names
from hub.errors import InvalidInput
from hub.parameters import parse_parameters
from hub.secrets import rules as secret_rules
from hub.tenants import NAME_LENGTH, check_tenant_name


@pytest.mark.parametrize("name", ["a", "_x", "api.key-2", "A" * names.KEY_LENGTH])
def test_names_of_the_rule_are_valid(name: str) -> None:
    assert names.is_valid_name(name)


@pytest.mark.parametrize("name", ["", "1abc", ".hidden", "-x", "has space", "é", "a/b",
                                  "A" * (names.KEY_LENGTH + 1), None, 7, b"bytes"])
def test_names_breaking_the_rule_are_invalid(name: object) -> None:
    assert not names.is_valid_name(name)


def test_the_limit_is_the_callers() -> None:
    assert names.is_valid_name("a" * 10, max_length=10)
    assert not names.is_valid_name("a" * 11, max_length=10)


def test_a_refusal_states_the_rule_and_field_but_never_the_name() -> None:
    pasted = "hunter2 is my password"
    with pytest.raises(InvalidInput) as caught:
        names.check_name(pasted, field="key", max_length=64)
    assert caught.value.message == f"key: 1 to 64 characters of {names.CHARACTERS}"
    assert caught.value.details == {"field": "key"}
    assert pasted not in str(caught.value)


@pytest.mark.parametrize("name", ["ok_name", "x" * 64, "bad name", "9lives", "x" * 65])
def test_secret_keys_tenants_and_parameters_agree_on_the_rule(name: str) -> None:
    def accepted(check: Callable[[str], object]) -> bool:
        try:
            check(name)
        except InvalidInput:
            return False
        return True

    expected = names.is_valid_name(name)
    assert accepted(secret_rules.check_key) == expected
    assert accepted(lambda n: parse_parameters(
        [{"name": n, "type": "STRING", "value": "v"}], owner="action 'a'")) == expected
    assert accepted(check_tenant_name) == names.is_valid_name(name, max_length=NAME_LENGTH)
