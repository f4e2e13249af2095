"""Grading on pass and fail cases: answer, files, tables, replayed calls, side effects."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from benchmarks.tokens.dataset import Task
from benchmarks.tokens.grading import grade_query
from benchmarks.tokens.plan import Plan
from benchmarks.tokens.workspace import Workspace


def _task(**effects: list[str]) -> Task:
    return Task("Q1", "simple", "q", ("S",), ("t",), "criteria", effects)


def _plan(grade: dict) -> Plan:
    return Plan("Q1", (), "answer", grade)


def test_passes_when_every_check_holds(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.reset()
    (ws.files / "notes.txt").write_text("Benchmark run started")
    with sqlite3.connect(ws.db) as conn:
        conn.execute("CREATE TABLE products (name TEXT)")
        conn.executemany("INSERT INTO products VALUES (?)", [("a",), ("b",), ("c",)])
    journal = [
        {"server": "notion", "tool": "API-post-page", "arguments": {"title": "Benchmark Test Page"}, "is_error": False}
    ]
    plan = _plan(
        {
            "answer": ["context.md"],
            "answer_any": ["x", "Test_MCP.py"],
            "files": {"notes.txt": {"equals": "Benchmark run started"}},
            "tables": {"products": {"rows": 3}},
            "calls": [{"tool": "notion.API-post-page", "contains": ["benchmark test page"]}],
        }
    )
    task = _task(files=["notes.txt"], sqlite_tables=["products"], notion_pages=["Benchmark Test Page"])
    grade = grade_query(task, plan, answer="It lists context.md and test_mcp.py", failure=None, ws=ws, journal=journal)
    assert grade.passed, grade.reasons


def test_fails_with_every_reason(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.reset()
    (ws.files / "config.json").write_text("{not json")
    plan = _plan(
        {
            "answer": ["Bazel"],
            "files": {"config.json": {"json": True, "contains": ["8080"]}, "missing.txt": {}},
            "tables": {"customers": {"rows": 5}},
            "calls": ["linear.linear_create_issue"],
        }
    )
    task = _task(files=["report.md"], sqlite_tables=["sales"], linear_issues=["Track coverage"])
    grade = grade_query(task, plan, answer="nothing useful", failure="stub hides 'teamId'", ws=ws, journal=[])
    assert not grade.passed
    text = "\n".join(grade.reasons)
    for expected in (
        "model gave up: stub hides 'teamId'",
        "file report.md was not written",
        "table sales does not exist",
        "linear issue 'Track coverage'",
        "answer lacks 'Bazel'",
        "config.json is not valid JSON",
        "config.json lacks '8080'",
        "missing.txt was not written",
        "customers has 3 rows, expected 5",
        "no successful call of linear.linear_create_issue",
    ):
        assert expected in text


def test_workspace_reset_restores_fixtures(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.reset()
    (ws.files / "extra.txt").write_text("x")
    (ws.files / "context.md").unlink()
    with sqlite3.connect(ws.db) as conn:
        conn.execute("CREATE TABLE scratch (a)")
    ws.reset()
    assert not (ws.files / "extra.txt").exists()
    assert ws.read_file("context.md") is not None
    assert ws.table_rows("scratch") is None
    assert ws.table_rows("customers") == 3
