"""The SQL sink: insert one row per delivery into a table of any SQLAlchemy database.

Each column gets its value from one of three places:

- ``columns``: a dotted path into the event payload, e.g. ``{"order_id": "order.id"}``;
  a digit segment indexes a list (``items.0.sku``) and ``$`` is the whole payload.
  A path that the payload lacks fails the delivery (permanently) rather than writing NULL.
- ``values``: a literal, e.g. ``{"source": "hub"}``.
- ``idempotency_column``: receives ``delivery.idempotency_key``. Give that column a UNIQUE
  constraint: a redelivery then hits it, and the sink reports success without a second row.

Statements use bound parameters only; table and column names must be plain identifiers and
the table is reflected, so a typo is reported by name. The connection URL holds the password,
so it is a SecretStr and no error message quotes the URL or the driver's text.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SecretStr,
    field_validator,
    model_validator,
)
from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, func, insert, select
from sqlalchemy import true as sql_true
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, NoSuchTableError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from sinks.base import (
    Delivery,
    DeliveryResult,
    PermanentSinkError,
    RetryableSinkError,
    Sink,
    SinkError,
)

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
WHOLE_PAYLOAD = "$"
# SQLSTATE classes worth another try: connection, rollback (deadlock, serialization),
# insufficient resources, operator intervention (shutdown, statement timeout).
RETRYABLE_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57"})
RETRYABLE_CODES = frozenset({"55P03", "SQLITE_BUSY", "SQLITE_LOCKED"})


class SqlParameters(BaseModel):
    """Where to insert and where each column's value comes from. The URL is a SecretStr."""

    model_config = ConfigDict(extra="forbid")

    url: SecretStr = Field(description="SQLAlchemy URL, e.g. postgresql+psycopg://u:p@host/db")
    table: str
    columns: dict[str, str] = Field(
        default_factory=dict, description="column -> dotted path into the payload ('$': all)"
    )
    values: dict[str, JsonValue] = Field(default_factory=dict, description="column -> literal")
    idempotency_column: str | None = Field(
        default=None, description="column (UNIQUE) that receives the idempotency key"
    )
    timeout: float | None = Field(
        default=None, gt=0, description="seconds; capped by the delivery's own timeout"
    )

    @field_validator("table", "idempotency_column")
    @classmethod
    def _identifier(cls, value: str | None) -> str | None:
        if value is not None and not IDENTIFIER.fullmatch(value):
            raise ValueError("must be a plain identifier (letters, digits, underscore)")
        return value

    @field_validator("columns", "values")
    @classmethod
    def _identifier_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        if any(not IDENTIFIER.fullmatch(name) for name in value):
            raise ValueError("column names must be plain identifiers")
        return value

    @field_validator("columns")
    @classmethod
    def _paths(cls, value: dict[str, str]) -> dict[str, str]:
        if any(path != WHOLE_PAYLOAD and "" in path.split(".") for path in value.values()):
            raise ValueError("paths are dot-separated keys, e.g. 'order.id', or '$'")
        return value

    @model_validator(mode="after")
    def _each_column_once(self) -> SqlParameters:
        names = [*self.columns, *self.values]
        if self.idempotency_column:
            names.append(self.idempotency_column)
        if not names:
            raise ValueError("name at least one column")
        if len(set(names)) != len(names):
            raise ValueError("a column is named more than once")
        return self


def deliver(params: SqlParameters, delivery: Delivery) -> DeliveryResult:
    row = build_row(params, delivery)
    timeout = min(params.timeout or delivery.timeout, delivery.timeout)
    engine = _engine(params.url, timeout)
    try:
        return _insert(engine, params, row, delivery.idempotency_key, timeout)
    finally:
        engine.dispose()


def build_row(params: SqlParameters, delivery: Delivery) -> dict[str, Any]:
    row = {column: _lookup(delivery.payload, path, column)
           for column, path in params.columns.items()}
    row.update(params.values)
    if params.idempotency_column:
        row[params.idempotency_column] = delivery.idempotency_key
    return row


def _lookup(payload: Mapping[str, Any], path: str, column: str) -> Any:
    if path == WHOLE_PAYLOAD:
        return payload
    current: Any = payload
    for segment in path.split("."):
        if isinstance(current, Mapping) and segment in current:
            current = current[segment]
        elif (isinstance(current, Sequence) and not isinstance(current, str)
              and segment.isdigit() and int(segment) < len(current)):
            current = current[int(segment)]
        else:
            raise PermanentSinkError(f"payload has no value at {path!r} (column {column!r})")
    return current


