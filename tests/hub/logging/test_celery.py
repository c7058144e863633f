"""A real Celery worker (prefork, Redis broker) whose task leaks a value every way it can."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis

from hub.logging import get_scrubber
from hub.logging.celery import VALUE_FREE_REPRS, name_only_reprs, value_free_dump_body
from tests.hub.logging.celery_app import make_app
from tests.hub.logging.leaks import leaked

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


def _start_worker(redis_url: str, queue: str, log_format: str,
                  out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HUB_TEST_CELERY_BROKER": redis_url, "HUB_TEST_CELERY_QUEUE": queue,
           "HUB_LOG_FORMAT": log_format, "PYTHONUNBUFFERED": "1"}
    env.pop("CELERY_LOG_REDIRECT", None)
    command = [sys.executable, "-m", "celery", "-A", "tests.hub.logging.celery_app", "worker",
               "-P", "prefork", "-c", "2", "-Q", queue, "-l", "DEBUG", "-n", f"{queue}@%h",
               "--without-heartbeat", "--without-mingle", "--without-gossip"]
    with out.open("wb") as sink:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink,
                                stderr=subprocess.STDOUT)


def _stop(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=10)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("log_format", ["json", "console"])
def test_worker_output_holds_no_form_of_a_value_its_task_logs_prints_warns_and_raises(
    redis_url: str, tmp_path: Path, log_format: str
) -> None:
    # L01, L41-L46, L22, L29, L33, L44, L45: every path the task and Celery itself print.
    value = f"s3cr'et\"\\%+/é-{secrets.token_hex(8)}"
    queue = f"scrub-test-{uuid.uuid4().hex[:10]}"
    out = tmp_path / "worker.log"
    worker = _start_worker(redis_url, queue, log_format, out)
    app = make_app(redis_url, queue)
    try:
        # L47: an unregistered task's body is dumped by the main process, which never saw the
        # value registered.
        app.send_task("scrub.unknown", args=[value], queue=queue)
        results = {mode: app.send_task("scrub.leak", args=[value, mode], queue=queue)
                   for mode in ("ok", "raise", "retry", "exhaust")}
        for mode, result in results.items():
            result.get(timeout=60, propagate=False)
            assert result.state == ("SUCCESS" if mode == "ok" else "FAILURE"), mode
    finally:
        _stop(worker)
        app.close()
    output = out.read_text("utf-8", "replace")
    assert "structlog says" in output and "stdlib says" in output
    assert "printed" in output and "warned" in output and "raised" in output
    assert "Received unregistered task" in output
    assert "max retries exceeded" in output
    assert leaked(output, value) == set()


def test_publishing_rewrites_argsrepr_and_kwargsrepr_to_types_and_names() -> None:
    # L41/L42: on the first send and on every retry (Task.retry re-publishes without them).
    headers: dict[str, object] = {"argsrepr": "('hunter2hunter2',)"}
    name_only_reprs(body=(["hunter2hunter2", 3], {"token": "hunter2hunter2"}, {}),
                    headers=headers)
    assert headers == {"argsrepr": "(<str>, <int>)", "kwargsrepr": "{'token': <str>}"}


def test_reprs_a_publisher_vouches_for_are_kept_but_scrubbed_once_more() -> None:
    # The dispatcher names the secret keys a delivery carries; that is worth keeping.
    get_scrubber().add("vouched-value-9911", label="test")
    headers = {VALUE_FREE_REPRS: True, "argsrepr": "()",
               "kwargsrepr": "{'secrets': ['API_TOKEN'], 'oops': 'vouched-value-9911'}"}
    name_only_reprs(body=([], {"envelope": {"sealed": "v1.k.x"}}, {}), headers=headers)
    assert "API_TOKEN" in headers["kwargsrepr"]
    assert "vouched-value" not in headers["kwargsrepr"]


def test_a_dumped_message_body_shows_its_size_and_never_its_content() -> None:
    # L46/L47: Celery's dump_body for unknown and invalid messages.
    class Message:
        body = b'[["hunter2hunter2"], {}, {}]'

    dumped = value_free_dump_body(Message(), None)
    assert "hunter2" not in dumped and "28 bytes" in dumped


def test_the_test_broker_is_reachable(redis_url: str) -> None:
    assert redis.Redis.from_url(redis_url).ping()
