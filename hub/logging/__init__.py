"""Logging for every hub process, and the scrubber that keeps secret values out of it.

    from hub.logging import Scrubber, configure_logging, get_scrubber

    configure_logging(settings)            # once per process (again is harmless)
    get_scrubber().add(value, label="db")  # before anything can log the value
    get_scrubber().scrub(text)             # for text that leaves the process another way

Celery workers also call `hub.logging.celery.install_celery_scrubbing(app)`.
"""

from hub.logging.configure import configure_logging, get_scrubber
from hub.logging.processors import ScrubbingRenderer, ScrubEvent
from hub.logging.scrubber import REDACTED, Scrubber

__all__ = [
    "REDACTED",
    "ScrubEvent",
    "Scrubber",
    "ScrubbingRenderer",
    "configure_logging",
    "get_scrubber",
]
