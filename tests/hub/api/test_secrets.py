"""The secrets endpoints: each operation through HTTP, and that no answer carries a value."""

from __future__ import annotations

import base64

from fastapi.testclient import TestClient

from tests.hub.api.conftest import SECRET_MARK, World, secret_text

API = "/api/v1/secrets"


def create(client: TestClient, world: World, key: str, value: str, **extra: object) -> dict:
    response = client.post(API, headers=world.headers("writer"),
                           json={"key": key, "value": value, **extra})
    assert response.status_code == 201, response.text
    assert value not in response.text
    return response.json()


def test_created_secret_is_listed_with_metadata_and_no_value(
        client: TestClient, world: World) -> None:
    value = secret_text()
    created = create(client, world, "db-password", value, description="the db")
    assert created["key"] == "db-password" and created["version"] == 1
    listed = client.get(API, headers=world.headers("viewer"))
    assert listed.status_code == 200
    item = next(i for i in listed.json() if i["key"] == "db-password")
    assert {"key", "description", "type", "version", "source"} <= item.keys()
    assert item["type"] == "text" and item["description"] == "the db"
    assert value not in listed.text


def test_update_adds_a_version_and_show_lists_versions_without_values(
        client: TestClient, world: World) -> None:
    first, second = secret_text(), secret_text()
    create(client, world, "api-key", first)
    updated = client.patch(f"{API}/api-key", headers=world.headers("writer"),
                           json={"value": second, "note": "rotated", "expected_version": 1})
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2
    shown = client.get(f"{API}/api-key", headers=world.headers("viewer"))
    assert [v["version"] for v in shown.json()["versions"]] == [1, 2] or \
        sorted(v["version"] for v in shown.json()["versions"]) == [1, 2]
    assert SECRET_MARK not in shown.text


def test_update_with_a_stale_expected_version_is_a_conflict_and_changes_nothing(
        client: TestClient, world: World) -> None:
    create(client, world, "stale", secret_text())
    client.patch(f"{API}/stale", headers=world.headers("writer"), json={"value": secret_text()})
    response = client.patch(f"{API}/stale", headers=world.headers("writer"),
                            json={"value": secret_text(), "expected_version": 1})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get(f"{API}/stale", headers=world.headers("viewer")).json()["version"] == 2


def test_restore_makes_a_new_version_from_an_old_one(client: TestClient, world: World) -> None:
    key = world.new_secret(versions=2)
    response = client.post(f"{API}/{key}/versions/1/restore", headers=world.headers("writer"))
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 3
    versions = client.get(f"{API}/{key}/versions", headers=world.headers("viewer")).json()
    assert len(versions) == 3


def test_rename_moves_the_secret_to_the_new_key(client: TestClient, world: World) -> None:
    key = world.new_secret()
    response = client.post(f"{API}/{key}/rename", headers=world.headers("writer"),
                           json={"new_key": "renamed"})
    assert response.status_code == 200, response.text
    assert client.get(f"{API}/renamed", headers=world.headers("viewer")).status_code == 200
    assert client.get(f"{API}/{key}", headers=world.headers("viewer")).status_code == 404


def test_delete_dry_run_previews_and_keeps_the_secret(client: TestClient, world: World) -> None:
    key = world.new_secret()
    response = client.delete(f"{API}/{key}", headers=world.headers("writer"),
                             params={"dry_run": "true"})
    assert response.status_code == 200, response.text
    assert response.json()["dry_run"] is True
    assert client.get(f"{API}/{key}", headers=world.headers("viewer")).status_code == 200


def test_deleted_secret_is_gone_until_an_admin_undeletes_it(
        client: TestClient, world: World) -> None:
    key = world.new_secret()
    assert client.delete(f"{API}/{key}", headers=world.headers("writer")).status_code == 200
    assert client.get(f"{API}/{key}", headers=world.headers("viewer")).status_code == 404
    assert client.post(f"{API}/{key}/undelete",
                       headers=world.headers("writer")).status_code == 403
    response = client.post(f"{API}/{key}/undelete", headers=world.headers("admin"))
    assert response.status_code == 200, response.text
    assert client.get(f"{API}/{key}", headers=world.headers("viewer")).status_code == 200


def test_file_secret_as_base64_json_keeps_filename_and_media_type(
        client: TestClient, world: World) -> None:
    content = secret_text().encode()
    encoded = base64.b64encode(content).decode()
    created = create(client, world, "tls-cert", encoded, type="file",
                     filename="cert.pem", media_type="application/x-pem-file")
    assert created["type"] == "file"
    assert created["filename"] == "cert.pem"
    assert encoded not in client.get(f"{API}/tls-cert", headers=world.headers("viewer")).text


