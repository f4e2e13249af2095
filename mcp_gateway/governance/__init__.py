"""Governance: customers -> teams -> virtual keys, tool groups, views, limits and budgets.

Shared by the MCP side and the LLM proxy; imports nothing from transports, Code Mode or providers.
The server holds one `Governance` (built with `await Governance.from_config(...)`) and calls
`authenticate_headers`, `Identity.allows`, `policy_for`, `admit_tool_call`, `check_limits` and
`charge`; `replace` swaps in a reloaded config. See `docs/governance.md`.
"""

from mcp_gateway.governance.core import ADMIN_KEY_ENV, Governance, ViewChange, ViewListener
from mcp_gateway.governance.counters import (
    ChargeOutcome,
    CounterCharge,
    CounterStore,
    CounterStoreUnavailable,
    MemoryCounterStore,
)
from mcp_gateway.governance.credentials import KEY_PREFIX, credential_from_headers, generate_key, hash_key
from mcp_gateway.governance.durations import Period, parse_period
from mcp_gateway.governance.identity import ALLOW_ALL, Identity, ToolFilter
from mcp_gateway.governance.keystore import (
    CreatedKey,
    DuplicateKeyName,
    InvalidKeySpec,
    KeyNotFound,
    KeyRecord,
    KeySpec,
    KeyStore,
    KeyStoreError,
    MemoryKeyStore,
)
from mcp_gateway.governance.limits import AlertEvent, AlertHook, LimitRule, LimitScope, LimitsEngine, Usage
from mcp_gateway.governance.payloads import error_payload, retry_after
from mcp_gateway.governance.snapshot import KeyEntry, Mode
from mcp_gateway.governance.sqlite_keys import SQLiteKeyStore
from mcp_gateway.governance.views import ToolPolicy, ToolView

__all__ = [
    "ADMIN_KEY_ENV",
    "ALLOW_ALL",
    "KEY_PREFIX",
    "AlertEvent",
    "AlertHook",
    "ChargeOutcome",
    "CounterCharge",
    "CounterStore",
    "CounterStoreUnavailable",
    "CreatedKey",
    "DuplicateKeyName",
    "Governance",
    "Identity",
    "InvalidKeySpec",
    "KeyEntry",
    "KeyNotFound",
    "KeyRecord",
    "KeySpec",
    "KeyStore",
    "KeyStoreError",
    "LimitRule",
    "LimitScope",
    "LimitsEngine",
    "MemoryCounterStore",
    "MemoryKeyStore",
    "Mode",
    "Period",
    "SQLiteKeyStore",
    "ToolFilter",
    "ToolPolicy",
    "ToolView",
    "Usage",
    "ViewChange",
    "ViewListener",
    "credential_from_headers",
    "error_payload",
    "generate_key",
    "hash_key",
    "parse_period",
    "retry_after",
]
