"""The audit log: append-only entries in a hash chain per tenant that shows tampering."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, update
from sqlalchemy.orm import Session, sessionmaker

from hub import audit, db
from hub.audit import AuditEntry
from hub.errors import InvalidInput
from hub.tenants import TenantService

T0 = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return db.make_sessionmaker(engine)


@pytest.fixture
def tenant_ids(sessions: sessionmaker[Session]) -> tuple[str, str]:
    service = TenantService(sessions, clock=lambda: T0)
    return (service.create("acme", actor="root").id, service.create("other", actor="root").id)


def _write(sessions: sessionmaker[Session], tenant_id: str, count: int) -> None:
    for n in range(count):
        with db.transaction(sessions) as session:
            audit.record(session, tenant_id=tenant_id, actor=f"user{n}", action="thing.change",
                         target=f"thing:{n}", at=T0 + timedelta(minutes=n),
                         details={"version": n, "flags": ("a", "b")})


def test_entries_chain_per_tenant_with_consecutive_seqs(
        sessions: sessionmaker[Session], tenant_ids: tuple[str, str]) -> None:
    acme, other = tenant_ids
    _write(sessions, acme, 3)
    _write(sessions, other, 2)
    with sessions() as session:
        log = list(reversed(audit.entries(session, acme)))
        assert [e.seq for e in log] == [1, 2, 3, 4]  # 1 is tenant.create
        assert all(e.prev_hash == p.hash for p, e in itertools.pairwise(log))
        assert audit.verify_chain(session, acme) is None
        assert audit.verify_chain(session, other) is None


def test_entries_filter_by_action_target_and_time(sessions: sessionmaker[Session],
                                                  tenant_ids: tuple[str, str]) -> None:
    acme, _ = tenant_ids
    _write(sessions, acme, 4)
    with sessions() as session:
        assert [e.target for e in audit.entries(session, acme, action="thing.change",
                                                limit=2)] == ["thing:3", "thing:2"]
        assert [e.seq for e in audit.entries(session, acme, target="thing:1")] == [3]
        since = audit.entries(session, acme, since=T0 + timedelta(minutes=2))
        assert [e.target for e in since] == ["thing:3", "thing:2"]


def test_an_edited_entry_breaks_the_chain_at_that_entry(sessions: sessionmaker[Session],
                                                        tenant_ids: tuple[str, str]) -> None:
    acme, _ = tenant_ids
    _write(sessions, acme, 4)
    with db.transaction(sessions) as session:
        session.execute(update(AuditEntry).where(AuditEntry.tenant_id == acme,
                                                 AuditEntry.seq == 3).values(actor="mallory"))
    with sessions() as session:
        assert audit.verify_chain(session, acme) == 3


def test_a_deleted_entry_breaks_the_chain_after_the_gap(sessions: sessionmaker[Session],
                                                        tenant_ids: tuple[str, str]) -> None:
    acme, _ = tenant_ids
    _write(sessions, acme, 4)
    with db.transaction(sessions) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.tenant_id == acme,
                                                 AuditEntry.seq == 2))
    with sessions() as session:
        assert audit.verify_chain(session, acme) == 3


def test_a_rewritten_entry_with_a_fresh_hash_still_breaks_the_next_link(
        sessions: sessionmaker[Session], tenant_ids: tuple[str, str]) -> None:
    acme, _ = tenant_ids
    _write(sessions, acme, 3)
    with db.transaction(sessions) as session:
        entry = session.query(AuditEntry).filter_by(tenant_id=acme, seq=2).one()
        entry.details = {"version": 99}
        entry.hash = audit.entry_hash(entry)
    with sessions() as session:
        assert audit.verify_chain(session, acme) == 3


def test_an_entry_is_only_kept_if_its_transaction_commits(sessions: sessionmaker[Session],
                                                          tenant_ids: tuple[str, str]) -> None:
    acme, _ = tenant_ids
    with pytest.raises(RuntimeError), db.transaction(sessions) as session:
        audit.record(session, tenant_id=acme, actor="x", action="thing.change",
                     target="thing", at=T0)
        raise RuntimeError("the change failed")
    with sessions() as session:
        assert [e.action for e in audit.entries(session, acme)] == ["tenant.create"]


def test_details_must_be_json_and_outcome_known(sessions: sessionmaker[Session],
                                                tenant_ids: tuple[str, str]) -> None:
    acme, _ = tenant_ids
    with db.transaction(sessions) as session:
        with pytest.raises(InvalidInput):
            audit.record(session, tenant_id=acme, actor="x", action="a", target="t", at=T0,
                         details={"bad": object()})
        with pytest.raises(InvalidInput):
            audit.record(session, tenant_id=acme, actor="x", action="a", target="t", at=T0,
                         outcome="maybe")
