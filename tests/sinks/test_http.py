"""The HTTP sink against a real local webhook that checks credentials and counts keys."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sinks.base import InvalidParameters, PermanentSinkError, RetryableSinkError
from sinks.http import SINK, USER_AGENT, HttpParameters, HttpSink
from tests.sinks.sink_receivers import (
    PASSWORD,
    TOKEN,
    USERNAME,
    HttpReceiver,
    assert_hidden,
    free_port,
    make_delivery,
)

SECRETS = [TOKEN, PASSWORD]


def bearer(url: str, **extra: Any) -> HttpParameters:
    return SINK.validate({"url": url, "auth_token": TOKEN, **extra})


def test_bearer_token_reaches_the_server_and_stays_out_of_the_result(
    http_receiver: HttpReceiver,
) -> None:
    params = bearer(f"{http_receiver.url}/hook")
    result = SINK.deliver(params, make_delivery())
    assert result.summary == f"POST {http_receiver.url} -> 201"
    assert result.details == {"status_code": 201}
    assert http_receiver.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert_hidden(SECRETS, result, params)


def test_basic_auth_reaches_the_server(http_receiver: HttpReceiver) -> None:
    params = SINK.validate({"url": f"{http_receiver.url}/hook", "username": USERNAME,
                            "password": PASSWORD})
    assert SINK.deliver(params, make_delivery()).details["status_code"] == 201
    assert_hidden(SECRETS, params)


def test_redelivery_of_one_execution_carries_the_same_idempotency_key(
    http_receiver: HttpReceiver,
) -> None:
    params = bearer(f"{http_receiver.url}/hook")
    SINK.deliver(params, make_delivery(key="exec-1.key", attempt=1))
    SINK.deliver(params, make_delivery(key="exec-1.key", attempt=2))
    assert http_receiver.distinct_keys == {"exec-1.key"}
    SINK.deliver(params, make_delivery(key="exec-2.key"))
    assert http_receiver.distinct_keys == {"exec-1.key", "exec-2.key"}


def test_requests_name_the_hub_as_user_agent(http_receiver: HttpReceiver) -> None:
    SINK.deliver(bearer(f"{http_receiver.url}/hook"), make_delivery())
    assert http_receiver.requests[0]["headers"]["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("hub")


def test_body_defaults_to_the_event_payload(http_receiver: HttpReceiver) -> None:
    delivery = make_delivery()
    SINK.deliver(bearer(f"{http_receiver.url}/hook"), delivery)
    sent = http_receiver.requests[0]
    assert json.loads(sent["body"]) == delivery.payload
    assert sent["headers"]["Content-Type"] == "application/json"


def test_explicit_body_method_and_headers_are_sent(http_receiver: HttpReceiver) -> None:
    params = bearer(f"{http_receiver.url}/hook", method="put", body={"text": "hello"},
                    headers={"X-Team": "ops"})
    SINK.deliver(params, make_delivery())
    sent = http_receiver.requests[0]
    assert (sent["method"], json.loads(sent["body"])) == ("PUT", {"text": "hello"})
    assert sent["headers"]["X-Team"] == "ops"


def test_get_sends_no_body(http_receiver: HttpReceiver) -> None:
    SINK.deliver(bearer(f"{http_receiver.url}/hook", method="GET"), make_delivery())
    assert http_receiver.requests[0]["body"] == b""


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503])
def test_throttling_and_server_errors_are_retryable(http_receiver: HttpReceiver,
                                                    status: int) -> None:
    with pytest.raises(RetryableSinkError) as caught:
        SINK.deliver(bearer(f"{http_receiver.url}/status/{status}"), make_delivery())
    assert str(status) in str(caught.value)
    assert caught.value.retry_after == 7.0
    assert_hidden(SECRETS, caught.value)


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_other_client_errors_are_permanent(http_receiver: HttpReceiver, status: int) -> None:
    with pytest.raises(PermanentSinkError) as caught:
        SINK.deliver(bearer(f"{http_receiver.url}/status/{status}"), make_delivery())
    assert_hidden(SECRETS, caught.value)


def test_rejected_token_is_permanent_and_never_quoted(http_receiver: HttpReceiver) -> None:
    wrong = "tok-Wr0ng-9d1f-bearer-value"
    params = SINK.validate({"url": f"{http_receiver.url}/hook", "auth_token": wrong})
    with pytest.raises(PermanentSinkError) as caught:
        SINK.deliver(params, make_delivery())
    assert "401" in str(caught.value)
    assert_hidden([wrong], caught.value)


def test_error_snippet_is_short_and_cuts_out_an_echoed_credential(
    http_receiver: HttpReceiver,
) -> None:
    with pytest.raises(RetryableSinkError) as caught:
        SINK.deliver(bearer(f"{http_receiver.url}/status/500"), make_delivery())
    message = str(caught.value)
    assert "you sent Bearer ***" in message
    assert len(message) < 250


def test_echoed_basic_credentials_are_cut_out_too(http_receiver: HttpReceiver) -> None:
    params = SINK.validate({"url": f"{http_receiver.url}/status/500", "username": USERNAME,
                            "password": PASSWORD})
    with pytest.raises(RetryableSinkError) as caught:
        SINK.deliver(params, make_delivery())
    assert "you sent Basic ***" in str(caught.value)


def test_refused_connection_is_retryable() -> None:
    with pytest.raises(RetryableSinkError) as caught:
        SINK.deliver(bearer(f"http://127.0.0.1:{free_port()}/hook"), make_delivery())
    assert "ConnectError" in str(caught.value)
    assert_hidden(SECRETS, caught.value)


def test_timeout_is_retryable_and_capped_by_the_delivery_timeout(
    http_receiver: HttpReceiver,
) -> None:
    params = bearer(f"{http_receiver.url}/slow", timeout=30)
    with pytest.raises(RetryableSinkError) as caught:
        SINK.deliver(params, make_delivery(timeout=0.2))
    assert "timed out" in str(caught.value)


def test_query_string_stays_out_of_the_summary(http_receiver: HttpReceiver) -> None:
    result = SINK.deliver(bearer(f"{http_receiver.url}/hook?sig=qs-S3cr3t"), make_delivery())
    assert result.summary == f"POST {http_receiver.url} -> 201"
    assert http_receiver.requests[0]["path"] == "/hook?sig=qs-S3cr3t"


def test_a_secret_webhook_path_stays_out_of_summaries_and_errors(
        http_receiver: HttpReceiver) -> None:
    # Slack-style webhooks carry the credential in the path; a `url` bound to a SECRET is
    # registered whole, and a shown prefix of it would not be masked.
    secret_path = "/services/T0/B0/XXXXsecretpath"
    ok = SINK.deliver(bearer(f"{http_receiver.url}/hook{secret_path}?sig=abc"), make_delivery())
    assert secret_path not in ok.summary and "services" not in ok.summary
    with pytest.raises(PermanentSinkError) as caught:
        SINK.deliver(bearer(f"{http_receiver.url}/status/404{secret_path}"), make_delivery())
    assert "services" not in str(caught.value)


def test_credentials_inside_the_url_are_refused_without_echo() -> None:
    with pytest.raises(InvalidParameters) as caught:
        SINK.validate({"url": f"https://someone:{PASSWORD}@x.example/hook"})
    assert caught.value.problems[0][0] == "url"
    assert_hidden([PASSWORD], caught.value)


def test_injected_transport_receives_the_request() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202)

    sink = HttpSink(transport=httpx.MockTransport(answer))
    result = sink.deliver(bearer("https://receiver.example/hook"), make_delivery())
    assert result.details["status_code"] == 202
    assert seen[0].headers["Idempotency-Key"] == "exec-1.key"


@pytest.mark.parametrize("header", ["Authorization", "proxy-authorization", "Idempotency-Key"])
def test_reserved_headers_are_refused_without_echoing_their_value(header: str) -> None:
    with pytest.raises(InvalidParameters) as caught:
        SINK.validate({"url": "https://x.example", "headers": {header: f"Bearer {TOKEN}"}})
    assert [where for where, _ in caught.value.problems] == ["headers"]
    assert_hidden([TOKEN], caught.value)


def test_token_and_basic_auth_are_mutually_exclusive() -> None:
    with pytest.raises(InvalidParameters) as caught:
        SINK.validate({"url": "https://x.example", "auth_token": TOKEN, "username": USERNAME,
                       "password": PASSWORD})
    assert "mutually exclusive" in str(caught.value)
    assert_hidden(SECRETS, caught.value)


def test_only_http_and_https_urls_are_accepted() -> None:
    with pytest.raises(InvalidParameters) as caught:
        SINK.validate({"url": "file:///etc/passwd"})
    assert caught.value.problems[0][0] == "url"


def test_parameter_schema_marks_token_and_password_as_credentials() -> None:
    properties = SINK.parameter_schema()["properties"]
    assert properties["auth_token"]["x-credential"] and properties["password"]["x-credential"]
    assert "x-credential" not in properties["username"]
