"""Resolve latency and throughput with 100,000 secrets in PostgreSQL, against a baseline.

Creates its own database, migrates it, bulk-loads 100,000 encrypted secrets (encrypted in
Python exactly as the store does, inserted with COPY), then measures, warm and on one
connection after another from the same pool:

- baseline: a plain indexed SELECT of the same row (the current version's columns, found by
  tenant id and key), through the same engine and pooled connections, without decryption;
- resolve: `SecretStore.resolve(tenant, key)`: the umbrella chain walk, the row, one decrypt;
- resolve (inherited): the key found in the umbrella tenant, one level up.

It prints p50/p99 latencies, throughput, and the ratio resolve / baseline throughput, and
drops the database. Targets: p99 resolve under 2 ms; at least 0.5 of the baseline's throughput.

    .venv/bin/python bench/bench_resolve.py [--secrets 100000] [--samples 5000]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets as random_secrets
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hub import db
from hub.config import Settings
from hub.crypto import KeyRing
from hub.secrets.models import value_aad
from hub.secrets.store import SecretStore

ADMIN_URL = os.environ.get("HUB_TEST_DATABASE_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TENANTS = 100
BASELINE_SQL = text(
    "SELECT v.version, s.type, v.kek_id, v.wrapped_key, v.ciphertext FROM secrets s "
    "JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.current_version "
    "WHERE s.tenant_id = :tenant AND s.key = :key AND s.deleted_at IS NULL")


def load(url: str, ring: KeyRing, count: int) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """Tenants t000..t099 (t050.. under umbrellas t000..), `count` secrets spread over them."""
    now = datetime.now(UTC)
    tenant_ids = {f"t{n:03d}": str(uuid.uuid4()) for n in range(TENANTS)}
    engine = db.make_engine(url)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        names = list(tenant_ids)
        with cursor.copy("COPY tenants (id, name, umbrella_id, created_at) FROM STDIN") as copy:
            for n, name in enumerate(names):
                umbrella = tenant_ids[names[n - TENANTS // 2]] if n >= TENANTS // 2 else None
                copy.write_row((tenant_ids[name], name, umbrella, now))
        placed: list[tuple[str, str]] = []
        started = time.perf_counter()
        with cursor.copy("COPY secrets (id, tenant_id, key, type, description, "
                         "current_version, created_at, updated_at) FROM STDIN") as secrets_copy:
            rows = []
            for i in range(count):
                tenant = names[i % (TENANTS // 2)]  # the umbrellas hold the data
                key = f"KEY_{i:06d}"
                secret_id = str(uuid.uuid4())
                secrets_copy.write_row((secret_id, tenant_ids[tenant], key, "text", "", 1,
                                        now, now))
                value = random_secrets.token_urlsafe(24).encode()
                envelope = ring.encrypt(value, value_aad(tenant_ids[tenant], secret_id, 1,
                                                         "text"))
                rows.append((secret_id, 1, "created", "bench", now, envelope.kek_id,
                             envelope.wrapped_key, envelope.ciphertext))
                placed.append((tenant, key))
        with cursor.copy("COPY secret_versions (secret_id, version, origin, actor, created_at, "
                         "kek_id, wrapped_key, ciphertext) FROM STDIN") as versions_copy:
            for row in rows:
                versions_copy.write_row(row)
        raw.commit()
        print(f"loaded {count} secrets in {time.perf_counter() - started:.1f} s "
              "(encrypt in Python + COPY)")
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return placed, tenant_ids


def measure(call: Callable[[int], object], samples: int) -> list[float]:
    timings = []
    for n in range(samples):
        started = time.perf_counter()
        call(n)
        timings.append(time.perf_counter() - started)
    return timings


def summary(name: str, timings: list[float]) -> float:
    ordered = sorted(timings)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    throughput = len(timings) / sum(timings)
    print(f"{name:22} p50 {p50:6.3f} ms   p99 {p99:6.3f} ms   {throughput:8.0f} ops/s")
    return throughput


def run(count: int, samples: int) -> None:
    name = f"hub_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        engine = db.make_engine(url)
        db.upgrade(engine)
        ring = KeyRing([KeyRing.generate("bench")])
        placed, tenant_ids = load(url, ring, count)
        sessions = db.make_sessionmaker(engine)
        store = SecretStore(sessions, ring, Settings(), clock=lambda: datetime.now(UTC))
        picks = [random.Random(n).choice(placed) for n in range(samples)]
        children = {f"t{n:03d}": f"t{n + TENANTS // 2:03d}" for n in range(TENANTS // 2)}

        def baseline(n: int) -> object:
            tenant, key = picks[n]
            with engine.connect() as connection:  # the same access path resolve takes
                return connection.execute(BASELINE_SQL, {"tenant": tenant_ids[tenant],
                                                         "key": key}).one()

        def resolve(n: int) -> object:
            tenant, key = picks[n]
            return store.resolve(tenant, key)

        def resolve_inherited(n: int) -> object:
            tenant, key = picks[n]
            return store.resolve(children[tenant], key)

        for call in (baseline, resolve, resolve_inherited):  # warm pools, caches, plans
            measure(call, min(samples, 1000))
        results: dict[str, list[float]] = {"baseline": [], "resolve": [],
                                           "resolve (inherited)": []}
        block = max(1, samples // 5)
        for start in range(0, samples, block):  # interleaved, so drift hits all alike
            for label, call in (("baseline", baseline), ("resolve", resolve),
                                ("resolve (inherited)", resolve_inherited)):
                results[label] += measure(lambda n, c=call, s=start: c(s + n),  # type: ignore[misc]
                                          min(block, samples - start))
        print(f"\n{samples} warm samples each, one thread, PostgreSQL on loopback:")
        base = summary("baseline SELECT", results["baseline"])
        local = summary("resolve", results["resolve"])
        inherited = summary("resolve (inherited)", results["resolve (inherited)"])
        p99 = sorted(results["resolve"])[int(samples * 0.99) - 1] * 1000
        print(f"\nresolve / baseline throughput: {local / base:.2f} (target >= 0.5)")
        print(f"inherited / baseline throughput: {inherited / base:.2f}")
        print(f"resolve p99: {p99:.3f} ms (target < 2 ms)")
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secrets", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=5000)
    arguments = parser.parse_args()
    run(arguments.secrets, arguments.samples)


if __name__ == "__main__":
    main()
