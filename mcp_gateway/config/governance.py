"""Governance sections of the configuration: tool groups, customers, teams, virtual keys, admin key.

```yaml
tool_groups:
  readers:  {tools: ["filesystem.read_*", "time.*"]}
  platform: {tools: ["deploy.*"], approval: review}
customers:
  acme: {budget: {limit: 5000, period: 1M}}
teams:
  backend: {customer: acme, tool_groups: [readers], budget: {limit: 2000, period: 1M}}
virtual_keys:
  rahul: {key: "${RAHUL_KEY}", team: backend, tool_groups: [platform],
          blocked_tools: ["deploy.rollback"], rate_limit: {requests: 60, period: 1m}}
```

Cross-references (a key's team, a team's customer, group names) are checked after the fields, and
each problem is reported at its own key path (`virtual_keys.rahul.team`), all of them at once.
See `docs/governance.md` for the semantics.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from mcp_gateway.governance.credentials import hash_key, is_key_hash
from mcp_gateway.governance.durations import PERIOD_PATTERN, parse_period
from mcp_gateway.governance.patterns import check_name, check_tool_pattern

__all__ = [
    "Approval",
    "Budget",
    "CallRateLimit",
    "Customer",
    "GovernanceSection",
    "RateLimit",
    "Team",
    "ToolGroup",
    "VirtualKey",
]

Approval = Literal["auto", "review", "deny"]

_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")


def _check_period(text: str) -> str:
    parse_period(text)
    return text


def _check_hash(text: str) -> str:
    if not _HASH.match(text):
        raise ValueError("key_hash must be 'sha256:' followed by 64 lowercase hex digits (see `mcp-gateway keys hash`)")
    return text


def _check_fraction(value: float) -> float:
    if not 0 < value <= 1:
        raise ValueError(f"alert threshold {value} must be a fraction in (0, 1], e.g. 0.8 for 80 %")
    return value


Name = Annotated[str, AfterValidator(check_name)]
ToolPattern = Annotated[str, AfterValidator(check_tool_pattern)]
PeriodText = Annotated[
    str,
    AfterValidator(_check_period),
    Field(json_schema_extra={"pattern": PERIOD_PATTERN}, examples=["1m", "1h", "1d", "1M"]),
]
Fraction = Annotated[float, AfterValidator(_check_fraction)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RateLimit(_Model):
    """Requests and/or tokens allowed per period (fixed windows; `1d` and longer follow the UTC calendar)."""

    requests: int | None = Field(None, ge=1, description="Requests (tool calls, LLM requests) per period.")
    tokens: int | None = Field(None, ge=1, description="LLM tokens per period.")
    period: PeriodText
    alert_at: list[Fraction] = Field(default_factory=list, description="Fractions that raise an alert, e.g. [0.8].")

    @model_validator(mode="after")
    def _something(self) -> RateLimit:
        if self.requests is None and self.tokens is None:
            raise ValueError("a rate_limit needs 'requests', 'tokens' or both")
        return self


class Budget(_Model):
    """Money allowed per period, in the unit costs are configured in (e.g. USD)."""

    limit: float = Field(gt=0)
    period: PeriodText
    alert_at: list[Fraction] = Field(default_factory=lambda: [0.8], description="Fractions that raise an alert.")


class CallRateLimit(_Model):
    """Calls per period to a group's tools, counted per key."""

    requests: int = Field(ge=1)
    period: PeriodText


class ToolGroup(_Model):
    """A named set of tool patterns and the policy for calls to them."""

    tools: list[ToolPattern] = Field(description="'<server>.<tool>' patterns with '*' wildcards.")
    description: str = ""
    code_mode: bool | None = Field(None, description="Serve these tools through Code Mode; default: server's.")
    approval: Approval = Field("auto", description="auto: run; review: hold for a human; deny: refuse.")
    rate_limit: CallRateLimit | None = Field(None, description="Tool calls per period, per key.")
    cost: float | None = Field(None, ge=0, description="Charged to budgets per call of any tool in the group.")
    tool_costs: dict[ToolPattern, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict, description="Per-pattern costs; the most specific match overrides `cost`."
    )


class _Member(_Model):
    """What customers, teams and keys share: groups, extra/blocked tools, limits."""

    description: str = ""
    tool_groups: list[str] = Field(default_factory=list)
    allowed_tools: list[ToolPattern] = Field(default_factory=list, description="Extra tools beyond the groups.")
    blocked_tools: list[ToolPattern] = Field(default_factory=list, description="Removed from the view.")
    rate_limit: RateLimit | None = None
    rate_limits: list[RateLimit] = Field(default_factory=list, description="More rate limits (other periods).")
    budget: Budget | None = None
    budgets: list[Budget] = Field(default_factory=list, description="More budgets (other periods).")

    def all_rate_limits(self) -> list[RateLimit]:
        """`rate_limit` and `rate_limits` together."""
        return ([self.rate_limit] if self.rate_limit else []) + self.rate_limits

    def all_budgets(self) -> list[Budget]:
        """`budget` and `budgets` together."""
        return ([self.budget] if self.budget else []) + self.budgets


class Customer(_Member):
    """The top of the hierarchy: an organisation or tenant."""


