"""Grade a query from its final answer, its side effects and the tool calls made.

Checks come from two places:
- the published task's `side_effects`: files and directories must exist in the workspace, SQLite
  tables must exist and hold rows, and named objects of hosted services (Notion pages, Linear
  issues, sheets...) must appear in the arguments of a replayed call;
- the plan's `grade` block: strings the answer must contain (`answer`, all; `answer_any`, one),
  file contents (`files: {path: {equals | contains: [...] | json: true}}`), directories, table row
  counts (`tables: {name: {rows | min_rows}}`) and replayed calls (`calls: [server.tool |
  {tool, contains: [...]}]`).

Calls made inside Code Mode scripts are invisible to the client, so call checks read the replay
servers' journal, the same in both modes. A query that failed (the model gave up, or the turn
limit hit) fails with that reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.tokens.dataset import Task
from benchmarks.tokens.plan import Plan
from benchmarks.tokens.workspace import Workspace

__all__ = ["Grade", "grade_query"]

HOSTED_EFFECTS = frozenset(
    {
        "notion_pages",
        "notion_databases",
        "google_sheets",
        "linear_issues",
        "google_drive_folders",
        "google_drive_files",
        "google_docs",
        "calendar_events",
    }
)


@dataclass(slots=True)
class Grade:
    """Pass or fail, with every reason a check failed."""

    passed: bool
    reasons: list[str] = field(default_factory=list)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _answer_checks(grade: Mapping[str, Any], answer: str) -> list[str]:
    text = _norm(answer)
    out = [f"answer lacks {want!r}" for want in grade.get("answer", []) if _norm(str(want)) not in text]
    anyof = grade.get("answer_any", [])
    if anyof and not any(_norm(str(w)) in text for w in anyof):
        out.append(f"answer has none of {anyof}")
    return out


def _file_checks(specs: Mapping[str, Any], ws: Workspace) -> list[str]:
    out: list[str] = []
    for rel, raw in specs.items():
        text = ws.read_file(rel)
        if text is None:
            out.append(f"file {rel} was not written")
            continue
        spec = raw or {}
        if "equals" in spec and text.strip() != str(spec["equals"]).strip():
            out.append(f"file {rel} is {text[:80]!r}, expected {spec['equals']!r}")
        for want in spec.get("contains", []):
            if _norm(str(want)) not in _norm(text):
                out.append(f"file {rel} lacks {want!r}")
        if spec.get("json"):
            try:
                json.loads(text)
            except ValueError:
                out.append(f"file {rel} is not valid JSON")
    return out


def _table_checks(specs: Mapping[str, Any], ws: Workspace) -> list[str]:
    out: list[str] = []
    for name, raw in specs.items():
        rows = ws.table_rows(name)
        spec = raw or {}
        if rows is None:
            out.append(f"table {name} does not exist")
        elif "rows" in spec and rows != spec["rows"]:
            out.append(f"table {name} has {rows} rows, expected {spec['rows']}")
        elif rows < spec.get("min_rows", 1):
            out.append(f"table {name} has {rows} rows, expected at least {spec.get('min_rows', 1)}")
    return out


def _call_checks(specs: Sequence[Any], journal: Sequence[Mapping[str, Any]]) -> list[str]:
    out: list[str] = []
    for spec in specs:
        tool, contains = (spec, []) if isinstance(spec, str) else (spec["tool"], spec.get("contains", []))
        server, name = tool.split(".", 1)
        hits = [e for e in journal if e["server"] == server and e["tool"] == name and not e.get("is_error")]
        if not hits:
            out.append(f"no successful call of {tool}")
            continue
        texts = [_norm(json.dumps(e["arguments"], ensure_ascii=False)) for e in hits]
        for want in contains:
            if not any(_norm(json.dumps(want, ensure_ascii=False)[1:-1]) in t for t in texts):
                out.append(f"no call of {tool} with {want!r}")
    return out


def _side_effects(task: Task, ws: Workspace, journal: Sequence[Mapping[str, Any]]) -> list[str]:
    out: list[str] = []
    effects = task.side_effects
    out += [f"file {f} was not written" for f in effects.get("files", []) if ws.read_file(f) is None]
    out += [f"directory {d} was not created" for d in effects.get("directories", []) if not (ws.files / d).is_dir()]
    for table in effects.get("sqlite_tables", []):
        if ws.table_rows(table) is None:
            out.append(f"table {table} does not exist")
    args_text = [_norm(json.dumps(e["arguments"], ensure_ascii=False)) for e in journal if not e.get("is_error")]
    for key in HOSTED_EFFECTS & set(effects):
        for name in effects[key]:
            if not any(_norm(name) in t for t in args_text):
                out.append(f"no replayed call created {key[:-1].replace('_', ' ')} {name!r}")
    return out


def grade_query(
    task: Task,
    plan: Plan,
    *,
    answer: str,
    failure: str | None,
    ws: Workspace,
    journal: Sequence[Mapping[str, Any]],
) -> Grade:
    """Check every criterion of one query; all must hold."""
    reasons: list[str] = []
    if failure:
        reasons.append(f"model gave up: {failure}")
    skip = set(plan.grade.get("skip_side_effects", []))
    reasons += [r for r in _side_effects(task, ws, journal) if not any(s in r for s in skip)]
    reasons += _answer_checks(plan.grade, answer)
    reasons += _file_checks(plan.grade.get("files", {}), ws)
    reasons += [f"directory {d} was not created" for d in plan.grade.get("dirs", []) if not (ws.files / d).is_dir()]
    reasons += _table_checks(plan.grade.get("tables", {}), ws)
    reasons += _call_checks(plan.grade.get("calls", []), journal)
    return Grade(not reasons, reasons)
