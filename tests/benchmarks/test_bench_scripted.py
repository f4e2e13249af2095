"""The scripted model uses only what it received: tool lists, listings, stubs, docs."""

from __future__ import annotations

from typing import Any

import anyio

from benchmarks.tokens.agent import run_query
from benchmarks.tokens.client import ToolOutcome
from benchmarks.tokens.models.scripted import ScriptedClassic
from benchmarks.tokens.models.scripted_codemode import ScriptedCodeMode
from benchmarks.tokens.plan import Plan, Step
from benchmarks.tokens.tokens import TokenCounter

PLAN = Plan(
    "Q",
    (
        Step("s1", "linear", "linear_get_teams", {}),
        Step("s2", "linear", "linear_create_issue", {"title": "T", "teamId": "{{s1.teams[0].id}}"}),
    ),
    "Created {{s2.identifier}} in {{s1.teams[0].name}}",
)
TEAMS = {"teams": [{"id": "team-1", "name": "Engineering"}]}
ISSUE = {"identifier": "ENG-7"}


class ClassicSession:
    """Serves two namespaced tools and records the calls."""

    instructions = None

    def __init__(self, required: list[str]) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.tools = [
            {"name": "linear__linear_get_teams", "inputSchema": {"type": "object", "properties": {}}},
            {
                "name": "linear__linear_create_issue",
                "inputSchema": {
                    "type": "object",
                    "properties": {"title": {}, "teamId": {}, "description": {}},
                    "required": required,
                },
            },
        ]

    async def list_tools(self) -> list[dict[str, Any]]:
        return self.tools

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        self.calls.append((name, arguments))
        value = TEAMS if name.endswith("get_teams") else ISSUE
        return ToolOutcome(str(value), value, False)


LISTING = "# 2 tools\nservers/\n  linear.pyi  (2 tools)\n  github.pyi  (41 tools)\n"
STUB = (
    "# Server linear\nfrom typing import Any\n\n"
    "def linear_get_teams() -> Any: ...  # Get teams\n"
    "def linear_create_issue(title: str, teamId: str, description: str = None) -> Any: ...  # Create\n"
)


class CodeModeSession:
    """Serves the four meta-tools with canned texts; runs no script, returns a fixed output."""

    instructions = None

    def __init__(self, stub: str, docs: str = "") -> None:
        self.stub, self.docs = stub, docs
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def list_tools(self) -> list[dict[str, Any]]:
        names = ("listToolFiles", "readToolFile", "getToolDocs", "executeToolCode")
        return [{"name": n, "inputSchema": {"type": "object"}} for n in names]

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        self.calls.append((name, arguments))
        text = {"listToolFiles": LISTING, "readToolFile": self.stub, "getToolDocs": self.docs}.get(name, "Output:\nok")
        return ToolOutcome(text, text, False)


async def _run(model: Any, session: Any) -> Any:
    with anyio.fail_after(10):
        return await run_query(model, session, TokenCounter(), "system", "query")


async def test_classic_follows_the_plan_with_received_values() -> None:
    session = ClassicSession(required=["title", "teamId"])
    run = await _run(ScriptedClassic(PLAN, {}), session)
    assert run.failure is None
    assert session.calls == [
        ("linear__linear_get_teams", {}),
        ("linear__linear_create_issue", {"title": "T", "teamId": "team-1"}),
    ]
    assert run.answer == "Created ENG-7 in Engineering"
    assert len(run.tokens.turns) == 3


async def test_classic_fails_when_the_definition_requires_an_unplanned_parameter() -> None:
    run = await _run(ScriptedClassic(PLAN, {}), ClassicSession(required=["title", "teamId", "description"]))
    assert run.failure is not None
    assert "description" in run.failure


async def test_code_mode_lists_reads_and_writes_one_script() -> None:
    session = CodeModeSession(STUB)
    model = ScriptedCodeMode(PLAN, {})
    run = await _run(model, session)
    assert run.failure is None
    assert [c[0] for c in session.calls] == ["listToolFiles", "readToolFile", "executeToolCode"]
    assert session.calls[1][1] == {"fileName": "servers/linear.pyi"}
    assert model.script == (
        "s1 = linear.linear_get_teams()\n"
        's2 = linear.linear_create_issue(title="T", teamId=s1["teams"][0]["id"])\n'
        'print("Created " + str(s2["identifier"]) + " in " + str(s1["teams"][0]["name"]))\n'
    )
    assert [m.category for m in run.messages if m.role == "tool"] == ["listing", "stubs", "results"]


async def test_code_mode_reads_docs_when_the_stub_hides_a_parameter() -> None:
    hidden = STUB.replace("teamId: str, ", "")
    docs = "linear.linear_create_issue(title: str) -> Any\nParameters:\n- teamId (str, required): the team"
    session = CodeModeSession(hidden, docs)
    run = await _run(ScriptedCodeMode(PLAN, {}), session)
    assert run.failure is None
    assert [c[0] for c in session.calls] == ["listToolFiles", "readToolFile", "getToolDocs", "executeToolCode"]


async def test_code_mode_fails_when_neither_stub_nor_docs_show_a_parameter() -> None:
    session = CodeModeSession(STUB.replace("teamId: str, ", ""), "no parameters listed")
    run = await _run(ScriptedCodeMode(PLAN, {}), session)
    assert run.failure is not None
    assert "teamId" in run.failure
