"""Query plans: which tools a query needs, which argument values matter, and how it is graded.

One plan per query drives both modes (classic and Code Mode), so the comparison is fair. Plans are
reviewed data in `data/plans/<round>.yaml`:

```yaml
M1:
  steps:
    - call: filesystem.create_directory
      args: {path: "{{cwd}}/reports"}
    - call: filesystem.write_file
      args: {path: "{{cwd}}/reports/daily.txt", content: "Daily report — no issues found"}
    - call: filesystem.list_directory
      args: {path: "{{cwd}}/reports"}
  answer: "Created reports/daily.txt. Listing: {{s3.content}}"
  grade:
    answer: [daily.txt]
    files: {reports/daily.txt: {equals: "Daily report — no issues found"}}
```

Steps are named `s1, s2, ...` (or `id:`), run in order, and may use earlier results through
`{{...}}` placeholders (see `template`). `same_turn: true` lets a step go in the same model turn
as the previous one (independent calls a model would issue in parallel). `foreach: "{{expr}}"`
repeats the call for every element, bound to `item`. `expect_error: true` marks a call whose
failure is the point of the query (reading a missing file). `look: true` marks a result the model
must read before it can go on (see `Step.look`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmarks.tokens.template import references

__all__ = ["CONTEXT_NAMES", "Plan", "PlanError", "Step", "load_plans"]

CONTEXT_NAMES = frozenset({"cwd", "db", "email", "today", "today_epoch"})
"""Values the model knows from its system prompt, usable in any plan."""

GRADE_KEYS = frozenset({"answer", "answer_any", "files", "dirs", "tables", "calls", "skip_side_effects"})


class PlanError(ValueError):
    """A plan that does not fit the format or refers to something that does not exist."""


@dataclass(frozen=True, slots=True)
class Step:
    """One tool call (or one call per element with `foreach`)."""

    id: str
    server: str
    tool: str
    args: Mapping[str, Any]
    same_turn: bool = False
    foreach: str | None = None
    expect_error: bool = False
    look: bool = False
    """The model must read this result before it can write the calls that follow (it reasons over
    it, e.g. copies prices out of a page). In Code Mode this ends a script: the script prints the
    result, and the next script is written with what was read."""

    @property
    def needs(self) -> set[str]:
        """Names of earlier steps this call reads."""
        found = references(dict(self.args)) | (references(self.foreach) if self.foreach else set())
        return found - CONTEXT_NAMES - {"item"}


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything the scripted model may know beyond its context, and the grading of a query."""

    query_id: str
    steps: tuple[Step, ...]
    answer: str
    grade: Mapping[str, Any] = field(default_factory=dict)
    gap: str | None = None
    """Set when a stand-in server lacks a tool the query needs (the answer says so)."""

    @property
    def servers(self) -> list[str]:
        """Servers the plan calls, in first-use order."""
        seen: list[str] = []
        for step in self.steps:
            if step.server not in seen:
                seen.append(step.server)
        return seen

    @property
    def tools(self) -> list[tuple[str, str]]:
        """(server, tool) pairs the plan calls, in first-use order, without repeats."""
        seen: list[tuple[str, str]] = []
        for step in self.steps:
            if (step.server, step.tool) not in seen:
                seen.append((step.server, step.tool))
        return seen


def _step(raw: Mapping[str, Any], index: int, query_id: str) -> Step:
    where = f"{query_id} step {index}"
    call = raw.get("call")
    if not isinstance(call, str) or "." not in call:
        raise PlanError(f"{where}: 'call' must be 'server.tool'")
    server, tool = call.split(".", 1)
    unknown = set(raw) - {"call", "args", "id", "same_turn", "foreach", "expect_error", "look"}
    if unknown:
        raise PlanError(f"{where}: unknown keys {sorted(unknown)}")
    args = raw.get("args") or {}
    if not isinstance(args, Mapping):
        raise PlanError(f"{where}: 'args' must be a mapping")
    return Step(
        id=str(raw.get("id") or f"s{index}"),
        server=server,
        tool=tool,
        args=dict(args),
        same_turn=bool(raw.get("same_turn", False)),
        foreach=raw.get("foreach"),
        expect_error=bool(raw.get("expect_error", False)),
        look=bool(raw.get("look", False)),
    )


def _plan(query_id: str, raw: Mapping[str, Any]) -> Plan:
    unknown = set(raw) - {"steps", "answer", "grade", "gap"}
    if unknown:
        raise PlanError(f"{query_id}: unknown keys {sorted(unknown)}")
    steps = tuple(_step(s, i, query_id) for i, s in enumerate(raw.get("steps") or [], start=1))
    known: set[str] = set()
    turn: set[str] = set()
    for step in steps:
        missing = step.needs - known
        if missing:
            raise PlanError(f"{query_id} {step.id}: uses {sorted(missing)} before they exist")
        turn = turn if step.same_turn else set()
        if step.needs & turn:
            raise PlanError(f"{query_id} {step.id}: same_turn step reads a result of its own turn")
        known.add(step.id)
        turn.add(step.id)
    answer = raw.get("answer")
    if not isinstance(answer, str):
        raise PlanError(f"{query_id}: 'answer' (a template string) is required")
    if references(answer) - CONTEXT_NAMES - known:
        raise PlanError(f"{query_id}: answer uses unknown names {sorted(references(answer) - known)}")
    grade = dict(raw.get("grade") or {})
    if set(grade) - GRADE_KEYS:
        raise PlanError(f"{query_id}: unknown grade keys {sorted(set(grade) - GRADE_KEYS)}")
    return Plan(query_id, steps, answer, grade, raw.get("gap"))


def load_plans(path: Path) -> dict[str, Plan]:
    """Load and check every plan of one round file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(qid): _plan(str(qid), raw) for qid, raw in data.items()}
