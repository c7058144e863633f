"""The broker settings: embedded filesystem by default, Redis when configured; both carry
messages between separate connections exactly as the hub and the workers use them."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
import redis

from hub import broker
from hub.config import load_settings
from hub.errors import ConfigurationError


def test_unset_broker_url_means_the_embedded_filesystem_broker_inside_home(
        tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    assert broker.is_embedded(settings)
    assert broker.broker_url(settings) == "filesystem://"
    options = broker.transport_options(settings)
    assert options["data_folder_in"] == options["data_folder_out"]
    assert Path(options["data_folder_in"]).is_relative_to(tmp_path.resolve())
    assert Path(options["processed_folder"]).is_relative_to(tmp_path.resolve())


def test_redis_url_query_options_become_transport_options_and_leave_the_url() -> None:
    settings = load_settings(
        broker_url="redis://127.0.0.1:6379/3?global_keyprefix=hub-a:&visibility_timeout=99")
    assert broker.broker_url(settings) == "redis://127.0.0.1:6379/3"
    options = broker.transport_options(settings)
    assert options["global_keyprefix"] == "hub-a:"
    assert options["visibility_timeout"] == 99.0


def test_redis_visibility_timeout_outlasts_the_longest_task() -> None:
    options = broker.transport_options(load_settings(broker_url="redis://127.0.0.1:6379/0"))
    assert options["visibility_timeout"] > broker.MAX_TASK_SECONDS


def test_unsupported_broker_url_is_refused_naming_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="HUB_BROKER_URL"):
        broker.broker_url(load_settings(broker_url="amqp://guest:guest@localhost//"))


def test_celery_config_is_json_only_late_ack_and_keeps_no_results(tmp_path: Path) -> None:
    config = broker.celery_config(load_settings(home=tmp_path))
    assert config["accept_content"] == ["json"]
    assert config["task_serializer"] == "json"
    assert config["task_acks_late"] and config["task_reject_on_worker_lost"]
    assert config["worker_prefetch_multiplier"] == 1
    assert config["task_ignore_result"] and not config["result_extended"]
    assert config["result_backend"] is None
    assert config["worker_hijack_root_logger"] is False


def _roundtrip(settings: object) -> dict[str, object]:
    body = {"execution_id": str(uuid.uuid4()), "attempt": 1, "status": "started"}
    with broker.connection(settings) as sender:  # type: ignore[arg-type]
        sender.Producer().publish(body, exchange=broker.outcome_exchange,
                                  routing_key=broker.OUTCOME_QUEUE,
                                  declare=[broker.outcome_queue], serializer="json")
    with broker.connection(settings) as receiver:  # type: ignore[arg-type]
        queue = receiver.SimpleQueue(broker.outcome_queue, no_ack=False)
        message = queue.get(block=True, timeout=5)
        message.ack()
        queue.close()
    assert message.payload == body
    return message.payload


def test_embedded_broker_carries_a_message_between_two_connections(tmp_path: Path) -> None:
    _roundtrip(load_settings(home=tmp_path))


def test_redis_broker_carries_a_message_under_its_key_prefix(redis_url: str) -> None:
    prefix = f"hubtest-{uuid.uuid4().hex[:8]}:"
    settings = load_settings(broker_url=f"{redis_url}?global_keyprefix={prefix}")
    client = redis.Redis.from_url(redis_url)
    try:
        _roundtrip(settings)
        assert any(key.startswith(prefix.encode()) for key in client.scan_iter(f"{prefix}*"))
    finally:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()


def test_prune_processed_removes_only_consumed_files_older_than_asked(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    broker.prepare(settings)
    folder = Path(broker.transport_options(settings)["processed_folder"])
    old, new = folder / "1_a.hub.deliveries.msg", folder / "2_b.hub.deliveries.msg"
    old.write_text("{}")
    new.write_text("{}")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert broker.prune_processed(settings, older_than=60) == 1
    assert not old.exists() and new.exists()
