"""Benchmark: the hub's scrubber against an Airflow-style regex alternation, in one run.

    .venv/bin/python bench/bench_scrubber.py [--quick]

For 10, 1,000 and 10,000 registered values (each with all its forms, for both contenders) it
prints, on the same corpus of 200-byte and 10 KB log lines:

- throughput of the baseline (`re.compile("|".join(map(re.escape, forms)))` and `.sub`, the
  way Airflow's SecretsMasker builds its replacer) and of `Scrubber.scrub`, and their ratio;
- p50/p99 of `Scrubber.scrub` per 10 KB line;
- the cost of a structlog JSON log call through `configure_logging`'s chain, with and
  without the two scrubbing steps;
- the latency of registering one task's values (3 values, `add_many`) while two other
  threads log.

The baseline is given a time budget per measurement; where even one line does not fit the
budget the figure printed is an upper bound on its throughput (marked `<=`).
"""

from __future__ import annotations

import argparse
import io
import logging
import random
import re
import statistics
import string
import sys
import threading
import time
from collections.abc import Callable, Sequence

import structlog

from hub.config import Settings
from hub.logging import Scrubber, configure_logging, get_scrubber
from hub.logging.forms import forms_of
from hub.logging.processors import ScrubbingRenderer

ALPHABET = string.ascii_letters + string.digits + "'\"%+/=-_.@é"
_WORD_LIST = ("execution dispatch action notify status ok user alice path api v1 events "
              "latency retry attempt tenant webhook delivered sink http smtp sql queue redis")
WORDS = _WORD_LIST.split()


def random_value(rnd: random.Random) -> str:
    return "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(16, 40)))


def corpus_line(rnd: random.Random, size: int, secret: str | None) -> str:
    parts: list[str] = []
    length = 0
    while length < size:
        word = rnd.choice(WORDS)
        piece = f"{word}={rnd.randrange(10**6)}" if rnd.random() < 0.3 else word
        parts.append(piece)
        length += len(piece) + 1
    if secret is not None:
        parts.insert(rnd.randrange(len(parts)), f"token={secret}")
    return " ".join(parts)[: size + (len(secret) + 6 if secret else 0)]


def corpus(rnd: random.Random, values: Sequence[str], size: int, count: int) -> list[str]:
    # One line in ten carries a registered value.
    return [corpus_line(rnd, size, rnd.choice(values) if n % 10 == 0 else None)
            for n in range(count)]


def throughput(function: Callable[[str], object], lines: Sequence[str],
               budget: float) -> tuple[float, bool]:
    """Lines per second over at most `budget` seconds (at least one line); exact flag."""
    done = 0
    start = time.perf_counter()
    while True:
        function(lines[done % len(lines)])
        done += 1
        elapsed = time.perf_counter() - start
        if elapsed >= budget:
            return done / elapsed, done > 1
        if done >= 20 * len(lines):
            return done / elapsed, True


def latencies(function: Callable[[str], object], lines: Sequence[str],
              rounds: int) -> tuple[list[float], list[float]]:
    """Per-call wall and thread-CPU milliseconds (CPU time is blind to a busy neighbour)."""
    wall, cpu = [], []
    for n in range(rounds):
        line = lines[n % len(lines)]
        start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
        function(line)
        wall.append((time.perf_counter_ns() - start) / 1e6)
        cpu.append((time.thread_time_ns() - start_cpu) / 1e6)
    return wall, cpu


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def scrubber_with(values: Sequence[str]) -> Scrubber:
    scrubber = Scrubber(background=False, max_values=len(values) + 100)
    for start in range(0, len(values), 500):
        scrubber.add_many(values[start:start + 500])
    scrubber.compact()
    return scrubber


def bench_matching(rnd: random.Random, count: int, budget: float) -> None:
    values = [random_value(rnd) for _ in range(count)]
    forms = [form.text for value in values for form in forms_of(value)]
    started = time.perf_counter()
    scrubber = scrubber_with(values)
    build = time.perf_counter() - started
    started = time.perf_counter()
    scrubber.compact()
    rebuild = time.perf_counter() - started
    started = time.perf_counter()
    baseline = re.compile("|".join(re.escape(form) for form in forms))
    baseline_build = time.perf_counter() - started
    # Airflow as shipped registers the values alone, without encodings: a second baseline.
    values_only = re.compile("|".join(re.escape(value) for value in values))

    def airflow(line: str) -> str:
        return baseline.sub("***", line)

    def airflow_values_only(line: str) -> str:
        return values_only.sub("***", line)

    print(f"\n{count} values, {len(forms)} forms: scrubber registration {build:.2f}s, "
          f"one full rebuild {rebuild:.2f}s; baseline regex compile {baseline_build:.2f}s")
    for size, lines in ((200, corpus(rnd, values, 200, 2000)),
                        (10_000, corpus(rnd, values, 10_000, 200))):
        ours, _ = throughput(get_scrub(scrubber), lines, budget)
        for name, contender in (("baseline (all forms)", airflow),
                                ("baseline (values only)", airflow_values_only)):
            theirs, exact = throughput(contender, lines, budget)
            bound = "" if exact else "<="
            print(f"  {size:>6}-byte lines: scrubber {ours:10,.0f}/s   {name:<22} "
                  f"{bound}{theirs:10,.1f}/s   ratio {'>=' if bound else ''}"
                  f"{ours / theirs:,.0f}x")
        if size == 10_000:
            timings, cpu = latencies(get_scrub(scrubber), lines, 5000)
            print(f"  10 KB line scrub: wall p50 {percentile(timings, 0.5):.3f} ms, "
                  f"p99 {percentile(timings, 0.99):.3f} ms, max {max(timings):.3f} ms; "
                  f"CPU p99 {percentile(cpu, 0.99):.3f} ms")