def _engine(url: SecretStr, timeout: float) -> Engine:
    try:
        parsed = make_url(url.get_secret_value())
        backend = parsed.get_backend_name()
        connect_args: dict[str, Any] = {}
        if backend == "postgresql":
            connect_args["connect_timeout"] = max(1, math.ceil(timeout))
        elif backend == "sqlite":
            connect_args["timeout"] = timeout
        # NullPool: one connection for this delivery, closed by dispose(); nothing lingers.
        return create_engine(parsed, poolclass=NullPool, connect_args=connect_args)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        error = PermanentSinkError(f"unusable database URL: {type(exc).__name__}")
    raise error


def _insert(engine: Engine, params: SqlParameters, row: dict[str, Any], key: str,
            timeout: float) -> DeliveryResult:
    phase = "connect"
    try:
        with engine.connect() as conn:
            phase = "reflect"
            table = _reflect(conn, params.table, row)
            conn.rollback()  # end reflection's implicit transaction; the insert gets its own
            phase = "insert"
            try:
                with conn.begin():
                    _limit_statement_time(conn, timeout)
                    conn.execute(insert(table).values(_bindable(table, row)))
            except IntegrityError:
                if params.idempotency_column is None:
                    raise
                phase = "idempotency check"
                written = _already_written(conn, table, params.idempotency_column, key)
                phase = "insert"
                if not written:
                    raise
                return DeliveryResult(
                    summary=f"already delivered: key present in {params.table}",
                    details={"table": params.table, "rows": 0, "duplicate": True},
                )
            # One row or an exception: drivers' rowcount for INSERT is not reliable (-1).
            return DeliveryResult(summary=f"INSERT INTO {params.table} -> 1 row",
                                  details={"table": params.table, "rows": 1})
    except NoSuchTableError:
        error: SinkError = PermanentSinkError(f"table {params.table!r} does not exist")
    except DBAPIError as exc:
        error = _classify(exc, phase, params.table)
    except SQLAlchemyError as exc:
        error = PermanentSinkError(f"sql {phase} on {params.table!r} failed: {type(exc).__name__}")
    # Raised outside the except block: the driver's exception (which may quote connection
    # arguments) is not chained into the traceback.
    raise error


def _reflect(conn: Connection, name: str, row: dict[str, Any]) -> Table:
    table = Table(name, MetaData(), autoload_with=conn, include_columns=list(row))
    missing = sorted(set(row) - set(table.c.keys()))
    if missing:
        raise PermanentSinkError(f"table {name!r} has no column(s) {', '.join(missing)}")
    return table


def _bindable(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """Structured values go to JSON columns as they are, to any other column as JSON text."""
    return {
        name: json.dumps(value)
        if isinstance(value, Mapping | list) and not isinstance(table.c[name].type, sqltypes.JSON)
        else value
        for name, value in row.items()
    }


def _limit_statement_time(conn: Connection, timeout: float) -> None:
    if conn.dialect.name == "postgresql":
        # set_config(..., true) is SET LOCAL with a bound parameter: it ends with the transaction.
        milliseconds = str(math.ceil(timeout * 1000))
        conn.execute(select(func.set_config("statement_timeout", milliseconds, sql_true())))


def _already_written(conn: Connection, table: Table, column: str, key: str) -> bool:
    found = conn.execute(select(table.c[column]).where(table.c[column] == key).limit(1))
    return found.first() is not None


def _classify(exc: DBAPIError, phase: str, table: str) -> SinkError:
    """A short message from the driver's error class and code; never the driver's text."""
    code = _error_code(exc.orig)
    message = f"sql {phase} on {table!r} failed: {type(exc.orig).__name__}"
    if code:
        message += f" ({code})"
    if code in RETRYABLE_CODES or (code and code[:2] in RETRYABLE_SQLSTATE_CLASSES):
        return RetryableSinkError(message)
    if code is None and (exc.connection_invalidated or phase == "connect"):
        # Refused, unreachable, timed out: the driver gives no SQLSTATE before a session exists.
        return RetryableSinkError(message)
    return PermanentSinkError(message)


def _error_code(error: BaseException | None) -> str | None:
    for attribute in ("sqlstate", "pgcode", "sqlite_errorname"):
        code = getattr(error, attribute, None)
        if isinstance(code, str) and code:
            return code
    return None


SINK = Sink(
    name="sql",
    description="Insert one row per event into a table of a SQL database.",
    parameters=SqlParameters,
    deliver=deliver,
)
