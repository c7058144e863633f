"""The SMTP sink against a real aiosmtpd server that requires AUTH."""

from __future__ import annotations

from email import message_from_bytes
from typing import Any

import pytest

from sinks.base import InvalidParameters, PermanentSinkError, RetryableSinkError
from sinks.smtp import SINK, SmtpParameters, message_id
from tests.sinks.sink_receivers import (
    PASSWORD,
    USERNAME,
    SmtpReceiver,
    assert_hidden,
    free_port,
    make_delivery,
)

# The test server takes AUTH without TLS on purpose (loopback only); aiosmtpd warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def smtp_params(receiver: SmtpReceiver, **changes: Any) -> SmtpParameters:
    values = {"host": receiver.host, "port": receiver.port, "tls": "none",
              "username": USERNAME, "password": PASSWORD, "from_address": "hub@example.org",
              "to": ["ops@example.org"], "subject": "Order 7", "body": "Order 7 was created."}
    return SINK.validate({**values, **changes})


def test_mail_arrives_after_auth_with_a_message_id_from_the_idempotency_key(
    smtp_receiver: SmtpReceiver,
) -> None:
    params = smtp_params(smtp_receiver, cc=["audit@example.org"])
    result = SINK.deliver(params, make_delivery(key="exec-1.key"))
    assert smtp_receiver.logins == [USERNAME]
    [envelope] = smtp_receiver.envelopes
    assert sorted(envelope.rcpt_tos) == ["audit@example.org", "ops@example.org"]
    mail = message_from_bytes(envelope.original_content or b"")
    assert mail["Message-ID"] == "<exec-1.key@hub>"
    assert (mail["Subject"], mail["X-Hub-Event-Type"]) == ("Order 7", "order.created")
    assert str(mail.get_payload()).strip() == "Order 7 was created."
    assert result.details["message_id"] == "<exec-1.key@hub>"
    assert_hidden([PASSWORD], result, params)


def test_redelivery_of_one_execution_sends_the_same_message_id(
    smtp_receiver: SmtpReceiver,
) -> None:
    params = smtp_params(smtp_receiver)
    SINK.deliver(params, make_delivery(key="exec-1.key", attempt=1))
    SINK.deliver(params, make_delivery(key="exec-1.key", attempt=2))
    SINK.deliver(params, make_delivery(key="exec-2.key"))
    ids = [message_from_bytes(e.original_content or b"")["Message-ID"]
           for e in smtp_receiver.envelopes]
    assert ids == ["<exec-1.key@hub>", "<exec-1.key@hub>", "<exec-2.key@hub>"]


def test_a_key_unfit_for_a_message_id_gets_a_stable_digest() -> None:
    assert message_id("a key <with> spaces") == message_id("a key <with> spaces")
    assert message_id("a key <with> spaces") != message_id("another key")
    assert " " not in message_id("a key <with> spaces")


def test_wrong_password_is_permanent_and_never_quoted(smtp_receiver: SmtpReceiver) -> None:
    wrong = "pw-Wr0ng-31aa-password-value"
    params = smtp_params(smtp_receiver, password=wrong)
    with pytest.raises(PermanentSinkError) as caught:
        SINK.deliver(params, make_delivery())
    assert "authentication rejected (535)" in str(caught.value)
    assert smtp_receiver.envelopes == []
    assert_hidden([wrong, PASSWORD], caught.value, params)


def test_refused_connection_is_retryable(smtp_receiver: SmtpReceiver) -> None:
    params = smtp_params(smtp_receiver, port=free_port())
    with pytest.raises(RetryableSinkError) as caught:
        SINK.deliver(params, make_delivery())
    assert_hidden([PASSWORD], caught.value)


def test_temporary_data_refusal_is_retryable(smtp_receiver: SmtpReceiver) -> None:
    smtp_receiver.fail_data_with = "451 4.3.0 queue full"
    with pytest.raises(RetryableSinkError) as caught:
        SINK.deliver(smtp_params(smtp_receiver), make_delivery())
    assert "451" in str(caught.value)


def test_permanent_data_refusal_is_permanent(smtp_receiver: SmtpReceiver) -> None:
    smtp_receiver.fail_data_with = "554 5.6.0 message rejected"
    with pytest.raises(PermanentSinkError):
        SINK.deliver(smtp_params(smtp_receiver), make_delivery())


def test_unknown_recipient_is_permanent(smtp_receiver: SmtpReceiver) -> None:
    with pytest.raises(PermanentSinkError) as caught:
        SINK.deliver(smtp_params(smtp_receiver, to=["nobody@example.org"]), make_delivery())
    assert "nobody@example.org" in str(caught.value)


def test_only_temporarily_refused_recipients_are_retryable(smtp_receiver: SmtpReceiver) -> None:
    with pytest.raises(RetryableSinkError):
        SINK.deliver(smtp_params(smtp_receiver, to=["temp@example.org"]), make_delivery())


def test_partly_refused_recipients_still_deliver_and_are_reported(
    smtp_receiver: SmtpReceiver,
) -> None:
    params = smtp_params(smtp_receiver, to=["ops@example.org", "nobody@example.org"])
    result = SINK.deliver(params, make_delivery())
    assert result.details["refused"] == ["nobody@example.org"]
    assert smtp_receiver.envelopes[0].rcpt_tos == ["ops@example.org"]


def test_line_breaks_in_headers_are_refused(smtp_receiver: SmtpReceiver) -> None:
    with pytest.raises(InvalidParameters) as caught:
        smtp_params(smtp_receiver, subject="hi\r\nBcc: victim@example.org")
    assert [where for where, _ in caught.value.problems] == ["subject"]
    assert "victim" not in str(caught.value)


def test_username_without_password_is_refused(smtp_receiver: SmtpReceiver) -> None:
    with pytest.raises(InvalidParameters):
        smtp_params(smtp_receiver, password=None)


def test_parameter_schema_marks_the_password_as_credential() -> None:
    properties = SINK.parameter_schema()["properties"]
    assert properties["password"]["x-credential"] is True
    assert "x-credential" not in properties["username"]
