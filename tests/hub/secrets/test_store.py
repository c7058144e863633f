"""The secret store's service: round trips, versions, restore, rename, inheritance, deletes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub import audit
from hub.errors import Conflict, InvalidInput, NotFound
from hub.secret_value import SecretValue
from hub.secrets.store import Reference, SecretStore
from hub.tenants import TenantService, tenant_id_of

PASSWORD = "correct horse battery staple"
OTHER = "another long enough value"
PEM = b"-----BEGIN PRIVATE KEY-----\n\x00\xff binary tail \x01\x02\n"


def test_text_secret_round_trips_with_its_metadata(store: SecretStore) -> None:
    info = store.create("acme", "DB_PASSWORD", SecretValue(PASSWORD), actor="test",
                        description="the main database")
    assert (info.key, info.type, info.version, info.source) == ("DB_PASSWORD", "text", 1, "local")
    resolved = store.resolve("acme", "DB_PASSWORD")
    assert resolved.value.reveal_text() == PASSWORD
    assert (resolved.version, resolved.tenant, resolved.type) == (1, "acme", "text")
    assert store.get("acme", "DB_PASSWORD").description == "the main database"


def test_file_secret_round_trips_bytes_filename_and_media_type(store: SecretStore) -> None:
    info = store.create("acme", "tls.key", SecretValue(PEM), actor="test", type="file",
                        filename="server.key", media_type="application/x-pem-file")
    assert (info.type, info.filename, info.media_type) == ("file", "server.key",
                                                           "application/x-pem-file")
    assert store.resolve("acme", "tls.key").value.reveal() == PEM


def test_list_shows_metadata_and_never_a_value(store: SecretStore) -> None:
    store.create("acme", "B_KEY", SecretValue(PASSWORD), actor="test", description="b")
    store.create("acme", "A_KEY", SecretValue(OTHER), actor="test")
    listed = store.list("acme")
    assert [i.key for i in listed] == ["A_KEY", "B_KEY"]
    assert PASSWORD not in repr(listed) and OTHER not in repr(listed)


def test_update_with_a_value_makes_a_new_version_with_its_note(store: SecretStore) -> None:
    store.create("acme", "TOKEN", SecretValue(PASSWORD), actor="alice")
    info = store.update("acme", "TOKEN", actor="bob", value=SecretValue(OTHER), note="rotated")
    assert info.version == 2
    assert store.resolve("acme", "TOKEN").value.reveal_text() == OTHER
    history = store.versions("acme", "TOKEN")
    assert [(v.version, v.origin, v.actor, v.note, v.active) for v in history] == [
        (2, "updated", "bob", "rotated", True), (1, "created", "alice", None, False)]


def test_update_of_the_description_alone_keeps_the_value_and_version(store: SecretStore) -> None:
    store.create("acme", "TOKEN", SecretValue(PASSWORD), actor="test")
    info = store.update("acme", "TOKEN", actor="test", description="new words")
    assert (info.version, info.description) == (1, "new words")
    assert store.resolve("acme", "TOKEN").value.reveal_text() == PASSWORD


def test_stale_expected_version_is_a_conflict_naming_the_current_one(store: SecretStore,
                                                                      dump: Callable) -> None:
    store.create("acme", "TOKEN", SecretValue(PASSWORD), actor="test")
    store.update("acme", "TOKEN", actor="test", value=SecretValue(OTHER), expected_version=1)
    before = dump()
    with pytest.raises(Conflict) as caught:
        store.update("acme", "TOKEN", actor="test", value=SecretValue(PASSWORD),
                     expected_version=1)
    assert caught.value.details["current_version"] == 2
    assert dump() == before


def test_restore_makes_a_new_version_with_the_old_value(store: SecretStore) -> None:
    store.create("acme", "TOKEN", SecretValue(PASSWORD), actor="test")
    store.update("acme", "TOKEN", actor="test", value=SecretValue(OTHER))
    info = store.restore("acme", "TOKEN", 1, actor="carol", note="roll back")
    assert info.version == 3
    assert store.resolve("acme", "TOKEN").value.reveal_text() == PASSWORD
    newest = store.versions("acme", "TOKEN")[0]
    assert (newest.origin, newest.restored_from, newest.note) == ("restored", 1, "roll back")


def test_restore_of_a_missing_version_is_not_found(store: SecretStore) -> None:
    store.create("acme", "TOKEN", SecretValue(PASSWORD), actor="test")
    with pytest.raises(NotFound):
        store.restore("acme", "TOKEN", 7, actor="test")


def test_rename_keeps_history_and_value(store: SecretStore) -> None:
    store.create("acme", "OLD", SecretValue(PASSWORD), actor="test")
    store.update("acme", "OLD", actor="test", value=SecretValue(OTHER))
    store.rename("acme", "OLD", "NEW", actor="test")
    assert store.resolve("acme", "NEW").value.reveal_text() == OTHER
    assert [v.version for v in store.versions("acme", "NEW")] == [2, 1]
    with pytest.raises(NotFound):
        store.resolve("acme", "OLD")


def test_rename_onto_an_existing_key_is_a_conflict(store: SecretStore) -> None:
    store.create("acme", "ONE", SecretValue(PASSWORD), actor="test")
    store.create("acme", "TWO", SecretValue(OTHER), actor="test")
    with pytest.raises(Conflict):
        store.rename("acme", "ONE", "TWO", actor="test")


def test_duplicate_create_is_a_conflict(store: SecretStore) -> None:
    store.create("acme", "TOKEN", SecretValue(PASSWORD), actor="test")
    with pytest.raises(Conflict, match="already exists"):
        store.create("acme", "TOKEN", SecretValue(OTHER), actor="test")


def test_local_key_shadows_the_umbrella_key(store: SecretStore, tenants: TenantService) -> None:
    tenants.create("team", umbrella="acme", actor="test")
    store.create("acme", "SHARED", SecretValue(PASSWORD), actor="test")
    store.create("acme", "ONLY_UP", SecretValue(OTHER), actor="test")
    assert store.resolve("team", "SHARED").tenant == "acme"
    store.create("team", "SHARED", SecretValue(OTHER), actor="test")
    resolved = store.resolve("team", "SHARED")
    assert (resolved.tenant, resolved.value.reveal_text()) == ("team", OTHER)
    listed = {i.key: (i.source, i.origin_tenant) for i in store.list("team")}
    assert listed == {"SHARED": ("local", "team"), "ONLY_UP": ("inherited", "acme")}
    assert store.resolve("acme", "SHARED").value.reveal_text() == PASSWORD


def test_inheritance_follows_a_chain_of_umbrellas(store: SecretStore,
                                                  tenants: TenantService) -> None:
    tenants.create("division", umbrella="acme", actor="test")
    tenants.create("team", umbrella="division", actor="test")
    store.create("acme", "ROOT_KEY", SecretValue(PASSWORD), actor="test")
    resolved = store.resolve_many("team", ["ROOT_KEY"])["ROOT_KEY"]
    assert resolved.tenant == "acme"


def test_an_inherited_key_cannot_be_changed_from_below(store: SecretStore,
                                                        tenants: TenantService) -> None:
    tenants.create("team", umbrella="acme", actor="test")
    store.create("acme", "SHARED", SecretValue(PASSWORD), actor="test")
    with pytest.raises(Conflict, match="inherited from tenant 'acme'"):
        store.update("team", "SHARED", actor="test", value=SecretValue(OTHER))


def test_resolve_many_names_every_missing_key(store: SecretStore) -> None:
    store.create("acme", "THERE", SecretValue(PASSWORD), actor="test")
    with pytest.raises(NotFound) as caught:
        store.resolve_many("acme", ["THERE", "GONE_1", "GONE_2"])
    assert caught.value.details["keys"] == ["GONE_1", "GONE_2"]
    assert "acme" in caught.value.message


def test_resolve_present_returns_the_keys_that_resolve_and_leaves_out_the_rest(
        store: SecretStore) -> None:
    store.create("acme", "THERE", SecretValue(PASSWORD), actor="test")
    found = store.resolve_present("acme", ["THERE", "GONE"])
    assert list(found) == ["THERE"]
    assert found["THERE"].value.reveal_text() == PASSWORD and found["THERE"].version == 1


def test_resolve_accepts_the_tenant_id_as_well_as_its_name(store: SecretStore,
                                                           sessions: sessionmaker[Session],
                                                           ) -> None:
    store.create("acme", "TOKEN", SecretValue(PASSWORD), actor="test")
    with sessions() as session:
        tenant_id = tenant_id_of(session, "acme")
    resolved = store.resolve_many(tenant_id, ["TOKEN"])["TOKEN"]
    assert (resolved.tenant, resolved.tenant_id) == ("acme", tenant_id)


def test_deleted_key_stops_resolving_at_once_and_undelete_brings_it_back(
        store: SecretStore) -> None:
    store.create("acme", "TOKEN", SecretValue(PASSWORD), actor="test")
    report = store.delete("acme", "TOKEN", actor="test")
    assert report.deleted and report.recoverable_until is not None
    with pytest.raises(NotFound):
        store.resolve("acme", "TOKEN")
    assert [i.key for i in store.list("acme")] == []
    assert [i.key for i in store.list("acme", include_deleted=True)] == ["TOKEN"]
    store.undelete("acme", "TOKEN", actor="test")
    assert store.resolve("acme", "TOKEN").value.reveal_text() == PASSWORD


def test_deleting_a_local_key_uncovers_the_umbrella_one(store: SecretStore,
                                                        tenants: TenantService) -> None:
    tenants.create("team", umbrella="acme", actor="test")
    store.create("acme", "SHARED", SecretValue(PASSWORD), actor="test")
    store.create("team", "SHARED", SecretValue(OTHER), actor="test")
    assert store.delete("team", "SHARED", actor="test", dry_run=True).uncovers == "acme"
    store.delete("team", "SHARED", actor="test")
    assert store.resolve("team", "SHARED").value.reveal_text() == PASSWORD


def _finder(found: list[Reference], seen: list[Sequence[str]]) -> Callable[..., list[Reference]]:
    def finder(session: Session, tenant_ids: Sequence[str], key: str) -> list[Reference]:
        seen.append(list(tenant_ids))
        return found

    return finder


def test_delete_of_a_referenced_key_is_refused_with_the_references(
        make_store: Callable[..., SecretStore], tenants: TenantService, dump: Callable) -> None:
    reference = Reference(tenant="acme", owner_kind="action", owner="notify", parameter="pw")
    seen: list[Sequence[str]] = []
    store = make_store(references=_finder([reference], seen))
    store.create("acme", "TOKEN", SecretValue(PASSWORD), actor="test")
    before = dump()
    with pytest.raises(Conflict) as caught:
        store.delete("acme", "TOKEN", actor="test")
    assert caught.value.details["references"] == [asdict(reference)]
    assert dump() == before
    assert store.delete("acme", "TOKEN", actor="test", dry_run=True).references == [reference]
    assert dump() == before
    forced = store.delete("acme", "TOKEN", actor="test", force=True)
    assert forced.deleted and forced.forced


def test_references_are_looked_up_in_inheritors_that_do_not_shadow_the_key(
        make_store: Callable[..., SecretStore], tenants: TenantService,
        sessions: sessionmaker[Session]) -> None:
    tenants.create("inherits", umbrella="acme", actor="test")
    tenants.create("shadows", umbrella="acme", actor="test")
    tenants.create("below_shadow", umbrella="shadows", actor="test")
    seen: list[Sequence[str]] = []
    store = make_store(references=_finder([], seen))
    store.create("acme", "TOKEN", SecretValue(PASSWORD), actor="test")
    store.create("shadows", "TOKEN", SecretValue(OTHER), actor="test")
    store.references("acme", "TOKEN")
    with sessions() as session:
        expected = [tenant_id_of(session, "acme"), tenant_id_of(session, "inherits")]
    assert seen == [expected]


def test_rename_of_a_referenced_key_is_refused_unless_forced(
        make_store: Callable[..., SecretStore], tenants: TenantService) -> None:
    reference = Reference(tenant="acme", owner_kind="event_type", owner="order", parameter="k")
    store = make_store(references=_finder([reference], []))
    store.create("acme", "TOKEN", SecretValue(PASSWORD), actor="test")
    with pytest.raises(Conflict):
        store.rename("acme", "TOKEN", "RENAMED", actor="test")
    assert store.rename("acme", "TOKEN", "RENAMED", actor="test", force=True).key == "RENAMED"


def test_every_change_is_audited_in_an_intact_chain(store: SecretStore,
                                                    sessions: sessionmaker[Session]) -> None:
    store.create("acme", "TOKEN", SecretValue(PASSWORD), actor="alice")
    store.update("acme", "TOKEN", actor="bob", value=SecretValue(OTHER))
    store.restore("acme", "TOKEN", 1, actor="carol")
    store.rename("acme", "TOKEN", "RENAMED", actor="dave")
    store.delete("acme", "RENAMED", actor="erin")
    store.undelete("acme", "RENAMED", actor="frank")
    with sessions() as session:
        tenant_id = tenant_id_of(session, "acme")
        log = audit.entries(session, tenant_id)
        assert [e.action for e in reversed(log)] == [
            "tenant.create", "secret.create", "secret.update", "secret.restore",
            "secret.rename", "secret.delete", "secret.undelete"]
        assert audit.verify_chain(session, tenant_id) is None
        assert PASSWORD not in repr([e.details for e in log])


@pytest.mark.parametrize("call", [
    lambda s: s.create("acme", "1BAD", SecretValue(PASSWORD), actor="t"),
    lambda s: s.create("acme", "a" * 129, SecretValue(PASSWORD), actor="t"),
    lambda s: s.create("acme", "has space", SecretValue(PASSWORD), actor="t"),
    lambda s: s.create("acme", "OK", SecretValue("short"), actor="t"),
    lambda s: s.create("acme", "OK", SecretValue(PASSWORD), actor="t", type="yaml"),
    lambda s: s.create("acme", "OK", SecretValue(b"\xff\xfe not utf-8 at all"), actor="t"),
    lambda s: s.create("acme", "OK", SecretValue("x" * (64 * 1024 + 1)), actor="t"),
    lambda s: s.create("acme", "OK", SecretValue(b"x" * (1024 * 1024 + 1)), actor="t",
                       type="file", filename="big.bin"),
    lambda s: s.create("acme", "OK", SecretValue(PEM), actor="t", type="file"),
    lambda s: s.create("acme", "OK", SecretValue(PEM), actor="t", type="file",
                       filename="../etc/passwd"),
    lambda s: s.create("acme", "OK", SecretValue(PASSWORD), actor="t", filename="a.txt"),
    lambda s: s.create("acme", "OK", SecretValue(PASSWORD), actor="t", description="d" * 1001),
    lambda s: s.update("acme", "EXISTING", actor="t"),
    lambda s: s.update("acme", "EXISTING", actor="t", value=SecretValue("tiny")),
    lambda s: s.update("acme", "EXISTING", actor="t", description="x", note="n"),
    lambda s: s.update("acme", "EXISTING", actor="t", value=SecretValue(OTHER),
                       expected_version=0),
    lambda s: s.rename("acme", "EXISTING", "no/slash", actor="t"),
    lambda s: s.restore("acme", "EXISTING", 0, actor="t"),
])
def test_bad_input_is_refused_clearly_and_changes_nothing(store: SecretStore, dump: Callable,
                                                          call: Callable) -> None:
    store.create("acme", "EXISTING", SecretValue(PASSWORD), actor="t")
    before = dump()
    with pytest.raises(InvalidInput) as caught:
        call(store)
    assert caught.value.details.get("field")
    assert PASSWORD not in str(caught.value) and "tiny" not in str(caught.value)
    assert dump() == before


def test_short_value_refusal_explains_why(store: SecretStore) -> None:
    with pytest.raises(InvalidInput, match=r"at least 8 characters.*scrubbed from logs"):
        store.create("acme", "PIN", SecretValue("1234"), actor="test")


def test_missing_things_are_not_found_and_change_nothing(store: SecretStore,
                                                         dump: Callable) -> None:
    before = dump()
    for call in (lambda: store.update("acme", "NOPE", actor="t", description="x"),
                 lambda: store.resolve("acme", "NOPE"),
                 lambda: store.create("nobody", "KEY", SecretValue(PASSWORD), actor="t"),
                 lambda: store.delete("acme", "NOPE", actor="t"),
                 lambda: store.undelete("acme", "NOPE", actor="t")):
        with pytest.raises(NotFound):
            call()
    assert dump() == before


def test_set_creates_then_updates(store: SecretStore) -> None:
    assert store.set("acme", "TOKEN", PASSWORD, actor="test").version == 1
    assert store.set("acme", "TOKEN", OTHER, actor="test").version == 2
    assert store.resolve("acme", "TOKEN").value.reveal_text() == OTHER


def test_versions_of_an_inherited_key_are_visible_below(store: SecretStore,
                                                        tenants: TenantService) -> None:
    tenants.create("team", umbrella="acme", actor="test")
    store.create("acme", "SHARED", SecretValue(PASSWORD), actor="test")
    assert [v.version for v in store.versions("team", "SHARED")] == [1]
    assert store.get("team", "SHARED").source == "inherited"


def test_store_rows_hold_the_key_under_the_primary_kek(store: SecretStore,
                                                        sessions: sessionmaker[Session]) -> None:
    from hub.secrets.models import SecretVersion

    store.create("acme", "TOKEN", SecretValue(PASSWORD), actor="test")
    with sessions() as session:
        assert session.scalars(select(SecretVersion.kek_id)).all() == ["k1"]