def test_file_secret_with_invalid_base64_is_refused_without_echo(
        client: TestClient, world: World) -> None:
    value = "not base64 at all! " + secret_text()
    response = client.post(API, headers=world.headers("writer"),
                           json={"key": "bad-file", "value": value, "type": "file"})
    assert response.status_code == 422
    assert SECRET_MARK not in response.text
    assert client.get(f"{API}/bad-file", headers=world.headers("viewer")).status_code == 404


def test_file_secret_as_multipart_upload_is_created(client: TestClient, world: World) -> None:
    content = secret_text().encode()
    response = client.post(API, headers=world.headers("writer"),
                           data={"key": "ssh-key", "description": "deploy key"},
                           files={"file": ("id_ed25519", content, "application/octet-stream")})
    assert response.status_code == 201, response.text
    assert response.json()["type"] == "file"
    assert response.json()["filename"] == "id_ed25519"
    assert SECRET_MARK not in response.text


def test_wrong_type_for_value_names_the_field_and_never_echoes_the_input(
        client: TestClient, world: World) -> None:
    response = client.post(API, headers=world.headers("writer"),
                           json={"key": "k", "value": {"nested": SECRET_MARK + "x"}})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert "value" in problem["detail"]
    assert SECRET_MARK not in response.text


def test_unknown_field_is_refused_and_nothing_is_created(
        client: TestClient, world: World) -> None:
    response = client.post(API, headers=world.headers("writer"),
                           json={"key": "typo", "value": secret_text(), "descripton": "x"})
    assert response.status_code == 422
    assert "descripton" in response.json()["detail"]
    assert SECRET_MARK not in response.text
    assert client.get(f"{API}/typo", headers=world.headers("viewer")).status_code == 404


def test_malformed_json_is_a_400_problem_that_echoes_nothing(
        client: TestClient, world: World) -> None:
    body = '{"key": "broken", "value": "' + SECRET_MARK + 'abc'
    response = client.post(API, headers={**world.headers("writer"),
                                         "content-type": "application/json"}, content=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert SECRET_MARK not in response.text
    patch = client.patch(f"{API}/{world.new_secret()}",
                         headers={**world.headers("writer"), "content-type": "application/json"},
                         content=body)
    assert patch.status_code == 400 and SECRET_MARK not in patch.text


def test_oversized_body_is_refused_with_413_before_parsing(
        client: TestClient, world: World) -> None:
    huge = "x" * (3 * 1024 * 1024)
    response = client.post(API, headers=world.headers("writer"),
                           json={"key": "huge", "value": huge})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get(f"{API}/huge", headers=world.headers("viewer")).status_code == 404


def test_oversized_chunked_body_without_length_is_refused_with_413(
        client: TestClient, world: World) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"y" * (100 * 1024)

    response = client.post(API, headers={**world.headers("writer"),
                                         "content-type": "application/json"}, content=chunks())
    assert response.status_code == 413


def test_value_too_short_for_the_store_is_invalid_input_without_echo(
        client: TestClient, world: World) -> None:
    response = client.post(API, headers=world.headers("writer"),
                           json={"key": "short", "value": "ab"})
    assert response.status_code == 422
    assert '"ab"' not in response.text


def test_other_tenants_secret_is_not_found_rather_than_forbidden(
        client: TestClient, world: World) -> None:
    key = world.new_secret("other")
    response = client.get(f"{API}/{key}", headers=world.headers("admin"))
    assert response.status_code == 404


def test_references_of_an_unused_secret_are_empty(client: TestClient, world: World) -> None:
    key = world.new_secret()
    response = client.get(f"{API}/{key}/references", headers=world.headers("viewer"))
    assert response.status_code == 200
    assert response.json() == []


def test_delete_of_a_referenced_secret_is_409_listing_references_unless_forced(
        client: TestClient, world: World) -> None:
    from hub.automations.service import AutomationService

    key = world.new_secret()
    AutomationService(world.hub.sessions, clock=world.hub.clock).create_action(
        "acme", name="notify", sink="http", actor="test",
        parameters=[{"name": "url", "type": "STRING", "value": "http://127.0.0.1:9/x"},
                    {"name": "auth_token", "type": "SECRET", "value": key}])
    refused = client.delete(f"{API}/{key}", headers=world.headers("writer"))
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    [reference] = refused.json()["references"]
    assert reference["owner_kind"] == "action" and reference["owner"] == "notify"
    assert reference["parameter"] == "auth_token"
    listed = client.get(f"{API}/{key}/references", headers=world.headers("viewer")).json()
    assert [r["parameter"] for r in listed] == ["auth_token"]
    forced = client.delete(f"{API}/{key}", headers=world.headers("writer"),
                           params={"force": "true"})
    assert forced.status_code == 200, forced.text
    assert forced.json()["deleted"] is True


def test_a_value_that_arrives_is_registered_with_the_scrubber(
        client: TestClient, world: World) -> None:
    from hub.logging import get_scrubber

    value = secret_text()
    create(client, world, "scrubbed", value)
    assert value not in get_scrubber().scrub(f"oops: {value} leaked")
