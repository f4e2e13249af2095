"""Build the immutable snapshot the request path reads: identities by key hash, with their views.

Runs when the configuration or the key store changes, never per request. Views are shared by
identities with the same content and carried over from the previous snapshot, so an unchanged
view keeps its memo and its `view_version`; a changed one gets the new generation number.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from mcp_gateway.errors import ConfigError
from mcp_gateway.governance.credentials import hash_key, is_key_hash
from mcp_gateway.governance.durations import parse_period
from mcp_gateway.governance.identity import ALLOW_ALL, Identity
from mcp_gateway.governance.keystore import KeyRecord, KeyStatus
from mcp_gateway.governance.limits import LimitRule, LimitScope
from mcp_gateway.governance.patterns import EMPTY_MATCHER, compile_patterns
from mcp_gateway.governance.views import CompiledGroup, ToolView

if TYPE_CHECKING:  # config imports governance helpers; importing it back at run time would cycle
    from mcp_gateway.config.governance import GovernanceSection, ToolGroup, _Member

__all__ = ["KeyEntry", "Mode", "Snapshot", "build_snapshot", "compile_group", "member_rules"]

Mode = Literal["keys", "single", "open"]
"""keys: virtual keys decide; single: `gateway.api_key` grants everything; open: no credential at all."""


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One key from the config or the store, as listed by the CLI and the admin API."""

    name: str
    key_id: str
    source: Literal["config", "store"]
    status: KeyStatus
    team: str | None = None
    customer: str | None = None
    tool_groups: tuple[str, ...] = ()
    allowed_tools: tuple[str, ...] = ()
    blocked_tools: tuple[str, ...] = ()
    prefix: str = ""
    created_at: float | None = None
    description: str = ""
    digest: str = field(default="", repr=False)
    rules: tuple[LimitRule, ...] = field(default=(), repr=False)
    approval: str | None = None
    reviewer_for: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the request path needs, swapped as one reference."""

    generation: int
    mode: Mode
    active: Mapping[str, Identity]
    refused: Mapping[str, KeyEntry]
    by_name: Mapping[str, Identity]
    entries: tuple[KeyEntry, ...]
    default: Identity | None
    single_digest: str | None
    admin_digest: str | None
    groups: Mapping[str, CompiledGroup]
    views: Mapping[Hashable, ToolView]
    warnings: tuple[str, ...] = ()


def member_rules(member: _Member) -> tuple[LimitRule, ...]:
    """The limit rules of a customer, team or key in the config."""
    rules: list[LimitRule] = []
    for limit in member.all_rate_limits():
        period, alerts = parse_period(limit.period), tuple(limit.alert_at)
        if limit.requests is not None:
            rules.append(LimitRule("requests", limit.requests, period, alerts))
        if limit.tokens is not None:
            rules.append(LimitRule("tokens", limit.tokens, period, alerts))
    for budget in member.all_budgets():
        rules.append(LimitRule("cost", budget.limit, parse_period(budget.period), tuple(budget.alert_at)))
    return tuple(rules)


def compile_group(name: str, group: ToolGroup) -> CompiledGroup:
    """Compile one configured tool group."""
    patterns = tuple(group.tools)
    # Most specific cost pattern first: exact names, then more literal characters.
    ordered = sorted(
        group.tool_costs.items(), key=lambda kv: ("*" not in kv[0], len(kv[0].replace("*", ""))), reverse=True
    )
    limit = group.rate_limit
    call_limit = LimitRule("requests", limit.requests, parse_period(limit.period)) if limit else None
    signature = (
        name,
        patterns,
        group.code_mode,
        group.approval,
        group.cost,
        tuple(ordered),
        (limit.requests, limit.period) if limit else None,
    )
    return CompiledGroup(
        name=name,
        patterns=patterns,
        matcher=compile_patterns(patterns) if patterns else EMPTY_MATCHER,
        code_mode=group.code_mode,
        approval=group.approval,
        cost=group.cost,
        tool_costs=tuple((compile_patterns([pattern]), cost) for pattern, cost in ordered),
        call_limit=call_limit,
        signature=signature,
    )


def _config_entries(section: GovernanceSection) -> list[KeyEntry]:
    return [
        KeyEntry(
            name=name,
            key_id=f"config:{name}",
            source="config",
            status="disabled" if vkey.disabled else "active",
            team=vkey.team,
            customer=vkey.customer,
            tool_groups=tuple(vkey.tool_groups),
            allowed_tools=tuple(vkey.allowed_tools),
            blocked_tools=tuple(vkey.blocked_tools),
            description=vkey.description,
            digest=vkey.digest(),
            rules=member_rules(vkey),
            approval=vkey.approval,
            reviewer_for=tuple(vkey.reviewer_for),
        )
        for name, vkey in section.virtual_keys.items()
    ]


def _store_entries(records: Iterable[KeyRecord], taken: Mapping[str, KeyEntry]) -> list[KeyEntry]:
    entries: list[KeyEntry] = []
    problems: list[tuple[str, str]] = []
    for r in records:
        if r.name in taken and r.revoked_at is None:
            problems.append(
                (f"virtual_keys.{r.name}", f"name already used by the run-time key {r.id} (revoke it first)")
            )
            continue
        entries.append(
            KeyEntry(
                name=r.name,
                key_id=r.id,
                source="store",
                status=r.status,
                team=r.team,
                customer=r.customer,
                tool_groups=r.tool_groups,
                allowed_tools=r.allowed_tools,
                blocked_tools=r.blocked_tools,
                prefix=r.prefix,
                created_at=r.created_at,
                description=r.description,
                digest=r.key_hash,
            )
        )
    if problems:
        raise ConfigError("governance", problems)
    return entries


class _Builder:
    """Holds the lookups one build needs; used once by `build_snapshot`."""

    def __init__(self, section: GovernanceSection, generation: int, previous: Snapshot | None) -> None:
        self.section = section
        self.generation = generation
        self.previous = previous
        self.groups = {name: compile_group(name, group) for name, group in section.tool_groups.items()}
        self.views: dict[Hashable, ToolView] = {}
        self.warnings: list[str] = []
        self.scopes: dict[tuple[str, str], LimitScope | None] = {}

    def scope(self, level: str, name: str | None, rules: tuple[LimitRule, ...]) -> LimitScope | None:
        if name is None or not rules:
            return None
        return self.scopes.setdefault((level, name), LimitScope(level, name, rules))

    def view(self, groups: Sequence[CompiledGroup], allowed: Sequence[str], blocked: Sequence[str]) -> ToolView:
        signature = ToolView.signature_of(groups, allowed, blocked)
        found = self.views.get(signature)
        if found is None and self.previous is not None:
            found = self.previous.views.get(signature)
        if found is None:
            found = ToolView(groups, allowed, blocked)
        self.views[signature] = found
        return found

    def identity(self, entry: KeyEntry) -> Identity:
        section = self.section
        team = section.teams.get(entry.team) if entry.team is not None else None
        if entry.team is not None and team is None:
            self.warnings.append(f"key {entry.name!r}: team {entry.team!r} is not in the config; ignoring it")
        customer_name = entry.customer or (team.customer if team is not None else None)
        customer = section.customers.get(customer_name) if customer_name is not None else None
        if customer_name is not None and customer is None:
            self.warnings.append(f"key {entry.name!r}: customer {customer_name!r} is not in the config; ignoring it")
            customer_name = None
        members = [m for m in (team, customer) if m is not None]
        group_names = list(dict.fromkeys([*entry.tool_groups, *(g for m in members for g in m.tool_groups)]))
        for missing in [g for g in group_names if g not in self.groups]:
            self.warnings.append(f"key {entry.name!r}: tool group {missing!r} is not in the config; ignoring it")
        groups = [self.groups[g] for g in group_names if g in self.groups]
        allowed = [*entry.allowed_tools, *(p for m in members for p in m.allowed_tools)]
        blocked = [*entry.blocked_tools, *(p for m in members for p in m.blocked_tools)]
        view = self.view(groups, allowed, blocked)
        scopes = (
            self.scope("key", entry.name, entry.rules),
            self.scope("team", entry.team if team is not None else None, member_rules(team) if team else ()),
            self.scope("customer", customer_name, member_rules(customer) if customer else ()),
        )
        group_limits = {
            g.name: LimitScope("group", g.name, (g.call_limit,), counter_id=f"group:{g.name}|key:{entry.name}")
            for g in groups
            if g.call_limit is not None
        }
        return Identity(
            key_name=entry.name,
            team=entry.team if team is not None else None,
            customer=customer_name,
            allows=view.allows,
            view_version=self.version(entry.name, view),
            key_id=entry.key_id,
            groups=view.groups,
            view=view,
            limit_scopes=tuple(s for s in scopes if s is not None),
            group_limits=group_limits,
            approval=entry.approval or "auto",
            reviewer_for=frozenset(entry.reviewer_for),
        )

    def version(self, name: str, view: ToolView) -> int:
        before = self.previous.by_name.get(name) if self.previous is not None else None
        if before is not None and before.view is view:
            return before.view_version
        return self.generation


def build_snapshot(
    section: GovernanceSection,
    records: Iterable[KeyRecord],
    *,
    api_key: str | None,
    admin_key: str | None,
    generation: int,
    previous: Snapshot | None = None,
) -> Snapshot:
    """Compile `section` and the stored `records` into a `Snapshot`; raise `ConfigError` on conflicts."""
    builder = _Builder(section, generation, previous)
    config_entries = _config_entries(section)
    entries = config_entries + _store_entries(records, {e.name: e for e in config_entries})
    active: dict[str, Identity] = {}
    refused: dict[str, KeyEntry] = {}
    by_name: dict[str, Identity] = {}
    for entry in entries:
        if entry.status != "active":
            refused[entry.digest] = entry
            continue
        identity = builder.identity(entry)
        active[entry.digest] = by_name[entry.name] = identity
    mode: Mode = "keys" if entries else ("single" if api_key else "open")
    default = None
    if mode != "keys":
        view = builder.view((), ("*.*",), ())
        default = Identity(
            "default",
            allows=ALLOW_ALL,
            view=view,
            key_id="default",
            view_version=builder.version("default", view),
            groups=(),
        )
        by_name["default"] = default
    admin_digest = None
    if admin_key:
        admin_digest = admin_key if is_key_hash(admin_key) else hash_key(admin_key)
        if admin_digest in active or admin_digest in refused:
            raise ConfigError("governance", [("admin_key", "admin_key must differ from every virtual key")])
    return Snapshot(
        generation=generation,
        mode=mode,
        active=active,
        refused=refused,
        by_name=by_name,
        entries=tuple(entries),
        default=default,
        single_digest=hash_key(api_key) if mode == "single" and api_key else None,
        admin_digest=admin_digest,
        groups=builder.groups,
        views=builder.views,
        warnings=tuple(builder.warnings),
    )
