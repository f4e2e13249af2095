"""Keys created at run time (CLI, admin API): the record, the store Protocol, an in-memory store.

A store holds only hashes. `create` returns the plaintext exactly once, in `CreatedKey`. Revoking
is permanent (the record stays, so the key keeps answering "revoked"); disabling is reversible.
`revision` grows with every write, so a running gateway can notice changes made by another
process (the CLI) cheaply and reload.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from mcp_gateway.errors import GatewayError
from mcp_gateway.governance.credentials import generate_key, hash_key
from mcp_gateway.governance.patterns import check_name, check_tool_pattern

__all__ = [
    "CreatedKey",
    "DuplicateKeyName",
    "InvalidKeySpec",
    "KeyNotFound",
    "KeyRecord",
    "KeySpec",
    "KeyStatus",
    "KeyStore",
    "KeyStoreError",
    "MemoryKeyStore",
    "new_key",
]

KeyStatus = Literal["active", "disabled", "revoked"]


class KeyStoreError(GatewayError):
    """A key management request cannot be done (no store, or a key defined in the config)."""


class KeyNotFound(KeyStoreError, LookupError):
    """No key with this id."""


class DuplicateKeyName(KeyStoreError, ValueError):
    """A live (not revoked) key already has this name."""


class InvalidKeySpec(KeyStoreError, ValueError):
    """A new key names a team, customer or tool group the config does not define."""


@dataclass(frozen=True, slots=True)
class KeySpec:
    """What a new key should be: its name and where it sits; validated on construction."""

    name: str
    team: str | None = None
    customer: str | None = None
    tool_groups: tuple[str, ...] = ()
    allowed_tools: tuple[str, ...] = ()
    blocked_tools: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        try:
            check_name(self.name)
            for pattern in (*self.allowed_tools, *self.blocked_tools):
                check_tool_pattern(pattern)
        except ValueError as exc:
            raise InvalidKeySpec(str(exc)) from exc


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A stored key. `prefix` is the key's first characters, for people to tell keys apart."""

    id: str
    name: str
    key_hash: str
    prefix: str
    team: str | None
    customer: str | None
    tool_groups: tuple[str, ...]
    allowed_tools: tuple[str, ...]
    blocked_tools: tuple[str, ...]
    description: str
    created_at: float
    revoked_at: float | None = None
    disabled: bool = False

    @property
    def status(self) -> KeyStatus:
        """`revoked` wins over `disabled`."""
        if self.revoked_at is not None:
            return "revoked"
        return "disabled" if self.disabled else "active"


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A new key: the record and the plaintext, which is shown once and never stored."""

    record: KeyRecord
    plaintext: str


def new_key(spec: KeySpec, *, now: float | None = None) -> CreatedKey:
    """Generate a key for `spec`: random plaintext, its hash, a fresh id."""
    plaintext = generate_key()
    record = KeyRecord(
        id="key_" + secrets.token_hex(8),
        name=spec.name,
        key_hash=hash_key(plaintext),
        prefix=plaintext[:9],
        team=spec.team,
        customer=spec.customer,
        tool_groups=spec.tool_groups,
        allowed_tools=spec.allowed_tools,
        blocked_tools=spec.blocked_tools,
        description=spec.description,
        created_at=time.time() if now is None else now,
    )
    return CreatedKey(record, plaintext)


class KeyStore(Protocol):
    """Persistent keys. Implementations: `SQLiteKeyStore` (default), `MemoryKeyStore` (tests)."""

    async def create(self, spec: KeySpec) -> CreatedKey:
        """Store a new key; raise `DuplicateKeyName` if a live key has the name."""
        ...

    async def list(self) -> Sequence[KeyRecord]:
        """Every record, revoked ones included, oldest first."""
        ...

    async def revoke(self, key_id: str) -> KeyRecord:
        """Revoke for good; raise `KeyNotFound` for an unknown id. Revoking twice is a no-op."""
        ...

    async def disable(self, key_id: str, disabled: bool = True) -> KeyRecord:
        """Disable (403) or re-enable; raise `KeyNotFound` for an unknown id."""
        ...

    async def revision(self) -> int:
        """A number that grows with every write, from any process sharing the store."""
        ...

    async def aclose(self) -> None:
        """Release the store."""
        ...


class MemoryKeyStore:
    """A `KeyStore` in a dict: for tests and for gateways that want no persistence."""

    def __init__(self) -> None:
        self._records: dict[str, KeyRecord] = {}
        self._revision = 0

    async def create(self, spec: KeySpec) -> CreatedKey:
        """Store a new key."""
        if any(r.name == spec.name and r.revoked_at is None for r in self._records.values()):
            raise DuplicateKeyName(f"a key named {spec.name!r} already exists")
        created = new_key(spec)
        self._records[created.record.id] = created.record
        self._revision += 1
        return created

    async def list(self) -> Sequence[KeyRecord]:
        """Every record, oldest first."""
        return sorted(self._records.values(), key=lambda r: r.created_at)

    async def revoke(self, key_id: str) -> KeyRecord:
        """Revoke for good."""
        record = self._get(key_id)
        if record.revoked_at is None:
            record = self._put(replace(record, revoked_at=time.time()))
        return record

    async def disable(self, key_id: str, disabled: bool = True) -> KeyRecord:
        """Disable or re-enable."""
        return self._put(replace(self._get(key_id), disabled=disabled))

    async def revision(self) -> int:
        """Writes so far."""
        return self._revision

    async def aclose(self) -> None:
        """Nothing to release."""

    def _get(self, key_id: str) -> KeyRecord:
        try:
            return self._records[key_id]
        except KeyError:
            raise KeyNotFound(f"no key with id {key_id!r}") from None

    def _put(self, record: KeyRecord) -> KeyRecord:
        self._records[record.id] = record
        self._revision += 1
        return record
