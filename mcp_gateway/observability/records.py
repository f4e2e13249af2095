"""One log record per MCP request, tool call or LLM request, and the ids that order them.

Ids are ULID-style: a 48-bit millisecond timestamp and 80 random bits, written as 26 Crockford
base32 characters (fixed width), so sorting ids as strings sorts records by time. The
gateway takes a record's id when the call *starts*, because a script's tool calls need their
parent's id while the parent is still running; stores order pages by id, newest first.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

__all__ = [
    "ApprovalDecision",
    "LogKind",
    "LogRecord",
    "LogStatus",
    "CallMode",
    "decode_id_time",
    "new_log_id",
    "arguments_json",
    "search_text",
]

LogKind = Literal["tool_call", "mcp_request", "llm_request"]
LogStatus = Literal["ok", "error", "denied", "timeout"]
CallMode = Literal["direct", "code"]
ApprovalDecision = Literal["auto", "approved", "denied", "timeout"]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: ascending in ASCII order
_DECODE = {c: i for i, c in enumerate(_ALPHABET)}
_PAIRS = tuple(a + b for a in _ALPHABET for b in _ALPHABET)  # 10 bits -> 2 characters
_SHIFTS = tuple(range(120, -1, -10))
ID_LENGTH = 26
"""A 128-bit number (48 bits of milliseconds, 80 random) in 26 base32 digits, as ULIDs are."""


def new_log_id(at: float | None = None) -> str:
    """A new unique id whose string order is the order of `at` (epoch seconds; default now)."""
    # Not `secrets`: ids need to be unique, not unguessable, and this runs on every call; it is
    # several times cheaper than os.urandom plus base64. `random` reseeds itself in forked children.
    n = (int((time.time() if at is None else at) * 1000) << 80) | random.getrandbits(80)
    return "".join([_PAIRS[(n >> shift) & 1023] for shift in _SHIFTS])


def decode_id_time(log_id: str) -> float:
    """The epoch seconds (millisecond precision) encoded in `log_id`; `ValueError` if malformed."""
    if len(log_id) != ID_LENGTH or not _DECODE.keys() >= set(log_id):
        raise ValueError(f"not a log id: {log_id!r}")
    n = 0
    for c in log_id:
        n = n * 32 + _DECODE[c]
    return (n >> 80) / 1000


@dataclass(slots=True, kw_only=True)
class LogRecord:
    """What the gateway remembers about one request or call.

    Without an `id`, one is made from `started_at`. Take it when the call starts if anything
    must refer to the record before it is finished (a script's calls name it as their parent).
    `arguments` is already redacted; `result` is JSON text trimmed to the configured size, and
    `result_size` the size in bytes before trimming. `parent_id` links the tool calls a Code Mode
    script makes to its `executeToolCode` call.
    """

    id: str = ""
    kind: LogKind
    started_at: float
    ended_at: float
    latency_ms: float
    status: LogStatus = "ok"
    parent_id: str | None = None
    key_id: str | None = None
    key_name: str | None = None
    team: str | None = None
    customer: str | None = None
    client_name: str | None = None
    client_version: str | None = None
    method: str | None = None
    server: str | None = None
    tool: str | None = None
    mode: CallMode | None = None
    arguments: Any = None
    result: str | None = None
    result_size: int = 0
    error: str | None = None
    approval: ApprovalDecision | None = None
    reviewer: str | None = None
    cost: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            self.id = new_log_id(self.started_at)

    @property
    def is_error(self) -> bool:
        """True unless the call succeeded (errors, denials and timeouts all count)."""
        return self.status != "ok"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of every field (plus `is_error`), as the API serves it."""
        out = {f.name: getattr(self, f.name) for f in _FIELDS}
        out["is_error"] = self.is_error
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LogRecord:
        """The inverse of `to_dict`; unknown keys (such as `is_error`) are ignored.

        Raises `ValueError` naming the field when a required field is missing or an enumerated
        field holds a value outside its choices.
        """
        values = {name: data[name] for name in _FIELD_NAMES if name in data}
        for name in _REQUIRED:
            if name not in values:
                raise ValueError(f"log record: missing field {name!r}")
        for name, choices in _CHOICES.items():
            value = values.get(name)
            if value is not None and value not in choices:
                raise ValueError(f"log record: field {name!r} is {value!r}, expected one of {sorted(choices)}")
        if values.get("extra") is None:
            values["extra"] = {}
        return cls(**values)


_FIELDS = dataclasses.fields(LogRecord)
_FIELD_NAMES = frozenset(f.name for f in _FIELDS)
_REQUIRED = ("id", "kind", "started_at", "ended_at", "latency_ms")
_CHOICES: dict[str, frozenset[str]] = {
    "kind": frozenset(get_args(LogKind)),
    "status": frozenset(get_args(LogStatus)),
    "mode": frozenset(get_args(CallMode)),
    "approval": frozenset(get_args(ApprovalDecision)),
}


def arguments_json(arguments: Any) -> str | None:
    """How stores keep `arguments`: compact JSON text, or None when there are none."""
    if arguments is None:
        return None
    return json.dumps(arguments, ensure_ascii=False, separators=(",", ":"), default=str)


def search_text(record: LogRecord, arguments: str | None = None) -> str:
    """The lower-cased text that `LogQuery.q` searches: the arguments' JSON and the result.

    Stores save it in a column at write time and the query oracle calls it too, so both agree on
    exactly what matches. `arguments`, when given, is `arguments_json(record.arguments)` already
    computed by the caller.
    """
    if arguments is None:
        arguments = arguments_json(record.arguments)
    return f"{arguments or ''}\n{record.result or ''}".lower()
