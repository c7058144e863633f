"""configure_logging: every logger of the process, structlog's and the stdlib's, scrubbed."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import warnings
from collections.abc import Callable, Iterator

import pytest
import structlog
from celery.utils.saferepr import saferepr

from hub.config import Settings
from hub.logging import REDACTED, configure_logging, get_scrubber
from hub.logging.processors import SUPPRESSED_EVENT
from tests.hub.logging.leaks import leaked

SECRET = "s3cr'et\"\\%+/é-hunter2"

Configure = Callable[[str], io.StringIO]


@pytest.fixture
def configure() -> Iterator[Configure]:
    """configure_logging into a string buffer; the process's logging is restored after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    structlog_config = structlog.get_config()

    def run(log_format: str) -> io.StringIO:
        stream = io.StringIO()
        configure_logging(Settings(log_format=log_format, log_level="DEBUG"), stream=stream)
        get_scrubber().add(SECRET, label="test")
        return stream

    yield run
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)
    structlog.configure(**structlog_config)
    structlog.reset_defaults() if not structlog_config else None


formats = pytest.mark.parametrize("log_format", ["json", "console"])


def _no_leak(output: str) -> None:
    assert leaked(output, SECRET) == set(), output


@formats
def test_stdlib_messages_and_args_are_scrubbed(configure: Configure, log_format: str) -> None:
    stream = configure(log_format)
    logging.getLogger("celery.worker").info("args %s %r", SECRET, {"k": [SECRET]})
    output = stream.getvalue()
    assert "args" in output and REDACTED in output
    _no_leak(output)


@formats
def test_structlog_events_are_scrubbed(configure: Configure, log_format: str) -> None:
    stream = configure(log_format)
    structlog.get_logger("hub.test").info(f"event {SECRET}", **{"param": SECRET, "n": {SECRET: 1}})
    _no_leak(stream.getvalue())


def test_json_lines_stay_valid_json(configure: Configure) -> None:
    stream = configure("json")
    structlog.get_logger("hub.test").warning("x", value=SECRET, data={"k": (SECRET, b"\x00")})
    logging.getLogger("kombu").error("y %s", SECRET)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert [json.loads(line)["level"] for line in lines] == ["warning", "error"]


@formats
def test_warnings_are_scrubbed(configure: Configure, log_format: str) -> None:
    stream = configure(log_format)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(f"deprecated {SECRET}", UserWarning, stacklevel=1)
    assert "UserWarning" in stream.getvalue()
    _no_leak(stream.getvalue())


def _raise_chain() -> None:
    try:
        raise KeyError(SECRET)
    except KeyError as cause:
        error = ValueError(f"wrapped {SECRET}")
        error.add_note(f"note {SECRET}")
        raise error from cause


@formats
def test_exception_messages_causes_notes_and_source_lines_are_scrubbed(
    configure: Configure, log_format: str
) -> None:
    # L33 (source line: AF-T XFAIL), L35 (chain), L36 (notes).
    stream = configure(log_format)
    try:
        _raise_chain()
    except ValueError:
        logging.getLogger("x").exception("failed")
    try:
        raise RuntimeError("s3cr'et\"\\%+/é-hunter2 in the source line")
    except RuntimeError:
        structlog.get_logger("y").exception("failed too")
    output = stream.getvalue()
    assert "direct cause" in output and "Traceback" in output
    _no_leak(output)


@formats
def test_exception_groups_and_subprocess_commands_are_scrubbed(
    configure: Configure, log_format: str
) -> None:
    # L36: group members and CalledProcessError.cmd, whose str is not built from args alone.
    stream = configure(log_format)
    try:
        raise ExceptionGroup("group", [ValueError(SECRET),
                                       subprocess.CalledProcessError(1, ["curl", "-u", SECRET])])
    except ExceptionGroup:
        logging.getLogger("x").exception("group failed")
    output = stream.getvalue()
    assert "CalledProcessError" in output
    _no_leak(output)


