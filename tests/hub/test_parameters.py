"""Parameters: types, SECRET keys (never values), merging, and rendering for dispatch."""

from __future__ import annotations

import secrets
import string

import pytest

from hub.errors import InvalidInput
from hub.parameters import (
    PARAMETER_TYPES,
    ParameterSpec,
    looks_like_credential,
    merge_parameters,
    parameters_from_json,
    parameters_to_json,
    parse_parameters,
    render_parameters,
    secret_keys,
)
from hub.templates import TemplateFailed

OWNER = "action 'notify'"


def parse_one(type_: str, value: object, name: str = "p") -> ParameterSpec:
    return parse_parameters([{"name": name, "type": type_, "value": value}], owner=OWNER)[0]


def refusal(raw: list[dict[str, object]]) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_parameters(raw, owner=OWNER)
    return caught.value.message


def test_each_type_accepts_a_value_of_its_kind() -> None:
    specs = parse_parameters([
        {"name": "subject", "type": "STRING", "value": "hello {{ payload.id }}"},
        {"name": "port", "type": "NUMBER", "value": 587},
        {"name": "ratio", "type": "NUMBER", "value": 0.5},
        {"name": "verify_tls", "type": "BOOLEAN", "value": False},
        {"name": "headers", "type": "JSON", "value": {"X-Team": "ops", "n": [1, 2]}},
        {"name": "auth_token", "type": "SECRET", "value": "github.deploy_token"},
    ], owner=OWNER)
    assert [s.type for s in specs] == ["STRING", "NUMBER", "NUMBER", "BOOLEAN", "JSON", "SECRET"]
    assert specs[4].value == {"X-Team": "ops", "n": [1, 2]}


def test_type_names_are_case_insensitive_and_stored_upper_case() -> None:
    assert parse_one("secret", "db_password").type == "SECRET"


def test_unknown_type_is_refused_naming_the_parameter_and_the_allowed_types() -> None:
    message = refusal([{"name": "port", "type": "INTEGER", "value": 1}])
    assert "'port'" in message and OWNER in message
    for allowed in PARAMETER_TYPES:
        assert allowed in message


@pytest.mark.parametrize(("type_", "value"), [
    ("STRING", 5), ("NUMBER", "5"), ("NUMBER", True), ("NUMBER", float("nan")),
    ("BOOLEAN", "true"), ("BOOLEAN", 1), ("JSON", {1, 2}), ("SECRET", 42), ("STRING", None),
])
def test_a_value_of_the_wrong_kind_is_refused(type_: str, value: object) -> None:
    refusal([{"name": "p", "type": type_, "value": value}])


def test_a_wrong_kind_refusal_never_echoes_the_value() -> None:
    message = refusal([{"name": "port", "type": "NUMBER", "value": "hunter2-secret"}])
    assert "hunter2" not in message and "'port'" in message


@pytest.mark.parametrize("raw", [
    "not a list", [["name", "type", "value"]], [{"name": "p", "type": "STRING"}],
    [{"name": "p", "type": "STRING", "value": "x", "extra": 1}],
    [{"name": "9lives", "type": "STRING", "value": "x"}],
    [{"name": "has space", "type": "STRING", "value": "x"}],
    [{"name": "x" * 129, "type": "STRING", "value": "x"}],
])
def test_malformed_parameter_lists_are_refused(raw: object) -> None:
    with pytest.raises(InvalidInput):
        parse_parameters(raw, owner=OWNER)  # type: ignore[arg-type]


def test_duplicate_parameter_names_are_refused() -> None:
    message = refusal([{"name": "p", "type": "STRING", "value": "a"},
                       {"name": "p", "type": "NUMBER", "value": 1}])
    assert "'p'" in message and "twice" in message


def test_a_string_template_with_a_syntax_error_is_refused_when_saved() -> None:
    message = refusal([{"name": "subject", "type": "STRING", "value": "hi {{ payload.id "}])
    assert "'subject'" in message and "syntax" in message


@pytest.mark.parametrize("key", [
    "db_password", "_private", "github.deploy-token", "STRIPE_API_KEY", "a" * 128,
    "Prod_DB_Password_2024_v2", "StripeApiKeyProduction2024", "team-a.slack.webhook-url",
])
def test_a_secret_parameter_accepts_a_valid_key_name(key: str) -> None:
    assert parse_one("SECRET", key).value == key


LITERALS = [
    "sk_live_51HqLyjWDarjtT1zdp7dcXkQ",
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
    "AKIAIOSFODNN7EXAMPLE",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "-----BEGIN PRIVATE KEY-----",
    "hunter2 with spaces",
    "p@ssw0rd!",
    "x" * 129,
    "9Kq2ZrT7xLm4VwP8sN3bYc6D",  # generated password, mixed case and digits, no separators
    "5f4dcc3b5aa765d61d8327deb882cf99",  # 32 hex characters
    "",
]


@pytest.mark.parametrize("literal", LITERALS)
def test_a_literal_value_in_a_secret_parameter_is_refused_without_echoing_it(
        literal: str) -> None:
    message = refusal([{"name": "auth_token", "type": "SECRET", "value": literal}])
    assert "parameter 'auth_token' of type SECRET must name a secret key, not hold a value" \
        in message
    if literal:
        assert literal not in message
        assert literal[:6] not in message or literal[:6] in "parameter 'auth_token'"


def test_most_generated_tokens_look_like_credentials() -> None:
    alphabet = string.ascii_letters + string.digits
    rng = secrets.SystemRandom()
    samples = ["".join(rng.choice(alphabet) for _ in range(32)) for _ in range(500)]
    samples += [secrets.token_hex(20) for _ in range(500)]
    caught = sum(looks_like_credential(sample) for sample in samples)
    assert caught >= 0.95 * len(samples)


def test_merge_lets_the_action_win_on_the_same_name() -> None:
    event_type = [ParameterSpec("url", "STRING", "https://a.example"),
                  ParameterSpec("region", "STRING", "eu")]
    action = [ParameterSpec("url", "STRING", "https://b.example"),
              ParameterSpec("auth_token", "SECRET", "token")]
    merged = merge_parameters(event_type, action)
    assert {s.name: s.value for s in merged} == {
        "url": "https://b.example", "region": "eu", "auth_token": "token"}


def test_render_fills_templates_keeps_other_values_and_leaves_secrets_out() -> None:
    specs = [ParameterSpec("subject", "STRING", "order {{ payload.id }} ({{ event.type }})"),
             ParameterSpec("plain", "STRING", "no markup"),
             ParameterSpec("port", "NUMBER", 25),
             ParameterSpec("to", "JSON", ["a@example.com"]),
             ParameterSpec("password", "SECRET", "smtp_password")]
    values = render_parameters(specs, payload={"id": 7}, event={"id": "e1", "type": "order"})
    assert values == {"subject": "order 7 (order)", "plain": "no markup", "port": 25,
                      "to": ["a@example.com"]}
    assert secret_keys(specs) == {"password": "smtp_password"}


def test_render_names_the_parameter_whose_template_fails() -> None:
    with pytest.raises(TemplateFailed) as caught:
        render_parameters([ParameterSpec("subject", "STRING", "{{ payload.missing }}")],
                          payload={}, event={"id": "e1", "type": "t"})
    assert "'subject'" in caught.value.message


def test_stored_form_round_trips() -> None:
    specs = parse_parameters([{"name": "a", "type": "JSON", "value": [1, {"b": None}]},
                              {"name": "k", "type": "SECRET", "value": "key"}], owner=OWNER)
    assert parameters_from_json(parameters_to_json(specs)) == specs
