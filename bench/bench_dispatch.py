"""Benchmark: the hub's dispatch path against bare Celery, on the same Redis, in one run.

(a) dispatches per second of the hub path (claim, resolve two secrets, seal, send, record)
    against bare `send_task` of a no-op task with a payload of the same size;
(b) end-to-end executions per second through one worker with a no-op sink (dispatcher,
    worker, outcome recorded) against bare Celery running a no-op task through one worker;
    plus p50/p99 latency of single executions (event accepted -> outcome recorded, and
    task sent -> task done for bare Celery).

Targets: (a) >= 0.8, (b) >= 0.7. Usage:

    .venv/bin/python bench/bench_dispatch.py [--redis redis://127.0.0.1:6379/0] [--n 2000]

The worker processes import this module (`--include bench_dispatch`) for the no-op sink and
the bare no-op task, so everything at module level must be cheap and side-effect free
except for those two registrations.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import redis
from pydantic import BaseModel, ConfigDict, SecretStr

from hub.broker import make_celery
from hub.config import load_settings
from sinks import base
from sinks.base import Delivery, DeliveryResult, Sink

ROOT = Path(__file__).resolve().parents[1]
BARE_QUEUE = "bench.bare"


class NoopParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token_a: SecretStr
    token_b: SecretStr
    note: str = ""


def _noop(params: NoopParameters, delivery: Delivery) -> DeliveryResult:
    return DeliveryResult(summary="nothing done")


base._registry["bench-noop"] = Sink(name="bench-noop", description="benchmark: does nothing",
                                    parameters=NoopParameters, deliver=_noop)

# The bare Celery baseline: same broker configuration, a no-op task that only says "done".
bare_app = make_celery(load_settings(), main="bench")


@bare_app.task(name="bench.noop", ignore_result=True, acks_late=True)
def bare_noop(envelope: dict[str, Any]) -> None:
    client = _done_client()
    client.rpush(envelope["done_key"], f"{envelope['sent']},{time.time()}")


_client: redis.Redis | None = None


def _done_client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(os.environ["BENCH_REDIS"])
    return _client


# -- the harness ---------------------------------------------------------------------------


class Bench:
    def __init__(self, redis_url: str, folder: Path) -> None:
        from hub import db
        from hub.crypto import KeyRing
        from hub.sealing import TransportKeys

        self.prefix = f"bench-{uuid.uuid4().hex[:8]}:"
        self.redis_url = redis_url
        self.env = {
            "HUB_HOME": str(folder / "home"),
            "HUB_DATABASE_URL": f"sqlite:///{folder / 'hub.db'}",
            "HUB_BROKER_URL": f"{redis_url}?global_keyprefix={self.prefix}",
            "HUB_MASTER_KEY": KeyRing([KeyRing.generate()]).serialize(),
            "HUB_TRANSPORT_KEY": TransportKeys([TransportKeys.generate()]).serialize(),
            "HUB_LOG_LEVEL": "WARNING",
            "BENCH_REDIS": redis_url,
        }
        os.environ.update(self.env)
        self.settings = load_settings()
        engine = db.make_engine(self.settings.effective_database_url)
        db.upgrade(engine)
        engine.dispose()
        self.processes: list[subprocess.Popen[bytes]] = []
        self.folder = folder

    def close(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        client = redis.Redis.from_url(self.redis_url)
        for key in client.scan_iter(f"{self.prefix}*"):
            client.delete(key)

    def start_worker(self, app: str, queue: str) -> None:
        log = (self.folder / f"worker-{len(self.processes)}.log").open("wb")
        argv = [str(Path(sys.executable).parent / "celery"), "-A", app, "worker",
                "--pool=prefork", "--concurrency=1", f"--queues={queue}", "--loglevel=WARNING",
                "--without-mingle", "--without-gossip", "--without-heartbeat",
                "--include=bench_dispatch", f"--hostname=bench{len(self.processes)}@%h"]
        env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}"}
        self.processes.append(subprocess.Popen(argv, env=env, stdout=log,
                                               stderr=subprocess.STDOUT, cwd=ROOT))
        time.sleep(3)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", default=os.environ.get("HUB_TEST_REDIS_URL",
                                                          "redis://127.0.0.1:6379/0"))
    parser.add_argument("--n", type=int, default=2000, help="dispatches for (a)")
    parser.add_argument("--e2e", type=int, default=1000, help="executions for (b)")
    parser.add_argument("--latency", type=int, default=50, help="single executions timed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(args.redis, Path(tmp))
        try:
            results = run(bench, args)
        finally:
            bench.close()
    print(json.dumps(results, indent=2))


def run(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    from hub import broker
    from hub.cli.processes import build_dispatcher
    from hub.dispatch_loop import DispatchLoop, Intervals, OutcomeInbox
    from hub.events import EventService
    from hub.runtime import open_hub

    hub = open_hub(bench.settings)
    scenario = _scenario(hub)
    events = EventService(hub.sessions, scenario["automations"], clock=hub.clock)
    dispatcher = build_dispatcher(hub)
    tenant = scenario["tenant"]

    def ingest(count: int) -> None:
        for i in range(count):
            events.ingest(tenant, "bench.event", {"n": i}, actor="bench")

    # (a) dispatch throughput ----------------------------------------------------------
    ingest(args.n)
    probe = SizeProbe(dispatcher.sender)
    dispatcher.sender = probe
    started = time.perf_counter()
    while dispatcher.sweep().sent:
        pass
    hub_rate = args.n / (time.perf_counter() - started)
    dispatcher.sender = probe.sender
    envelope_size = max(probe.sizes)
    # Built now, not at import: the environment names this run's Redis only since Bench().
    bare = make_celery(bench.settings, main="bench")
    filler = {"done_key": "unused", "sent": 0, "pad": "x" * max(0, envelope_size - 40)}
    with bare.producer_or_acquire() as producer:
        started = time.perf_counter()
        for _ in range(args.n):
            bare.send_task("bench.noop", kwargs={"envelope": filler}, queue=BARE_QUEUE,
                           producer=producer, ignore_result=True)
        bare_rate = args.n / (time.perf_counter() - started)
    _purge(bench)
    _finish_all(hub)

    say(f"(a) hub {hub_rate:.0f}/s, bare {bare_rate:.0f}/s")
    # (b) end to end ---------------------------------------------------------------------
    bench.start_worker("workers.app", broker.DELIVERY_QUEUE)
    bench.start_worker("bench_dispatch:bare_app", BARE_QUEUE)
    stop = threading.Event()
    loop = DispatchLoop(dispatcher, OutcomeInbox(lambda: broker.outcome_connection(bench.settings)),
                        intervals=Intervals(sweep=0.05, drain=0.05))
    thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)
    ingest(args.e2e)
    started = time.perf_counter()
    thread.start()
    _wait_succeeded(hub, args.e2e, timeout=300)
    hub_e2e = args.e2e / (time.perf_counter() - started)

    say(f"(b) hub {hub_e2e:.1f}/s")
    client = redis.Redis.from_url(bench.redis_url)
    done_key = f"bench-done-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    with bare.producer_or_acquire() as producer:
        for _ in range(args.e2e):
            bare.send_task("bench.noop", kwargs={"envelope": {**filler, "done_key": done_key,
                                                              "sent": time.time()}},
                           queue=BARE_QUEUE, producer=producer, ignore_result=True)
    _wait(lambda: client.llen(done_key) >= args.e2e, timeout=300)
    bare_e2e = args.e2e / (time.perf_counter() - started)
    client.delete(done_key)

    # latency of single executions -------------------------------------------------------
    hub_latency = []
    for i in range(args.latency):
        begun = time.perf_counter()
        result = events.ingest(tenant, "bench.event", {"n": i}, actor="bench")
        [execution] = result.executions
        _wait(lambda e=execution.id: events.get_execution(tenant, e).status == "succeeded",
              timeout=30, every=0.002)
        hub_latency.append(time.perf_counter() - begun)
    bare_latency = []
    for _ in range(args.latency):
        begun = time.perf_counter()
        bare.send_task("bench.noop", kwargs={"envelope": {**filler, "done_key": done_key,
                                                          "sent": time.time()}},
                       queue=BARE_QUEUE, ignore_result=True)
        _wait(lambda: client.llen(done_key) >= 1, timeout=30, every=0.002)
        client.delete(done_key)
        bare_latency.append(time.perf_counter() - begun)
    stop.set()
    thread.join(10)
    hub.close()

    def ms(samples: list[float], q: float) -> float:
        return round(percentile(samples, q) * 1000, 1)

    return {
        "a_dispatch_per_s": {"hub": round(hub_rate), "bare_send_task": round(bare_rate),
                             "ratio": round(hub_rate / bare_rate, 2), "target": 0.8,
                             "envelope_bytes": envelope_size},
        "b_e2e_per_s": {"hub": round(hub_e2e, 1), "bare_celery": round(bare_e2e, 1),
                        "ratio": round(hub_e2e / bare_e2e, 2), "target": 0.7},
        "latency_ms": {"hub_p50": ms(hub_latency, 0.5), "hub_p99": ms(hub_latency, 0.99),
                       "bare_p50": ms(bare_latency, 0.5), "bare_p99": ms(bare_latency, 0.99),
                       "samples": args.latency},
    }


def _scenario(hub: Any) -> dict[str, Any]:
    from hub.automations.service import AutomationService

    automations = AutomationService(hub.sessions, clock=hub.clock)
    tenant = hub.tenants.create("bench", actor="bench").id
    hub.secrets.set(tenant, "TOKEN_A", "bench-secret-a-" + uuid.uuid4().hex, actor="bench")
    hub.secrets.set(tenant, "TOKEN_B", "bench-secret-b-" + uuid.uuid4().hex, actor="bench")
    automations.create_event_type(tenant, name="bench.event", parameters=[], actor="bench")
    automations.create_action(tenant, name="noop", sink="bench-noop", parameters=[
        {"name": "token_a", "type": "SECRET", "value": "TOKEN_A"},
        {"name": "token_b", "type": "SECRET", "value": "TOKEN_B"},
        {"name": "note", "type": "STRING", "value": "event {{ payload.n }}"},
    ], timeout=10.0, retry={"attempts": 1, "backoff": 1.0}, actor="bench")
    automations.create_automation(tenant, name="bench", event_type="bench.event",
                                  action="noop", actor="bench")
    return {"tenant": tenant, "automations": automations}


class SizeProbe:
    """Wraps the real sender and remembers how large the envelopes it sends are."""

    def __init__(self, sender: Any) -> None:
        self.sender = sender
        self.sizes: list[int] = []

    def batch(self) -> Any:
        return self.sender.batch()

    def send(self, envelope: Any, *, kwargsrepr: str, timeout: float) -> None:
        if len(self.sizes) < 10:
            self.sizes.append(len(json.dumps(envelope)))
        self.sender.send(envelope, kwargsrepr=kwargsrepr, timeout=timeout)


def _finish_all(hub: Any) -> None:
    from sqlalchemy import update

    from hub.executions import Execution

    with hub.sessions.begin() as session:
        session.execute(update(Execution).values(status="succeeded", deadline_at=None))


def _purge(bench: Bench) -> None:
    from hub import broker

    with broker.connection(bench.settings) as conn:
        for name in (broker.DELIVERY_QUEUE, BARE_QUEUE):
            conn.default_channel.queue_purge(name)


def _wait_succeeded(hub: Any, count: int, *, timeout: float) -> None:
    from sqlalchemy import func, select

    from hub.executions import Execution

    def done() -> bool:
        with hub.sessions() as session:
            running = session.scalar(select(func.count()).select_from(Execution).where(
                Execution.status != "succeeded"))
        return running == 0

    _wait(done, timeout=timeout, every=0.05)
    _ = count


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _wait(probe: Any, *, timeout: float, every: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise SystemExit("benchmark timed out")
        time.sleep(every)


if __name__ == "__main__":
    main()