def test_local_variables_are_never_rendered_in_tracebacks(configure: Configure) -> None:
    # L37: a local holding an unregistered value stays out of the log.
    stream = configure("console")

    def fail() -> None:
        unregistered_local = "local-value-never-registered"  # noqa: F841
        raise RuntimeError("boom")

    try:
        fail()
    except RuntimeError:
        structlog.get_logger("x").exception("failed")
    assert "local-value-never-registered" not in stream.getvalue()


def test_a_celery_repr_truncated_inside_a_secret_shows_none_of_its_head(
    configure: Configure,
) -> None:
    # L29: saferepr(args, 1024) cuts the value and appends "...".
    stream = configure("json")
    args = saferepr(("x" * 1012 + SECRET,), 1024)
    assert "s3cr\\'et" in args and "hunter2" not in args and "..." in args
    logging.getLogger("celery.app.trace").info("Task failed: %s", args)
    _no_leak(stream.getvalue())


@formats
def test_a_record_that_cannot_be_scrubbed_is_replaced_by_a_fixed_line(
    configure: Configure, log_format: str
) -> None:
    # Fail closed: the original never reaches the output, a counter goes up.
    stream = configure(log_format)

    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError(f"cannot show {SECRET}")

    before = get_scrubber().suppressed_records
    structlog.get_logger("x").info("value", obj=Hostile(), other=SECRET)
    logging.getLogger("y").info("%d", "not a number " + SECRET)
    output = stream.getvalue()
    assert output.count(SUPPRESSED_EVENT) == 2
    assert get_scrubber().suppressed_records == before + 2
    _no_leak(output)


def test_a_failing_stream_reports_without_the_record(
    configure: Configure, capsys: pytest.CaptureFixture[str]
) -> None:
    # The stdlib's handleError prints record.msg and record.args.
    configure("console")

    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError("disk full")

    handler = logging.getLogger().handlers[0]
    handler.setStream(Broken())  # type: ignore[attr-defined]
    logging.getLogger("x").error("lost %s", SECRET)
    captured = capsys.readouterr()
    assert SECRET not in captured.err + captured.out


def test_configuring_twice_keeps_one_handler_and_every_registered_value(
    configure: Configure,
) -> None:
    configure("json")
    get_scrubber().add("registered-before-reconfigure")
    stream = configure("console")
    assert len(logging.getLogger().handlers) == 1
    logging.getLogger("x").warning("registered-before-reconfigure")
    assert "registered-before-reconfigure" not in stream.getvalue()


def test_configure_logging_without_arguments_reads_the_environment(
    configure: Configure, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUB_LOG_FORMAT", "json")
    monkeypatch.setenv("HUB_LOG_LEVEL", "warning")
    configure_logging()
    logging.getLogger("x").info("not shown")
    logging.getLogger("x").warning("shown")
    lines = capsys.readouterr().err.splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["shown"]


def test_the_process_scrubber_refuses_values_shorter_than_the_store_does(
    configure: Configure,
) -> None:
    configure_logging(Settings(min_secret_length=12), stream=io.StringIO())
    assert get_scrubber().min_length == 12



def test_a_library_logger_with_its_own_handler_is_routed_through_the_scrubber(
        configure: Configure) -> None:
    # uvicorn's default log config (and alembic's ini) give loggers handlers of their own
    # with propagate off: those would write around the scrubber.
    library = logging.getLogger("uvicorn.access")
    bypass = io.StringIO()
    library.addHandler(logging.StreamHandler(bypass))
    library.propagate = False
    try:
        stream = configure("json")
        library.warning("GET /?token=%s", SECRET)
        assert bypass.getvalue() == ""
        assert '"logger": "uvicorn.access"' in stream.getvalue()
        _no_leak(stream.getvalue())
    finally:
        library.handlers.clear()
        library.propagate = True
