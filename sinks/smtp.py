"""The SMTP sink: send one plain-text e-mail per delivery.

The Message-ID is derived from the idempotency key (``<key@hub>``), so every attempt of one
execution sends the same Message-ID and a receiver (or a human) can recognise a redelivery.

Rejected credentials, refused recipients and SMTP 5xx are permanent; connection failures,
timeouts and SMTP 4xx are worth retrying. Server replies to AUTH are never quoted back.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from sinks.base import (
    Delivery,
    DeliveryResult,
    PermanentSinkError,
    RetryableSinkError,
    Sink,
    SinkError,
)

DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
REPLY_LENGTH = 100
# RFC 5322 dot-atom text: what may stand left of the '@' in a Message-ID as is.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


class SmtpParameters(BaseModel):
    """Server, login and message. The password is a SecretStr."""

    model_config = ConfigDict(extra="forbid")

    host: str
    port: int | None = Field(default=None, ge=1, le=65535,
                             description="default: 25, 587 or 465 depending on tls")
    tls: Literal["none", "starttls", "ssl"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    from_address: str
    to: list[str] = Field(min_length=1)
    cc: list[str] = Field(default_factory=list)
    subject: str
    body: str = Field(description="plain text; templates are rendered by the hub beforehand")
    timeout: float | None = Field(
        default=None, gt=0, description="seconds; capped by the delivery's own timeout"
    )

    @field_validator("from_address", "to", "cc", "subject", "host")
    @classmethod
    def _single_line(cls, value: str | list[str]) -> str | list[str]:
        # A line break in a header would let a payload smuggle in headers of its own.
        for item in [value] if isinstance(value, str) else value:
            if "\r" in item or "\n" in item:
                raise ValueError("must be a single line")
        return value

    @field_validator("from_address", "to", "cc")
    @classmethod
    def _addresses(cls, value: str | list[str]) -> str | list[str]:
        for item in [value] if isinstance(value, str) else value:
            if "@" not in item:
                raise ValueError("must be an e-mail address")
        return value

    @model_validator(mode="after")
    def _login_pair(self) -> SmtpParameters:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        return self


def message_id(idempotency_key: str) -> str:
    """The Message-ID every attempt of one execution carries."""
    if _DOT_ATOM.fullmatch(idempotency_key):
        return f"<{idempotency_key}@hub>"
    # Not valid inside a Message-ID as is: a digest is just as stable.
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()}@hub>"


def compose(params: SmtpParameters, delivery: Delivery) -> EmailMessage:
    message = EmailMessage()
    message["From"] = params.from_address
    message["To"] = ", ".join(params.to)
    if params.cc:
        message["Cc"] = ", ".join(params.cc)
    message["Subject"] = params.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(delivery.idempotency_key)
    message["X-Hub-Event-Type"] = delivery.event_type
    message.set_content(params.body)
    return message


def deliver(params: SmtpParameters, delivery: Delivery) -> DeliveryResult:
    try:
        message = compose(params, delivery)
    except (ValueError, TypeError) as exc:
        composing = PermanentSinkError(f"cannot compose the message: {type(exc).__name__}")
    else:
        return _deliver(params, delivery, message)
    raise composing


def _deliver(params: SmtpParameters, delivery: Delivery, message: EmailMessage) -> DeliveryResult:
    port = params.port or DEFAULT_PORTS[params.tls]
    where = f"{params.host}:{port}"
    timeout = min(params.timeout or delivery.timeout, delivery.timeout)
    try:
        refused = _send(params, port, timeout, message)
    except smtplib.SMTPAuthenticationError as exc:
        error: SinkError = PermanentSinkError(
            f"SMTP {where}: authentication rejected ({exc.smtp_code})"
        )
    except smtplib.SMTPRecipientsRefused as exc:
        error = _all_refused(where, exc.recipients)
    except smtplib.SMTPResponseException as exc:
        error = _by_reply_code(where, exc)
    except smtplib.SMTPNotSupportedError:
        error = PermanentSinkError(f"SMTP {where}: server does not support {params.tls} or AUTH")
    except smtplib.SMTPServerDisconnected:
        error = RetryableSinkError(f"SMTP {where}: server disconnected")
    except ssl.SSLCertVerificationError:
        error = PermanentSinkError(f"SMTP {where}: TLS certificate not trusted")
    except smtplib.SMTPException as exc:
        error = PermanentSinkError(f"SMTP {where} failed: {type(exc).__name__}")
    except (OSError, TimeoutError) as exc:
        error = RetryableSinkError(f"SMTP {where} unreachable: {type(exc).__name__}")
    else:
        details = {"message_id": message["Message-ID"], "recipients": len(params.to + params.cc)}
        if refused:
            details["refused"] = sorted(refused)
        return DeliveryResult(summary=f"mail {message['Message-ID']} sent via {where}",
                              details=details)
    # Raised outside the except block: smtplib's exception is not chained into the traceback.
    raise error


def _send(params: SmtpParameters, port: int, timeout: float,
          message: EmailMessage) -> dict[str, tuple[int, bytes]]:
    client: smtplib.SMTP
    if params.tls == "ssl":
        client = smtplib.SMTP_SSL(params.host, port, timeout=timeout,
                                  context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(params.host, port, timeout=timeout)
    with client:
        if params.tls == "starttls":
            client.starttls(context=ssl.create_default_context())
        if params.username is not None and params.password is not None:
            client.login(params.username, params.password.get_secret_value())
        return client.send_message(message)


def _all_refused(where: str, refused: dict[str, tuple[int, bytes]]) -> SinkError:
    codes = sorted({code for code, _ in refused.values()})
    text = (f"SMTP {where}: all recipients refused "
            f"({', '.join(sorted(refused))}; codes {', '.join(map(str, codes))})")
    # Only if every refusal is temporary (4xx: mailbox busy, greylisting) can a retry succeed.
    if all(400 <= code < 500 for code in codes):
        return RetryableSinkError(text)
    return PermanentSinkError(text)


def _by_reply_code(where: str, exc: smtplib.SMTPResponseException) -> SinkError:
    reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
        else str(exc.smtp_error)
    reply = " ".join(reply.split())[:REPLY_LENGTH]
    text = f"SMTP {where}: {exc.smtp_code} {reply}".rstrip()
    if 400 <= exc.smtp_code < 500:
        return RetryableSinkError(text)
    return PermanentSinkError(text)


SINK = Sink(
    name="smtp",
    description="Send a plain-text e-mail through an SMTP server.",
    parameters=SmtpParameters,
    deliver=deliver,
)
