"""`hubctl up`: the supervisor (restarts with backoff, clean stop) and a real first run."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from hub.cli.up import Child, Supervisor, hubctl_argv

PYTHON = sys.executable


def wait_for(condition: Callable[[], bool], *, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def supervise(children: list[Child], **options: float) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=Supervisor(children, stop=stop, poll_seconds=0.02,
                                                **options).run, daemon=True)
    thread.start()
    return stop, thread


def test_crashed_child_is_restarted_with_a_doubling_backoff() -> None:
    crasher = Child("crasher", [PYTHON, "-c", "import sys; sys.exit(3)"])
    stop, thread = supervise([crasher], first_backoff=0.05, max_backoff=0.2)
    wait_for(lambda: crasher.restarts >= 3)
    stop.set()
    thread.join(10)
    assert set(crasher.exit_codes) == {3}
    assert crasher.backoff in (0.1, 0.2)


def test_stop_terminates_every_running_child() -> None:
    sleepers = [Child(f"sleeper{i}", [PYTHON, "-c", "import time; time.sleep(60)"])
                for i in range(2)]
    stop, thread = supervise(sleepers)
    wait_for(lambda: all(child.process is not None for child in sleepers))
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    assert [child.process.returncode for child in sleepers] == [-signal.SIGTERM] * 2  # type: ignore[union-attr]


def test_child_that_ignores_sigterm_is_killed_after_the_grace_period() -> None:
    stubborn = Child("stubborn", [PYTHON, "-c",
                                  "import signal, time, sys\n"
                                  "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                  "print('ready', flush=True)\n"
                                  "time.sleep(60)"])
    stop, thread = supervise([stubborn], grace_seconds=0.5)
    wait_for(lambda: stubborn.process is not None)
    time.sleep(0.5)  # let it install its handler
    stop.set()
    thread.join(10)
    assert stubborn.process is not None and stubborn.process.returncode == -signal.SIGKILL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Up:
    """A `hubctl up` process whose stdout lines arrive on a queue."""

    def __init__(self, home: Path, port: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env["HUB_HOME"] = str(home)
        self.process = subprocess.Popen(
            hubctl_argv("up", "--port", str(port), "--processes", "serve"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def line_after(self, marker: str, seconds: float = 60) -> str:
        deadline = time.monotonic() + seconds
        seen = False
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if seen:
                return line
            seen = marker in line
        raise AssertionError(f"no line after {marker!r}; stderr: {self.stderr()}")

    def stderr(self) -> str:
        if self.process.poll() is None:
            return "(still running)"
        assert self.process.stderr is not None
        return self.process.stderr.read()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "home"


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_first_run_creates_everything_prints_a_token_once_and_stops_cleanly(home: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    first = Up(home, port)
    try:
        token = first.line_after("shown this once")
        assert token.startswith("sk_")
        wait_for(lambda: healthy(url), seconds=60)
        response = httpx.get(f"{url}/api/v1/secrets",
                             headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert (home / "master.key").exists() and (home / "transport.key").exists()
    finally:
        code = first.stop()
    assert code == 0
    assert not healthy(url)

    second = Up(home, port)
    try:
        wait_for(lambda: healthy(url), seconds=60)
    finally:
        second.stop()
    printed = list(second.lines.queue)
    assert not any(line.startswith("sk_") for line in printed), printed
