"""A small Celery app for the worker integration test: its task leaks a value every way.

The worker runs `celery -A tests.hub.logging.celery_app worker`; broker and queue come from
`HUB_TEST_CELERY_BROKER` and `HUB_TEST_CELERY_QUEUE`. The task registers the value it is given
(as the hub's worker does after unsealing) and then logs it with structlog and the stdlib,
prints it, warns with it, returns it, raises with it, retries with it and exhausts its retries.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from typing import Any

import structlog
from celery import Celery

from hub.logging import configure_logging, get_scrubber
from hub.logging.celery import install_celery_scrubbing


def make_app(broker: str, queue: str) -> Celery:
    app = Celery("scrub-test", broker=broker, backend=broker)
    app.conf.update(
        task_default_queue=queue,
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=True,
        broker_connection_retry_on_startup=True,
    )
    install_celery_scrubbing(app)

    @app.task(name="scrub.leak", bind=True, max_retries=1, default_retry_delay=0)
    def leak(self: Any, value: str, mode: str) -> str:
        get_scrubber().add(value, label="test", ttl=300)
        structlog.get_logger("leaky").info("structlog says", value=value, nested={value: [value]})
        logging.getLogger("leaky.std").warning("stdlib says %s %r", value, {"v": value})
        print("printed", value)
        print(f"stderr {value}", file=sys.stderr)
        warnings.warn(f"warned {value}", stacklevel=1)
        if mode == "raise":
            raise RuntimeError(f"raised {value}")
        if mode == "retry":
            raise self.retry(exc=ValueError(f"retrying {value}"))
        if mode == "exhaust":
            raise self.retry()
        return value

    return app


if os.environ.get("HUB_TEST_CELERY_BROKER"):
    configure_logging()
    app = make_app(os.environ["HUB_TEST_CELERY_BROKER"], os.environ["HUB_TEST_CELERY_QUEUE"])
