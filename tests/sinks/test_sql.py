"""The SQL sink against real tables on SQLite and PostgreSQL (HUB_TEST_DATABASE_URL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import make_url

from sinks.base import InvalidParameters, PermanentSinkError, RetryableSinkError
from sinks.sql import SINK, SqlParameters
from tests.sinks.sink_receivers import PASSWORD, SqlTarget, assert_hidden, free_port, make_delivery


def with_password(url: str) -> str:
    """PostgreSQL runs with trust auth here; a password in the URL is ignored, not refused."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return url
    return parsed.set(password=PASSWORD).render_as_string(hide_password=False)


def sql_params(target: SqlTarget, **changes: Any) -> SqlParameters:
    values: dict[str, Any] = {
        "url": with_password(target.url), "table": target.table,
        "columns": {"order_id": "order.id", "customer": "customer", "sku": "order.items.0.sku"},
        "values": {"source": "hub"}, "idempotency_column": "delivery_key",
    }
    return SINK.validate({**values, **changes})


def test_row_takes_payload_paths_literals_and_the_idempotency_key(sql_target: SqlTarget) -> None:
    params = sql_params(sql_target)
    result = SINK.deliver(params, make_delivery(key="exec-1.key"))
    [row] = sql_target.rows()
    assert row["order_id"] == 7 and row["customer"] == "ada" and row["sku"] == "A-1"
    assert row["source"] == "hub" and row["delivery_key"] == "exec-1.key"
    assert result.details == {"table": sql_target.table, "rows": 1}
    assert_hidden([PASSWORD], result, params)


def test_redelivery_of_one_execution_writes_no_second_row(sql_target: SqlTarget) -> None:
    params = sql_params(sql_target)
    SINK.deliver(params, make_delivery(key="exec-1.key", attempt=1))
    again = SINK.deliver(params, make_delivery(key="exec-1.key", attempt=2))
    assert again.details["duplicate"] is True
    SINK.deliver(params, make_delivery(key="exec-2.key"))
    assert sorted(row["delivery_key"] for row in sql_target.rows()) == ["exec-1.key",
                                                                         "exec-2.key"]


def test_structured_values_go_to_json_columns_as_json_and_to_text_columns_as_text(
    sql_target: SqlTarget,
) -> None:
    params = sql_params(sql_target, columns={"order_id": "order.id", "doc": "$",
                                             "extra": "order.items"})
    delivery = make_delivery()
    SINK.deliver(params, delivery)
    [row] = sql_target.rows()
    assert row["doc"] == delivery.payload
    assert row["extra"] == '[{"sku": "A-1"}]'


def test_missing_payload_path_is_permanent_and_names_the_path(sql_target: SqlTarget) -> None:
    params = sql_params(sql_target, columns={"order_id": "order.number"})
    with pytest.raises(PermanentSinkError) as caught:
        SINK.deliver(params, make_delivery())
    assert "'order.number'" in str(caught.value) and "'order_id'" in str(caught.value)
    assert sql_target.rows() == []


def test_unknown_column_is_permanent_and_named(sql_target: SqlTarget) -> None:
    params = sql_params(sql_target, values={"colour": "red"})
    with pytest.raises(PermanentSinkError) as caught:
        SINK.deliver(params, make_delivery())
    assert "colour" in str(caught.value)
    assert_hidden([PASSWORD], caught.value)


def test_missing_table_is_permanent(sql_target: SqlTarget) -> None:
    with pytest.raises(PermanentSinkError) as caught:
        SINK.deliver(sql_params(sql_target, table="no_such_table_here"), make_delivery())
    assert "no_such_table_here" in str(caught.value)
    assert_hidden([PASSWORD], caught.value)


def test_constraint_other_than_the_idempotency_one_is_permanent_without_driver_text(
    sql_target: SqlTarget,
) -> None:
    params = sql_params(sql_target, columns={"customer": "customer"})  # order_id is NOT NULL
    with pytest.raises(PermanentSinkError) as caught:
        SINK.deliver(params, make_delivery())
    message = str(caught.value)
    assert "insert" in message
    assert "IntegrityError" in message or "NotNullViolation (23502)" in message
    assert "[SQL:" not in message and "INSERT" not in message
    assert_hidden([PASSWORD, sql_target.url], caught.value)
    assert sql_target.rows() == []


def test_unreachable_database_is_retryable_and_the_url_never_shows() -> None:
    url = f"postgresql+psycopg://hub:{PASSWORD}@127.0.0.1:{free_port()}/nowhere"
    params = SINK.validate({"url": url, "table": "t", "values": {"a": 1}})
    with pytest.raises(RetryableSinkError) as caught:
        SINK.deliver(params, make_delivery(timeout=2))
    assert "connect" in str(caught.value)
    assert_hidden([PASSWORD, url, "nowhere"], caught.value, params)


def test_unusable_url_is_permanent_and_never_quoted() -> None:
    url = f"nosuchdialect://hub:{PASSWORD}@host/db"
    params = SINK.validate({"url": url, "table": "t", "values": {"a": 1}})
    with pytest.raises(PermanentSinkError) as caught:
        SINK.deliver(params, make_delivery())
    assert_hidden([PASSWORD, url], caught.value)


@pytest.mark.parametrize("field, value", [
    ("table", "orders; DROP TABLE users"),
    ("idempotency_column", "key--"),
    ("columns", {"bad name": "order.id"}),
    ("values", {"x)": 1}),
    ("columns", {"ok": "order..id"}),
])
def test_names_that_are_not_plain_identifiers_are_refused(field: str, value: Any) -> None:
    with pytest.raises(InvalidParameters) as caught:
        SINK.validate({"url": f"sqlite:///x{PASSWORD}.db", "table": "t", "values": {"a": 1},
                       field: value})
    assert [where for where, _ in caught.value.problems] == [field]
    assert_hidden([PASSWORD, "DROP TABLE"], caught.value)


def test_a_column_named_twice_is_refused() -> None:
    with pytest.raises(InvalidParameters):
        SINK.validate({"url": "sqlite://", "table": "t", "columns": {"a": "x"},
                       "values": {"a": 1}})


def test_parameter_schema_marks_the_url_as_credential() -> None:
    assert SINK.parameter_schema()["properties"]["url"]["x-credential"] is True
