"""The sink contract: credential fields, schema, validation errors, discovery."""

from __future__ import annotations

import ast
import logging
import pickle
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, SecretStr

from sinks import base
from sinks.base import (
    DeliveryResult,
    InvalidParameters,
    PermanentSinkError,
    RetryableSinkError,
    Sink,
    UnknownSink,
    get_sink,
    load_sinks,
)
from tests.sinks.sink_receivers import assert_hidden

SECRET = "value-S3cr3t-0a9c-never-shown"
NUMBER = 98765431


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: str
    api_key: SecretStr
    backup_key: SecretStr | None = None
    port: int = 1


def _deliver(params: _Params, delivery: object) -> DeliveryResult:
    return DeliveryResult(summary="ok")


SAMPLE = Sink(name="sample", description="a test sink", parameters=_Params, deliver=_deliver)


def test_credential_fields_are_the_secretstr_fields_optional_or_not() -> None:
    assert SAMPLE.credential_fields() == {"api_key", "backup_key"}


def test_parameter_schema_marks_credential_fields_write_only() -> None:
    properties = SAMPLE.parameter_schema()["properties"]
    for name in ("api_key", "backup_key"):
        assert properties[name]["x-credential"] is True
        assert properties[name]["writeOnly"] is True
    assert "x-credential" not in properties["endpoint"]
    assert "x-credential" not in properties["port"]


def test_validate_wraps_plain_secret_strings_and_repr_shows_a_mask() -> None:
    params = SAMPLE.validate({"endpoint": "e", "api_key": SECRET})
    assert params.api_key.get_secret_value() == SECRET
    assert_hidden([SECRET], params)


def test_validation_error_names_the_fields_and_never_echoes_the_values() -> None:
    with pytest.raises(InvalidParameters) as caught:
        SAMPLE.validate({"api_key": NUMBER, "port": SECRET, "surprise": SECRET})
    error = caught.value
    assert isinstance(error, PermanentSinkError)
    fields = {where for where, _ in error.problems}
    assert fields == {"endpoint", "api_key", "port", "surprise"}
    assert "sample" in str(error)
    assert_hidden([SECRET, str(NUMBER)], error)


def test_validation_error_survives_pickling_with_its_problems() -> None:
    with pytest.raises(InvalidParameters) as caught:
        SAMPLE.validate({})
    copy = pickle.loads(pickle.dumps(caught.value))
    assert copy.problems == caught.value.problems and str(copy) == str(caught.value)


def test_retryable_error_keeps_its_retry_after_hint_across_pickling() -> None:
    copy = pickle.loads(pickle.dumps(RetryableSinkError("busy", retry_after=7.0)))
    assert (str(copy), copy.retry_after) == ("busy", 7.0)


def test_load_sinks_finds_the_four_built_in_sinks_through_entry_points() -> None:
    sinks = load_sinks()
    assert {"http", "smtp", "sql", "log"} <= set(sinks)
    for name in ("http", "smtp", "sql", "log"):
        assert isinstance(sinks[name], Sink) and sinks[name].name == name


def test_built_in_sinks_mark_their_credentials() -> None:
    sinks = load_sinks()
    assert sinks["http"].credential_fields() == {"auth_token", "password"}
    assert sinks["smtp"].credential_fields() == {"password"}
    assert sinks["sql"].credential_fields() == {"url"}
    assert sinks["log"].credential_fields() == frozenset()


def _install_distribution(folder: Path, entry_points: str) -> None:
    info = folder / "third_party_sinks-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: third-party-sinks\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[hub.sinks]\n{entry_points}\n")


def test_broken_third_party_sinks_are_skipped_with_a_warning_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _install_distribution(tmp_path, "broken = no_such_module_for_hub_tests:SINK\n"
                                    "impostor = json:dumps\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="hub.sinks"):
        sinks = load_sinks()
    assert {"http", "smtp", "sql", "log"} <= set(sinks)
    assert "broken" not in sinks and "impostor" not in sinks
    warned = " ".join(record.getMessage() for record in caplog.records)
    assert "'broken'" in warned and "'impostor'" in warned


def test_get_sink_returns_an_installed_sink() -> None:
    assert get_sink("log").name == "log"


def test_unknown_sink_names_itself_and_the_installed_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "_registry", {})
    with pytest.raises(UnknownSink) as caught:
        get_sink("carrier-pigeon")
    message = str(caught.value)
    assert "carrier-pigeon" in message
    assert all(name in message for name in ("http", "smtp", "sql", "log"))


def test_sink_modules_import_nothing_of_ours_but_the_contract() -> None:
    folder = Path(base.__file__).parent
    for module in folder.glob("*.py"):
        tree = ast.parse(module.read_text())
        nodes = list(ast.walk(tree))
        imported = {node.module or "" for node in nodes if isinstance(node, ast.ImportFrom)}
        imported |= {alias.name for node in nodes if isinstance(node, ast.Import)
                     for alias in node.names}
        ours = {name for name in imported if name.split(".")[0] in ("hub", "workers", "sinks")}
        allowed = {"sinks.base"} if module.name != "base.py" else set()
        assert ours <= allowed, f"{module.name} imports {ours - allowed}"
