"""The `approvals:` section: how long held calls wait, and approval rules per tool.

```yaml
approvals:
  timeout_s: 300            # a held call not decided by then fails with a timeout
  tools:                    # per-tool policy for every key (the strictest of all rules wins)
    "github.delete_*": review
    "shell.*": deny
```

Policies also come from tool groups (`tool_groups.<name>.approval`) and keys
(`virtual_keys.<name>.approval`); see `docs/approvals.md`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from mcp_gateway.config.governance import Approval
from mcp_gateway.governance.patterns import check_tool_pattern

__all__ = ["ApprovalSettings"]

ToolPattern = Annotated[str, AfterValidator(check_tool_pattern)]


class ApprovalSettings(BaseModel):
    """Held calls: their timeout, progress cadence, and per-tool approval rules."""

    model_config = ConfigDict(extra="forbid")

    timeout_s: float = Field(300.0, gt=0, le=86_400, description="How long a held call waits for a decision.")
    progress_interval_s: float = Field(
        10.0, gt=0, description="How often a waiting caller that asked for progress hears that the call is held."
    )
    tools: dict[ToolPattern, Approval] = Field(
        default_factory=dict, description="'<server>.<tool>' patterns -> auto | review | deny, for every key."
    )
