"""`hubctl worker` and `hubctl dispatcher` as an operator runs them: they stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tests.integration.processes import Process, wait_for
from tests.integration.stack import Stack


def _hubctl(stack: Stack, *args: str) -> Process:
    code = f"import sys; from hub.cli import main; sys.argv = ['hubctl', *{list(args)!r}]; main()"
    return stack.processes.start(args[0], [sys.executable, "-c", code])


def _terminate(process: Process) -> int:
    assert process.popen is not None
    os.kill(process.pid, signal.SIGTERM)  # the process only, as a service manager would
    try:
        return process.popen.wait(20)
    except subprocess.TimeoutExpired:
        tail = process.output()[-3000:]
        raise AssertionError(f"{process.name} ignored SIGTERM:\n{tail}") from None


def test_dispatcher_exits_cleanly_on_sigterm(stack: Stack) -> None:
    process = _hubctl(stack, "dispatcher")
    wait_for(lambda: "dispatcher started" in process.output() or not process.alive(),
             timeout=60, what="the dispatcher to start")
    assert _terminate(process) == 0, process.output()[-3000:]
    assert "dispatcher stopped" in process.output()


def test_worker_exits_cleanly_on_sigterm(stack: Stack) -> None:
    process = _hubctl(stack, "worker", "--concurrency", "1")
    wait_for(lambda: "ready." in process.output() or not process.alive(),
             timeout=60, what="the worker to start")
    assert _terminate(process) == 0, process.output()[-3000:]