class Team(_Member):
    """A team, optionally under a customer."""

    customer: str | None = None


class VirtualKey(_Member):
    """A credential. Give the key through `${ENV}` (`key`), as `key_hash`, or literally for development."""

    key: str | None = Field(None, min_length=1, repr=False, description="The key itself, usually '${ENV_VAR}'.")
    key_hash: Annotated[str, AfterValidator(_check_hash)] | None = Field(None, description="'sha256:<hex>'.")
    team: str | None = None
    customer: str | None = Field(None, description="For keys without a team; must match the team's if both.")
    disabled: bool = Field(False, description="Known but refused with 403.")
    approval: Approval | None = Field(
        None, description="A floor for every call of this key: review or deny them all (the strictest policy wins)."
    )
    reviewer_for: list[str] = Field(
        default_factory=list,
        description="Tool groups whose held calls this key may approve or deny ('*': all). Admins review everything.",
    )

    @model_validator(mode="after")
    def _one_secret(self) -> VirtualKey:
        if (self.key is None) == (self.key_hash is None):
            raise ValueError("give exactly one of 'key' (e.g. '${MY_KEY}') or 'key_hash' ('sha256:...')")
        return self

    def digest(self) -> str:
        """The stored form: `sha256:<hex>` of the key."""
        if self.key_hash is not None:
            return self.key_hash
        assert self.key is not None  # _one_secret guarantees one of them
        return hash_key(self.key)


class GovernanceSection(BaseModel):
    """Top-level governance keys, mixed into `GatewayConfig`."""

    model_config = ConfigDict(extra="forbid")

    tool_groups: dict[Name, ToolGroup] = Field(default_factory=dict)
    customers: dict[Name, Customer] = Field(default_factory=dict)
    teams: dict[Name, Team] = Field(default_factory=dict)
    virtual_keys: dict[Name, VirtualKey] = Field(default_factory=dict)
    admin_key: str | None = Field(
        None,
        min_length=1,
        repr=False,
        description="Admin API credential; default: env MCP_GATEWAY_ADMIN_KEY.",
    )

    @model_validator(mode="after")
    def _references(self) -> GovernanceSection:
        problems = _reference_problems(self)
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self


def _problem(loc: tuple[str | int, ...], value: object, message: str) -> InitErrorDetails:
    # A custom error type keeps the message verbatim and the location exact.
    return InitErrorDetails(type=PydanticCustomError("reference", message), loc=loc, input=value)


def _group_problems(section: GovernanceSection, kind: str, name: str, member: _Member) -> list[InitErrorDetails]:
    known = ", ".join(section.tool_groups) or "none defined"
    return [
        _problem((kind, name, "tool_groups", i), group, f"unknown tool group {group!r} (known: {known})")
        for i, group in enumerate(member.tool_groups)
        if group not in section.tool_groups
    ]


def _reference_problems(section: GovernanceSection) -> list[InitErrorDetails]:
    problems: list[InitErrorDetails] = []
    for name, customer in section.customers.items():
        problems += _group_problems(section, "customers", name, customer)
    for name, team in section.teams.items():
        problems += _group_problems(section, "teams", name, team)
        if team.customer is not None and team.customer not in section.customers:
            problems.append(_problem(("teams", name, "customer"), team.customer, f"unknown customer {team.customer!r}"))
    seen: dict[str, str] = {}
    for name, vkey in section.virtual_keys.items():
        problems += _group_problems(section, "virtual_keys", name, vkey)
        key_team = section.teams.get(vkey.team) if vkey.team is not None else None
        if vkey.team is not None and key_team is None:
            problems.append(_problem(("virtual_keys", name, "team"), vkey.team, f"unknown team {vkey.team!r}"))
        if vkey.customer is not None:
            if vkey.customer not in section.customers:
                message = f"unknown customer {vkey.customer!r}"
                problems.append(_problem(("virtual_keys", name, "customer"), vkey.customer, message))
            elif key_team is not None and key_team.customer != vkey.customer:
                message = f"team {vkey.team!r} belongs to customer {key_team.customer!r}, not {vkey.customer!r}"
                problems.append(_problem(("virtual_keys", name, "customer"), vkey.customer, message))
        for i, group in enumerate(vkey.reviewer_for):
            if group != "*" and group not in section.tool_groups:
                known = ", ".join(section.tool_groups) or "none defined"
                message = f"unknown tool group {group!r} (known: {known}; '*' for all)"
                problems.append(_problem(("virtual_keys", name, "reviewer_for", i), group, message))
        digest = vkey.digest()
        field = "key" if vkey.key is not None else "key_hash"
        if digest in seen:
            message = f"the same key as virtual_keys.{seen[digest]}; every key must be distinct"
            problems.append(_problem(("virtual_keys", name, field), "<redacted>", message))
        seen.setdefault(digest, name)
    if section.admin_key is not None:
        admin = section.admin_key
        admin_digest = admin if is_key_hash(admin) else hash_key(admin)
        if admin_digest in seen:
            message = f"admin_key must differ from every virtual key (equals virtual_keys.{seen[admin_digest]})"
            problems.append(_problem(("admin_key",), "<redacted>", message))
    return problems
