"""The worker's Celery app: the shared broker configuration plus the worker's own rules.

`celery -A workers.app worker` imports this module, so building the app here is the worker
process's start: settings from the environment, logging (with the scrubber) configured before
Celery logs its first line, and the `hub.deliver` task registered. The transport keys are
loaded on first use in each pool process and never generated here: a worker that cannot
open what the hub seals must fail loudly, not invent a key of its own.
"""

from __future__ import annotations

from functools import cache

from celery import Celery

from hub.broker import MAX_TASK_SECONDS, make_celery
from hub.config import Settings, load_settings
from hub.keyfiles import load_transport_keys
from hub.logging import configure_logging
from hub.logging.celery import install_celery_scrubbing
from hub.sealing import TransportKeys
from workers.tasks import register_tasks


def create_app(settings: Settings) -> Celery:
    """A worker app for `settings`: configured, scrubbed, with `hub.deliver` registered."""
    configure_logging(settings)
    app = make_celery(settings, main="workers")
    app.conf.update(
        # A backstop only: the dispatcher sets per-message limits from the action's timeout.
        task_time_limit=MAX_TASK_SECONDS + 30,
        task_soft_time_limit=MAX_TASK_SECONDS,
        worker_max_tasks_per_child=1000,
        # We keep no results, so there is nothing to wait for before declaring a pool
        # process lost; the sooner its message is requeued, the sooner it is delivered.
        worker_lost_wait=2.0,
    )
    install_celery_scrubbing(app)

    @cache
    def keys() -> TransportKeys:
        return load_transport_keys(settings, may_generate=False)

    register_tasks(app, keys)
    return app


settings = load_settings()
app = create_app(settings)