def get_scrub(scrubber: Scrubber) -> Callable[[str], str]:
    return scrubber.scrub


def bench_log_call(rnd: random.Random, count: int, rounds: int) -> None:
    """A structlog JSON call through configure_logging's chain, with and without scrubbing."""
    stream = io.StringIO()
    configure_logging(Settings(log_format="json", log_level="INFO"), stream=stream)
    scrubber = get_scrubber()
    scrubber.max_values = count + 100
    values = [random_value(rnd) for _ in range(count)]
    for start in range(0, len(values), 500):
        scrubber.add_many(values[start:start + 500])
    scrubber.compact()
    formatter = logging.getLogger().handlers[0].formatter
    with_scrub = list(formatter.processors)  # type: ignore[union-attr]
    without = [p.renderer if isinstance(p, ScrubbingRenderer) else p for p in with_scrub]
    log = structlog.get_logger("hub.dispatch")

    def call() -> None:
        log.info("delivery finished", execution_id="5d0c7a9e-1f2b", attempt=2, status="ok",
                 sink="http", latency_ms=12.5, tags=["a", "b"])

    def timed(processors: list[object]) -> float:
        formatter.processors = processors  # type: ignore[union-attr]
        best = float("inf")
        for _ in range(5):
            stream.seek(0)
            stream.truncate()
            start = time.perf_counter()
            for _ in range(rounds):
                call()
            best = min(best, (time.perf_counter() - start) / rounds)
        return best

    plain, scrubbed = timed(without), timed(with_scrub)
    formatter.processors = with_scrub  # type: ignore[union-attr]
    print(f"\nstructlog JSON call, {count} values: without scrubbing {plain * 1e6:.1f} us, "
          f"with {scrubbed * 1e6:.1f} us, ratio {scrubbed / plain:.2f}")


def bench_registration(rnd: random.Random, count: int, tasks: int) -> None:
    """add_many(3 values) latency while two threads scrub log lines continuously."""
    scrubber = Scrubber(max_values=count + 10 * tasks)
    values = [random_value(rnd) for _ in range(count)]
    for start in range(0, len(values), 500):
        scrubber.add_many(values[start:start + 500])
    scrubber.compact()
    lines = corpus(rnd, values, 200, 500)
    stop = threading.Event()

    def log_forever() -> None:
        n = 0
        while not stop.is_set():
            scrubber.scrub(lines[n % len(lines)])
            n += 1

    threads = [threading.Thread(target=log_forever) for _ in range(2)]
    for thread in threads:
        thread.start()
    wall, cpu, automata = [], [], []
    try:
        for _ in range(tasks):
            batch = [random_value(rnd) for _ in range(3)]
            started, started_cpu = time.perf_counter(), time.thread_time()
            scrubber.add_many(batch, ttl=300)
            wall.append((time.perf_counter() - started) * 1e3)
            cpu.append((time.thread_time() - started_cpu) * 1e3)
            automata.append(len(scrubber._matchers))
            time.sleep(0.002)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    print(f"\nregister one task's values (3) with {count} registered, 2 threads logging: "
          f"wall p50 {statistics.median(wall):.3f} ms p99 {percentile(wall, 0.99):.3f} ms; "
          f"own CPU p50 {statistics.median(cpu):.3f} ms p99 {percentile(cpu, 0.99):.3f} ms; "
          f"automata on the hot path: p50 {statistics.median(automata):.0f}, "
          f"max {max(automata)}")


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, short budgets")
    args = parser.parse_args(argv)
    rnd = random.Random(20260101)
    counts = (10, 1000) if args.quick else (10, 1000, 10_000)
    budget = 0.5 if args.quick else 3.0
    print(f"Python {sys.version.split()[0]}; budget per baseline measurement {budget}s")
    for count in counts:
        bench_matching(rnd, count, budget)
    bench_log_call(rnd, counts[-1], 2000 if args.quick else 20_000)
    bench_registration(rnd, counts[-1], 50 if args.quick else 300)


if __name__ == "__main__":
    main(sys.argv[1:])
