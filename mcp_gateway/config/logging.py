"""The `logging:` section: where audit records go, how long they stay, what gets redacted.

```yaml
logging:
  store: ${LOGS_PG_URL:-sqlite}     # "sqlite" (data_dir/logs.db) or a postgresql:// URL
  retention: 30d                    # records older than this are purged
  max_result_bytes: 8192            # results are trimmed to this; the full size is recorded
  redact:
    default_names: true             # password, token, api_key, authorization, ... anywhere
    names: [ssn]                    # more key names to hide everywhere
    rules:
      - {tool: "crm__*", fields: ["customer.email", "items[*].card_number"]}
```

See `docs/observability.md` for the semantics.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from mcp_gateway.governance.durations import PERIOD_PATTERN, Period, parse_period

__all__ = ["FIELD_PATH_PATTERN", "LoggingSettings", "RedactRule", "RedactSettings", "period_seconds"]

FIELD_PATH_PATTERN = r"^(\*|[^.\[\]]+)(\[(\*|\d+)\])*(\.(\*|[^.\[\]]+)(\[(\*|\d+)\])*)*$"
"""A field path: keys joined by dots, each maybe followed by `[N]` or `[*]` (every element)."""

_FIELD_PATH = re.compile(FIELD_PATH_PATTERN)

# Calendar units have no fixed length; retention only needs "about this old".
_APPROX_SECONDS = {
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86_400,
    "w": 7 * 86_400,
    "M": 30 * 86_400,
    "Q": 91 * 86_400,
    "Y": 365 * 86_400,
}


def period_seconds(period: Period) -> float:
    """The length of `period` in seconds (a month counts 30 days, a quarter 91, a year 365)."""
    return float(period.count * _APPROX_SECONDS[period.unit])


def _check_period(text: str) -> str:
    parse_period(text)
    return text


def _check_field_path(text: str) -> str:
    if not _FIELD_PATH.match(text):
        raise ValueError(
            f"field path {text!r} must be keys joined by '.', each maybe followed by [N] or [*], "
            "e.g. 'headers.x-auth' or 'items[*].ssn'"
        )
    return text


def _check_store(text: str) -> str:
    if text == "sqlite" or text.startswith(("postgresql://", "postgres://")):
        return text
    raise ValueError("store must be 'sqlite' or a postgresql:// URL")


FieldPath = Annotated[str, AfterValidator(_check_field_path)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RedactRule(_Model):
    """Hide `fields` in the arguments and results of the tools matching `tool`."""

    tool: str = Field(
        min_length=1,
        description="Glob over '<server>__<tool>' (also tried as '<server>.<tool>' and '<server>/<tool>').",
    )
    fields: list[FieldPath] = Field(min_length=1, description="Field paths such as 'headers.x-auth', 'items[*].ssn'.")


class RedactSettings(_Model):
    """What is replaced by "[REDACTED]" before a record is stored or shown."""

    default_names: bool = Field(True, description="Hide common secret names (password, token, api_key, ...).")
    names: list[str] = Field(default_factory=list, description="More key names to hide at any depth, any tool.")
    rules: list[RedactRule] = Field(default_factory=list)

    @field_validator("names")
    @classmethod
    def _names_not_blank(cls, names: list[str]) -> list[str]:
        for name in names:
            if not name.strip():
                raise ValueError("redaction names may not be blank")
        return names


class LoggingSettings(_Model):
    """Audit logging of MCP requests and tool calls."""

    enabled: bool = True
    store: Annotated[str, AfterValidator(_check_store)] = Field(
        "sqlite", description="'sqlite' (data_dir/logs.db, in memory without a data dir) or a postgresql:// URL."
    )
    retention: Annotated[str, AfterValidator(_check_period)] | None = Field(
        "30d",
        json_schema_extra={"pattern": PERIOD_PATTERN},
        description="Purge records older than this (e.g. 7d, 30d, 1Y); null keeps them forever.",
    )
    max_result_bytes: int = Field(8192, ge=0, description="Results are trimmed to this many bytes of JSON.")
    queue_size: int = Field(10_000, ge=1, description="Records waiting to be written; beyond this they are dropped.")
    batch_size: int = Field(500, ge=1, le=50_000, description="Records per store write.")
    flush_interval_ms: int = Field(150, ge=1, le=60_000, description="Write at least this often when records wait.")
    redact: RedactSettings = Field(default_factory=RedactSettings)

    @property
    def retention_seconds(self) -> float | None:
        """`retention` in seconds, or None to keep records forever."""
        return None if self.retention is None else period_seconds(parse_period(self.retention))
