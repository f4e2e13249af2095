"""Governance sections of the configuration (tool groups, customers, teams, virtual keys).

Placeholder until the governance layer lands: the sections are accepted only empty, so a config
that uses them fails loudly instead of being silently ignored.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["GovernanceSection"]


class GovernanceSection(BaseModel):
    """Top-level governance keys, mixed into `GatewayConfig`."""

    model_config = ConfigDict(extra="forbid")

    tool_groups: dict[str, Any] = Field(default_factory=dict)
    customers: dict[str, Any] = Field(default_factory=dict)
    teams: dict[str, Any] = Field(default_factory=dict)
    virtual_keys: dict[str, Any] = Field(default_factory=dict)
    admin_key: str | None = None

    @field_validator("tool_groups", "customers", "teams", "virtual_keys")
    @classmethod
    def _not_yet(cls, value: dict[str, Any]) -> dict[str, Any]:
        if value:
            raise ValueError("governance is not built yet; this section must be empty")
        return value
