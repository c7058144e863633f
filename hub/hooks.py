"""Signed inbound webhooks: turn a signed raw body into an event, or store nothing at all.

A sender that cannot hold a bearer token (GitHub, Stripe, a SaaS "webhook URL" field) posts
to `/hooks/{tenant}/{event_type}` and signs the raw body with a secret both sides share:

    X-Hub-Signature-256: sha256=<hex of HMAC-SHA256(body, signing secret)>

The shared secret lives in the secret store; the Event Type names its key in a `SECRET`
parameter called `signing_secret`. Verification happens before the body is even parsed, and
every way it can fail (unknown tenant or event type, no signing secret configured, the key
missing, a wrong or absent signature) is the same opaque `Unauthenticated`, so a stranger
learns nothing about which tenants, types or keys exist. Nothing is stored unless the
signature is right.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from hub.errors import HubError, InvalidInput, NotFound, Unauthenticated
from hub.events import IngestResult
from hub.logging import get_scrubber
from hub.parameters import SECRET
from hub.runtime import Hub
from hub.secret_value import SecretValue

SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_SCHEME = "sha256="
#: The Event Type parameter (of type SECRET) naming the key of the shared signing secret.
SIGNING_PARAMETER = "signing_secret"
#: How audit entries and events name the sender of a hook.
ACTOR_PREFIX = "hook:"

_REFUSED = "the webhook signature is missing or does not match"
#: Signs nothing: stands in for the signing secret of a target that does not exist.
_DECOY = SecretValue(secrets.token_bytes(32))


def sign(body: bytes, secret: bytes) -> str:
    """The header value a sender puts on `body` (what senders, tests and `hubctl` compute)."""
    return SIGNATURE_SCHEME + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_matches(body: bytes, secret: SecretValue, header: str | None) -> bool:
    """True when `header` is the signature of `body` under `secret`, compared in constant time.

    The HMAC and the comparison run whatever the header looks like (absent, another scheme,
    not ASCII), so how long a refusal takes does not say which way the header was wrong.
    """
    well_formed = header is not None and header.startswith(SIGNATURE_SCHEME)
    expected = sign(body, secret.reveal()).encode("ascii")
    # Hex may arrive in either case; only ASCII can be compared in constant time.
    given = (header or "").strip().lower().encode("ascii", errors="replace")
    return hmac.compare_digest(expected, given) and well_formed


class HookReceiver:
    """Verifies signed deliveries for any tenant and ingests them as that tenant's events."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def receive(self, tenant: str, event_type: str, body: bytes, signature: str | None, *,
                idempotency_key: str | None = None) -> IngestResult:
        """Verify, then ingest. `Unauthenticated` (opaque) if the signature does not hold."""
        secret = self._signing_secret(tenant, event_type)
        # No target: the same HMAC and comparison run against a throwaway key, so a refusal
        # for an unknown tenant costs what a wrong signature costs.
        matches = signature_matches(body, secret or _DECOY, signature)
        if secret is None or not matches:
            raise Unauthenticated(_REFUSED)
        return self.hub.events.ingest(tenant, event_type, _payload(body),
                                      idempotency_key=idempotency_key,
                                      actor=ACTOR_PREFIX + event_type)

    def _signing_secret(self, tenant: str, event_type: str) -> SecretValue | None:
        """The value that signs `event_type`'s hooks; None when there is no such thing."""
        try:
            info = self.hub.automations.get_event_type(tenant, event_type)
            key = next((p.value for p in info.parameters
                        if p.name == SIGNING_PARAMETER and p.type == SECRET), None)
            if key is None:
                raise NotFound("no signing secret")
            resolved = self.hub.secrets.resolve(tenant, key)
        except (NotFound, InvalidInput):
            # Unknown (or impossible) tenant, type or key: the stranger will hear what a
            # wrong signature hears.
            return None
        # This process now holds the value: make sure no log line can show it from here on.
        get_scrubber().add(_as_text(resolved.value), label=key)
        value: SecretValue = resolved.value
        return value


def _as_text(value: SecretValue) -> str | bytes:
    try:
        return value.reveal_text()
    except HubError:  # a binary secret: the scrubber masks its bytes and their encodings
        return value.reveal()


def _payload(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        # No echo of the body: it was signed, but it is still only the sender's input.
        raise InvalidInput("the webhook body must be JSON") from None
