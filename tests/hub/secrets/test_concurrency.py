"""Concurrent writers on both backends: no version is lost, none is created twice."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.errors import Conflict
from hub.secret_value import SecretValue
from hub.secrets.models import SecretVersion
from hub.secrets.store import SecretStore

WRITERS = 4
EACH = 5


def _run_together(count: int, work: Callable[[int], None]) -> list[BaseException]:
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(number: int) -> None:
        start.wait()
        try:
            work(number)
        except BaseException as exc:  # collected and asserted on by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_concurrent_updates_never_lose_a_version(store: SecretStore,
                                                 sessions: sessionmaker[Session]) -> None:
    store.create("acme", "COUNTER", SecretValue("initial value"), actor="test")

    def work(number: int) -> None:
        for step in range(EACH):
            store.update("acme", "COUNTER", actor=f"writer-{number}",
                         value=SecretValue(f"writer {number} step {step}"))

    assert _run_together(WRITERS, work) == []
    with sessions() as session:
        numbers = session.scalars(select(SecretVersion.version)
                                  .order_by(SecretVersion.version)).all()
    assert numbers == list(range(1, 2 + WRITERS * EACH))
    assert store.get("acme", "COUNTER").version == 1 + WRITERS * EACH
    values = {store.resolve("acme", "COUNTER").value.reveal_text()}
    assert values <= {f"writer {n} step {EACH - 1}" for n in range(WRITERS)}


def test_writers_expecting_the_same_version_get_one_winner_and_conflicts(
        store: SecretStore, sessions: sessionmaker[Session]) -> None:
    store.create("acme", "TOKEN", SecretValue("initial value"), actor="test")
    winners: list[int] = []

    def work(number: int) -> None:
        store.update("acme", "TOKEN", actor=f"writer-{number}",
                     value=SecretValue(f"value from writer {number}"), expected_version=1)
        winners.append(number)

    errors = _run_together(WRITERS, work)
    assert len(winners) == 1
    assert len(errors) == WRITERS - 1 and all(isinstance(e, Conflict) for e in errors)
    assert all(e.details["current_version"] == 2 for e in errors if isinstance(e, Conflict))
    assert store.resolve("acme", "TOKEN").value.reveal_text() == \
        f"value from writer {winners[0]}"
    with sessions() as session:
        assert session.scalars(select(SecretVersion.version)).all() == [1, 2]


def test_concurrent_creates_of_one_key_make_one_secret(store: SecretStore) -> None:
    def work(number: int) -> None:
        store.create("acme", "ONCE", SecretValue(f"value from writer {number}"), actor="test")

    errors = _run_together(WRITERS, work)
    assert len(errors) == WRITERS - 1 and all(isinstance(e, Conflict) for e in errors)
    assert [i.key for i in store.list("acme")] == ["ONCE"]
