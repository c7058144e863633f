"""The hub's Prometheus metrics: one registry, a few counters any part may increment.

Metrics carry counts, durations and low-cardinality labels (status, method, route template,
sink name). They never carry values, keys of secrets, payloads or tenant data: a label is a
fixed vocabulary, so a scrape of `/metrics` can never reveal what the hub protects.

The registry is ours, not prometheus-client's process-global default, so tests and several
apps in one process do not collide; `render()` is what `/metrics` serves.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "hub_http_requests", "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"], registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "hub_http_request_seconds", "Time to answer an HTTP request, by route template.",
    ["route"], registry=REGISTRY,
)
EVENTS = Counter(
    "hub_events", "Events accepted for processing.", registry=REGISTRY,
)
EXECUTIONS = Counter(
    "hub_executions", "Executions reaching a status (queued, running, succeeded, failed, ...).",
    ["status"], registry=REGISTRY,
)
DISPATCH_LATENCY = Histogram(
    "hub_dispatch_seconds", "From an execution being due to its delivery being sent.",
    registry=REGISTRY,
)
SCRUBBER_SECRETS = Gauge(
    "hub_scrubber_secrets", "Values currently registered with this process's scrubber.",
    registry=REGISTRY,
)
SCRUBBER_REDACTIONS = Counter(
    "hub_scrubber_redactions", "Occurrences of registered values masked in log output.",
    registry=REGISTRY,
)
AUTH_FAILURES = Counter(
    "hub_auth_failures", "Requests refused for a missing, invalid or revoked token.",
    registry=REGISTRY,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


def render() -> bytes:
    """The registry in the Prometheus text format."""
    return generate_latest(REGISTRY)
