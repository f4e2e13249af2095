"""`Governance`: the one object the MCP server and the LLM proxy hold.

The request path (`authenticate`, `policy_for`, `Identity.allows`) reads one immutable `Snapshot`
through a single attribute, so a reload (`replace`, `sync_keys`) swaps every view at once and a
request never sees half of an old config and half of a new one. Limits live in the `LimitsEngine`
and its counter store, which survive reloads.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from mcp_gateway.errors import AuthenticationError, ForbiddenError, NotFoundError
from mcp_gateway.governance.counters import CounterStore
from mcp_gateway.governance.credentials import HeaderSource, credential_from_headers, hash_key
from mcp_gateway.governance.identity import Identity, ToolFilter
from mcp_gateway.governance.keystore import (
    CreatedKey,
    DuplicateKeyName,
    InvalidKeySpec,
    KeyRecord,
    KeySpec,
    KeyStore,
    KeyStoreError,
)
from mcp_gateway.governance.limits import AlertHook, LimitScope, LimitsEngine, Usage
from mcp_gateway.governance.snapshot import KeyEntry, Mode, Snapshot, build_snapshot
from mcp_gateway.governance.views import ToolPolicy

if TYPE_CHECKING:  # config imports governance helpers; importing it back at run time would cycle
    from mcp_gateway.config.governance import GovernanceSection

__all__ = ["ADMIN_KEY_ENV", "Governance", "ViewChange", "ViewListener"]

logger = logging.getLogger("mcp_gateway.governance")

ADMIN_KEY_ENV = "MCP_GATEWAY_ADMIN_KEY"


def _deny_all(server: str, tool: str) -> bool:
    return False


class _Keep:
    """Sentinel: `replace` keeps the current api_key unless given one."""


_KEEP = _Keep()


@dataclass(frozen=True, slots=True)
class ViewChange:
    """Sent to listeners after a reload: key names whose view changed (added, altered) or went away."""

    generation: int
    changed: frozenset[str]
    removed: frozenset[str]


ViewListener = Callable[[ViewChange], None]


class Governance:
    """Authentication, views, tool policies and limits, swapped atomically on reload.

    Build it with `await Governance.from_config(...)`; the constructor is for tests.
    """

    def __init__(
        self,
        config: GovernanceSection,
        *,
        api_key: str | None = None,
        key_store: KeyStore | None = None,
        limits: LimitsEngine | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.limits = limits if limits is not None else LimitsEngine()
        self.key_store = key_store
        self.view_listeners: list[ViewListener] = []
        self._env = dict(os.environ if env is None else env)
        self._config = config
        self._api_key = api_key
        self._records: tuple[KeyRecord, ...] = ()
        self._revision = -1
        self._lock = threading.Lock()  # serialises rebuilds; readers never take it
        self._sync_lock = anyio.Lock()
        self._snapshot = self._build(config, self._records, api_key, None)
        self._log_startup(config)

    @classmethod
    async def from_config(
        cls,
        config: GovernanceSection,
        *,
        api_key: str | None = None,
        key_store: KeyStore | None = None,
        counters: CounterStore | None = None,
        clock: Callable[[], float] = time.time,
        alert_hooks: Iterable[AlertHook] = (),
        env: Mapping[str, str] | None = None,
    ) -> Governance:
        """Build from the config's governance sections and load the key store's keys.

        `api_key` is `gateway.api_key` (single-key mode when no virtual key exists anywhere).
        `env` defaults to `os.environ` and is read for `MCP_GATEWAY_ADMIN_KEY` and to tell
        keys written literally in the YAML (warned about) from keys that came from `${VAR}`.
        """
        limits = LimitsEngine(counters, clock=clock, alert_hooks=alert_hooks)
        governance = cls(config, api_key=api_key, key_store=key_store, limits=limits, env=env)
        if key_store is not None:
            await governance.sync_keys()
        return governance

    # -- request path -------------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        """`keys`, `single` (gateway.api_key grants all) or `open` (no credential configured)."""
        return self._snapshot.mode

    @property
    def generation(self) -> int:
        """Grows with every rebuild; identities whose view changed carry it as `view_version`."""
        return self._snapshot.generation

    def authenticate(self, credential: str | None) -> Identity:
        """The identity of `credential`: one hash and one dict lookup.

        Raises `AuthenticationError` (401) for a missing, unknown or revoked key and
        `ForbiddenError` (403) for a disabled one.
        """
        snap = self._snapshot
        if snap.mode == "open":
            assert snap.default is not None
            return snap.default
        if credential is None:
            raise AuthenticationError("missing API key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'")
        digest = hash_key(credential)
        if snap.mode == "single":
            assert snap.default is not None and snap.single_digest is not None
            if hmac.compare_digest(digest, snap.single_digest):
                return snap.default
            raise AuthenticationError("invalid API key")
        identity = snap.active.get(digest)
        if identity is not None:
            return identity
        entry = snap.refused.get(digest)
        if entry is None:
            raise AuthenticationError("invalid API key")
        if entry.status == "revoked":
            raise AuthenticationError("API key revoked", key=entry.name, key_id=entry.key_id)
        raise ForbiddenError("API key disabled", key=entry.name, key_id=entry.key_id)

    def authenticate_headers(self, headers: HeaderSource) -> Identity:
        """`authenticate(credential_from_headers(headers))`."""
        return self.authenticate(credential_from_headers(headers))

    def authenticate_admin(self, credential: str | None) -> Identity:
        """The admin identity for the admin credential; 403 for virtual keys, 401 otherwise."""
        snap = self._snapshot
        if snap.admin_digest is None:
            raise ForbiddenError(f"the admin API is disabled: set admin_key in the config or {ADMIN_KEY_ENV}")
        if credential is None:
            raise AuthenticationError("missing admin key: send 'Authorization: Bearer <admin key>'")
        digest = hash_key(credential)
        if hmac.compare_digest(digest, snap.admin_digest):
            return Identity("admin", allows=_deny_all, is_admin=True, key_id="admin")
        if digest in snap.active or digest in snap.refused or digest == snap.single_digest:
            raise ForbiddenError("virtual keys cannot use the admin API; use the admin key")
        raise AuthenticationError("invalid admin key")

    def resolve_digest(self, digest: str) -> Identity | None:
        """The identity whose key hashes to `digest` now (admin first); None if it is unknown,
        revoked or disabled. For callers that keep a key's digest rather than the key (web sessions)."""
        snap = self._snapshot
        if snap.admin_digest is not None and hmac.compare_digest(digest, snap.admin_digest):
            return Identity("admin", allows=_deny_all, is_admin=True, key_id="admin")
        if snap.mode == "keys":
            return snap.active.get(digest)
        if snap.mode == "single" and snap.single_digest is not None and hmac.compare_digest(digest, snap.single_digest):
            return snap.default
        return None

    def current(self, identity: Identity) -> Identity | None:
        """The up-to-date identity for the same key after a reload; None if it is gone or refused."""
        fresh = self._snapshot.by_name.get(identity.key_name)
        return fresh if fresh is not None and fresh.key_id == identity.key_id else None

    def policy_for(self, identity: Identity, server: str, tool: str) -> ToolPolicy | None:
        """Groups, approval, Code Mode and cost for `(server, tool)`; None when outside the view."""
        if identity.view is not None:
            return identity.view.policy_for(server, tool)
        return ToolPolicy() if identity.allows(server, tool) else None

    def group_filter(self, identity: Identity, group: str) -> ToolFilter:
        """The view of `/mcp/<group>`: the group's tools that `identity` may see. An unknown group
        gives an empty view, so group names do not leak either."""
        compiled = self._snapshot.groups.get(group)
        if compiled is None:
            return _deny_all
        matches, allows = compiled.matcher.matches, identity.allows
        return lambda server, tool: matches(server, tool) and allows(server, tool)

    # -- limits -------------------------------------------------------------------------------

    async def check_limits(
        self,
        identity: Identity,
        *,
        requests: float = 1,
        tokens: float = 0,
        cost: float = 0.0,
        extra: Sequence[LimitScope] = (),
    ) -> None:
        """Raise `RateLimitError`/`BudgetExceededError` if a request would be refused now."""
        await self.limits.check((*identity.limit_scopes, *extra), requests=requests, tokens=tokens, cost=cost)

    async def charge(
        self,
        identity: Identity,
        *,
        requests: float = 1,
        tokens: float = 0,
        cost: float = 0.0,
        extra: Sequence[LimitScope] = (),
        enforce: bool = True,
    ) -> None:
        """Admit and count at every level (key, team, customer, `extra`) in one atomic step.

        `enforce=False` records usage that already happened (an LLM call's tokens and cost).
        """
        scopes = (*identity.limit_scopes, *extra)
        await self.limits.charge(scopes, requests=requests, tokens=tokens, cost=cost, enforce=enforce)

    async def usage(self, identity: Identity) -> list[Usage]:
        """Where each of the identity's limits stands in its current window."""
        return await self.limits.usage((*identity.limit_scopes, *identity.group_limits.values()))

    async def admit_tool_call(self, identity: Identity, server: str, tool: str) -> ToolPolicy:
        """Charge one call of `(server, tool)`: a request and the tool's cost at every level, plus
        the call limits of its groups. Returns the policy (for approval and Code Mode)."""
        policy = self.policy_for(identity, server, tool)
        if policy is None:
            raise NotFoundError("tool", f"{server}.{tool}")
        scopes = (*identity.limit_scopes, *(identity.group_limits[g] for g in policy.limited_groups))
        await self.limits.charge(scopes, requests=1, cost=policy.cost)
        return policy

    # -- reload -------------------------------------------------------------------------------

    def replace(self, config: GovernanceSection, *, api_key: str | _Keep | None = _KEEP) -> ViewChange:
        """Swap in a new (already validated) config; views of unchanged keys keep their version.

        Pass `api_key` (the new `gateway.api_key`) when it may have changed; by default the
        current one stays. Raises `ConfigError` when the config conflicts with stored keys; the
        old config keeps serving.
        """
        if isinstance(api_key, _Keep):
            api_key = self._api_key
        change = self._swap(config, self._records, api_key)
        self._config, self._api_key = config, api_key
        self._log_startup(config)
        return change

    async def sync_keys(self) -> ViewChange | None:
        """Reload the key store if another process (or this one) changed it; None if unchanged."""
        if self.key_store is None:
            return None
        async with self._sync_lock:  # two overlapping syncs could otherwise swap in the older read last
            revision = await self.key_store.revision()  # before reading: a later write is caught next time
            if revision == self._revision:
                return None
            records = tuple(await self.key_store.list())
            change = self._swap(self._config, records, self._api_key)
            self._records, self._revision = records, revision
            return change

    async def run_key_sync(self, interval_s: float = 2.0) -> None:
        """Poll the key store forever (run it in the lifespan's task group)."""
        while True:
            await anyio.sleep(interval_s)
            try:
                await self.sync_keys()
            except Exception:  # a bad read must not end the loop; the old keys keep serving
                logger.exception("could not reload the key store")

    def _build(
        self,
        config: GovernanceSection,
        records: Sequence[KeyRecord],
        api_key: str | None,
        previous: Snapshot | None,
    ) -> Snapshot:
        admin_key = config.admin_key or self._env.get(ADMIN_KEY_ENV) or None
        generation = previous.generation + 1 if previous is not None else 1
        snapshot = build_snapshot(
            config, records, api_key=api_key, admin_key=admin_key, generation=generation, previous=previous
        )
        for warning in snapshot.warnings:
            if previous is None or warning not in previous.warnings:
                logger.warning("governance: %s", warning)
        return snapshot

    def _swap(self, config: GovernanceSection, records: Sequence[KeyRecord], api_key: str | None) -> ViewChange:
        with self._lock:
            old = self._snapshot
            new = self._build(config, records, api_key, old)
            self._snapshot = new  # the one atomic step readers can observe
        removed = frozenset(old.by_name) - frozenset(new.by_name)
        changed = removed | frozenset(
            name
            for name, identity in new.by_name.items()
            if (before := old.by_name.get(name)) is None or before.view_version != identity.view_version
        )
        change = ViewChange(new.generation, changed, removed)
        for listener in self.view_listeners:
            try:
                listener(change)
            except Exception:  # one broken listener must not stop the others or the reload
                logger.exception("view listener %r failed", listener)
        return change

    def _log_startup(self, config: GovernanceSection) -> None:
        env_values = set(self._env.values())
        for name, vkey in config.virtual_keys.items():
            # The loader has already interpolated ${VAR}; a value no variable holds was typed in.
            if vkey.key is not None and vkey.key not in env_values:
                logger.warning(
                    "virtual_keys.%s.key is written literally in the config: fine for development, "
                    "otherwise use '${ENV_VAR}' or key_hash",
                    name,
                )
        if self.mode == "keys" and self._api_key:
            logger.warning("gateway.api_key is ignored because virtual keys are configured")
        elif self.mode == "open":
            logger.warning("no gateway.api_key and no virtual keys: every caller gets every tool")

    # -- key management -----------------------------------------------------------------------

    def list_keys(self) -> tuple[KeyEntry, ...]:
        """Every key, from the config and the store, with its status (no hashes, no plaintext)."""
        return self._snapshot.entries

    async def create_key(self, spec: KeySpec) -> CreatedKey:
        """Create a run-time key; the plaintext is in the result and nowhere else."""
        store = self._require_store()
        self._validate(spec)
        created = await store.create(spec)
        await self.sync_keys()
        return created

    async def revoke_key(self, key_id: str) -> KeyRecord:
        """Revoke a run-time key; effective for the next request."""
        record = await self._require_store(key_id).revoke(key_id)
        await self.sync_keys()
        return record

    async def set_key_disabled(self, key_id: str, disabled: bool) -> KeyRecord:
        """Disable (403) or re-enable a run-time key."""
        record = await self._require_store(key_id).disable(key_id, disabled)
        await self.sync_keys()
        return record

    def _require_store(self, key_id: str | None = None) -> KeyStore:
        if key_id is not None and key_id.startswith("config:"):
            raise KeyStoreError(f"{key_id} is defined in the config file; change it there")
        if self.key_store is None:
            raise KeyStoreError("run-time keys need a key store; none is configured")
        return self.key_store

    def _validate(self, spec: KeySpec) -> None:
        config = self._config
        if spec.name in config.virtual_keys:
            raise DuplicateKeyName(f"a key named {spec.name!r} is defined in the config")
        problems = [f"unknown tool group {g!r}" for g in spec.tool_groups if g not in config.tool_groups]
        team = config.teams.get(spec.team) if spec.team is not None else None
        if spec.team is not None and team is None:
            problems.append(f"unknown team {spec.team!r}")
        if spec.customer is not None and spec.customer not in config.customers:
            problems.append(f"unknown customer {spec.customer!r}")
        elif spec.customer is not None and team is not None and team.customer != spec.customer:
            problems.append(f"team {spec.team!r} belongs to customer {team.customer!r}, not {spec.customer!r}")
        if problems:
            raise InvalidKeySpec("; ".join(problems))
