"""Filters over log records: one pydantic model for the API, the live stream and the stores.

`LogQuery.matches(record)` is the reference semantics; the SQL of each store (`observability.sql`)
implements the same filters, and the test suite checks both against each other on random data.

| parameter | matches records whose ... |
|---|---|
| `since`, `until` | `started_at` is in `[since, until)` (epoch seconds or ISO-8601) |
| `key` | `key_name` or `key_id` equals it |
| `team`, `customer`, `server`, `tool`, `status`, `parent_id`, `mode`, `approval`, `kind`, `method` | field equals it |
| `client` | `client_name` equals it |
| `error` | `error` contains it, ignoring case |
| `min_latency_ms`, `max_latency_ms`, `min_cost`, `max_cost` | field is within the inclusive bound |
| `q` | arguments (as JSON) or result contain it, ignoring case |

Pages are newest first (by id, which sorts by start time); `cursor` continues after the last
record of the previous page.
"""

from __future__ import annotations

import base64
import binascii
import operator
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mcp_gateway.errors import GatewayError
from mcp_gateway.observability.records import (
    ApprovalDecision,
    CallMode,
    LogKind,
    LogRecord,
    LogStatus,
    decode_id_time,
    search_text,
)

__all__ = ["EQUALITY_FILTERS", "RANGE_FILTERS", "LogQuery", "LogQueryError", "decode_cursor", "encode_cursor"]

MAX_LIMIT = 500


class LogQueryError(GatewayError):
    """A log query parameter is invalid; `param` names it. Answer with HTTP 400."""

    status = 400

    def __init__(self, param: str, message: str) -> None:
        self.param = param
        super().__init__(f"query parameter {param!r}: {message}")


def encode_cursor(last_id: str) -> str:
    """The opaque cursor that continues after the record `last_id`."""
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The record id inside `cursor`; `ValueError` if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        decode_id_time(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("not a cursor from a previous page") from exc
    return raw


def _to_epoch(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError as exc:
            raise ValueError(f"{value!r} is neither epoch seconds nor an ISO-8601 time") from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)  # a naive time is read as UTC
        return parsed.timestamp()
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return value


class LogQuery(BaseModel):
    """Filters (all optional, combined with AND), a page size and a cursor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    since: float | None = Field(None, description="Started at or after (epoch seconds or ISO-8601).")
    until: float | None = Field(None, description="Started before (epoch seconds or ISO-8601).")
    key: str | None = Field(None, description="Key name or key id.")
    team: str | None = None
    customer: str | None = None
    server: str | None = None
    tool: str | None = None
    status: LogStatus | None = None
    error: str | None = Field(None, min_length=1, description="Substring of the error message, any case.")
    min_latency_ms: float | None = Field(None, ge=0)
    max_latency_ms: float | None = Field(None, ge=0)
    min_cost: float | None = None
    max_cost: float | None = None
    parent_id: str | None = None
    mode: CallMode | None = None
    approval: ApprovalDecision | None = None
    q: str | None = Field(None, min_length=1, description="Text in the arguments or the result, any case.")
    kind: LogKind | None = None
    method: str | None = None
    client: str | None = Field(None, description="Client name.")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(None, description="`next_cursor` of the previous page.")

    FILTERS: ClassVar[tuple[str, ...]] = (
        "since", "until", "key", "team", "customer", "server", "tool", "status", "error",
        "min_latency_ms", "max_latency_ms", "min_cost", "max_cost", "parent_id", "mode", "approval",
        "q", "kind", "method", "client",
    )  # fmt: skip

    @field_validator("since", "until", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        return _to_epoch(value)

    @field_validator("cursor")
    @classmethod
    def _cursor(cls, value: str | None) -> str | None:
        if value is not None:
            decode_cursor(value)
        return value

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> LogQuery:
        """Parse query-string parameters; empty values count as absent.

        Raises `LogQueryError` naming the first bad parameter (unknown names included).
        """
        data = {name: value for name, value in params.items() if value not in ("", None)}
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            param = ".".join(str(part) for part in err["loc"]) or "?"
            message = "unknown parameter" if err["type"] == "extra_forbidden" else err["msg"]
            raise LogQueryError(param, message.removeprefix("Value error, ")) from exc

    def to_params(self) -> dict[str, str]:
        """The query string form of the set fields (the inverse of `from_params`)."""
        return {name: str(value) for name, value in self.model_dump(exclude_defaults=True).items()}

    @property
    def after_id(self) -> str | None:
        """The id the page continues after (decoded `cursor`), or None for the first page."""
        return decode_cursor(self.cursor) if self.cursor is not None else None

    def matches(self, record: LogRecord) -> bool:
        """Whether `record` passes every filter (`limit` and `cursor` are not filters)."""
        for name, field, op in RANGE_FILTERS:
            bound = getattr(self, name)
            if bound is not None and not _COMPARE[op](getattr(record, field), bound):
                return False
        if self.key is not None and self.key not in (record.key_name, record.key_id):
            return False
        for name, field in EQUALITY_FILTERS:
            wanted = getattr(self, name)
            if wanted is not None and getattr(record, field) != wanted:
                return False
        if self.error is not None and (record.error is None or self.error.lower() not in record.error.lower()):
            return False
        return self.q is None or self.q.lower() in search_text(record)


EQUALITY_FILTERS: tuple[tuple[str, str], ...] = (
    ("team", "team"),
    ("customer", "customer"),
    ("server", "server"),
    ("tool", "tool"),
    ("status", "status"),
    ("parent_id", "parent_id"),
    ("mode", "mode"),
    ("approval", "approval"),
    ("kind", "kind"),
    ("method", "method"),
    ("client", "client_name"),
)
"""Equality filters: (query field, record field)."""

RANGE_FILTERS: tuple[tuple[str, str, str], ...] = (
    ("since", "started_at", ">="),
    ("until", "started_at", "<"),
    ("min_latency_ms", "latency_ms", ">="),
    ("max_latency_ms", "latency_ms", "<="),
    ("min_cost", "cost", ">="),
    ("max_cost", "cost", "<="),
)
"""Range filters: (query field, record field, comparison the record's value must pass)."""

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
