"""Real hub processes for the integration tests: started, watched, always killed.

Every process runs in its own session (process group) with its stdout and stderr going to a
file, so a test can read all output afterwards (the canary does) and a finalizer can kill the
whole group even if the test failed halfway.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

T = TypeVar("T")


class TimedOut(AssertionError):
    pass


def wait_for(probe: Callable[[], T | None], *, timeout: float, what: str,
             every: float = 0.05) -> T:
    """Poll `probe` until it returns something truthy; fail (never hang) after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimedOut(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


@dataclass
class Process:
    name: str
    argv: Sequence[str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def children(self) -> list[int]:
        """Pids of this process's direct children (a Celery worker's pool processes)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command name may hold spaces; the parent pid follows the closing paren.
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.pid:
                found.append(int(entry.name))
        return found

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, grace: float = 10.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)
        except ProcessLookupError:
            pass
        finally:
            self._kill_group()

    def _kill_group(self) -> None:
        # Pool children that outlived their parent are still in the group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)


@dataclass
class Processes:
    """The processes of one test, all stopped by `stop_all` (called from a finalizer)."""

    folder: Path
    env: Mapping[str, str]
    started: list[Process] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str]) -> Process:
        log = self.folder / f"{name}-{len(self.started)}.log"
        process = Process(name, list(argv), log)
        # Nothing of the caller's own HUB_* environment leaks into the stack under test.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env = {**inherited, **self.env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        with log.open("wb") as handle:
            process.popen = subprocess.Popen(
                list(argv), cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        self.started.append(process)
        return process

    def worker(self, *, concurrency: int = 1, pool: str = "prefork",
               include: Sequence[str] = ()) -> Process:
        argv = [str(BIN / "celery"), "-A", "workers.app", "worker", f"--pool={pool}",
                f"--concurrency={concurrency}", "--queues=hub.deliveries", "--loglevel=INFO",
                "--without-mingle", "--without-gossip", "--without-heartbeat",
                f"--hostname=test-{len(self.started)}@%h"]
        if include:
            argv.append(f"--include={','.join(include)}")
        process = self.start("worker", argv)
        wait_for(lambda: "ready." in process.output() or not process.alive(),
                 timeout=60, what="the worker to start")
        assert process.alive(), process.output()[-3000:]
        return process

    def dispatcher(self, *, include: Sequence[str] = ()) -> Process:
        # `hubctl dispatcher`, after importing test-only sinks (the dispatcher reads a sink's
        # fields when it plans a delivery, so it must know the sink as well as the worker).
        code = "".join(f"import {module}; " for module in include)
        code += "import sys; from hub.cli import main; sys.argv = ['hubctl', 'dispatcher']; main()"
        process = self.start("dispatcher", [sys.executable, "-c", code])
        wait_for(lambda: "dispatcher started" in process.output() or not process.alive(),
                 timeout=60, what="the dispatcher to start")
        assert process.alive(), process.output()[-3000:]
        return process

    def outputs(self) -> str:
        return "\n".join(p.output() for p in self.started)

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()
