"""Run a round: start the gateway per mode, run every query through the agent loop, grade it.

Both modes run the same queries on the same fixtures (the workspace is reset before each query),
with one gateway per mode: every server classic, or every server in Code Mode.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import anyio

from benchmarks.tokens.agent import run_query
from benchmarks.tokens.client import open_gateway_session
from benchmarks.tokens.dataset import Round, Task
from benchmarks.tokens.gateway import GatewayError, gateway_config, running_gateway
from benchmarks.tokens.grading import grade_query
from benchmarks.tokens.models.base import Model
from benchmarks.tokens.plan import Plan
from benchmarks.tokens.tokens import TokenCounter
from benchmarks.tokens.workspace import Workspace

__all__ = ["MODES", "QUICK", "ModelFactory", "QueryResult", "context_values", "run_mode", "system_prompt"]

Mode = Literal["classic", "codemode"]
MODES: tuple[Mode, ...] = ("classic", "codemode")
ModelFactory = Callable[[Plan, Mode, dict[str, Any]], Model]

QUICK = MappingProxyType(
    {
        "r1": ["S1", "S3", "S6", "M9", "NT1"],
        "r2": ["R2S1", "R2S19", "R2M3", "R2H3"],
        "r3": ["R3S11", "R3M1", "R3M22"],
    }
)
"""The handful of queries `--quick` runs: both real servers, replayed ones, data flow between calls."""

USER_EMAIL = "bench.user@example.com"
TODAY = "2026-11-30"
TODAY_EPOCH = 1795996800


def context_values(ws: Workspace) -> dict[str, Any]:
    """What the system prompt tells the model about its environment (plans may use these)."""
    return {
        "cwd": str(ws.files.resolve()),
        "db": str(ws.db.resolve()),
        "email": USER_EMAIL,
        "today": TODAY,
        "today_epoch": TODAY_EPOCH,
    }


def system_prompt(ctx: dict[str, Any], instructions: str | None) -> str:
    """The system prompt of every query (plus the gateway's instructions, if it sends any)."""
    text = (
        "You are an assistant that completes the user's task with the tools available.\n"
        f"The current directory is {ctx['cwd']}; the SQLite database is {ctx['db']}. "
        f"The user's accounts use {ctx['email']}. Today is {ctx['today']} (midnight UTC = "
        f"{ctx['today_epoch']} epoch seconds).\n"
        "When the task is done, answer with a short summary of what you did and found."
    )
    return f"{text}\n\n{instructions}" if instructions else text


@dataclass(slots=True)
class QueryResult:
    """One query in one mode: tokens, turns, grade."""

    id: str
    difficulty: str
    mode: str
    passed: bool
    reasons: list[str]
    input_tokens: int
    output_tokens: int
    turns: int
    per_turn_input: list[int]
    by_category: dict[str, int]
    calls: list[str]
    answer: str
    seconds: float
    gap: str | None = None
    reported_input_tokens: int = 0
    reported_output_tokens: int = 0
    script: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


async def _wait_for_tools(session: Any, expected: int, timeout_s: float = 60.0) -> list[dict[str, Any]]:
    """List tools until every upstream is connected (the gateway is ready before all are)."""
    tools: list[dict[str, Any]] = []
    with anyio.move_on_after(timeout_s):
        while True:
            tools = await session.list_tools()
            if len(tools) >= expected:
                return tools
            await anyio.sleep(0.5)
    raise GatewayError(f"gateway lists {len(tools)} tools, expected {expected}")


@asynccontextmanager
async def _gateway_session(url: str, api_key: str) -> AsyncIterator[Any]:
    async with open_gateway_session(url, api_key) as session:
        yield session


@dataclass(frozen=True, slots=True)
class _Job:
    """One mode of one round: what `_run_tasks` needs besides the connection."""

    rnd: Round
    mode: Mode
    tasks: Sequence[Task]
    ws: Workspace
    factory: ModelFactory
    counter: TokenCounter
    progress: Callable[[QueryResult], None] | None


async def _run_tasks(connect: Callable[[], Any], job: _Job) -> list[QueryResult]:
    rnd, mode, ws, factory, counter, progress = job.rnd, job.mode, job.ws, job.factory, job.counter, job.progress
    tasks = job.tasks
    ctx = context_values(ws)
    results: list[QueryResult] = []
    async with connect() as session:
        expected = rnd.tool_count if mode == "classic" else 4
        tools = await _wait_for_tools(session, expected)
        tools_tokens = counter.tools(tools)
        system = system_prompt(ctx, session.instructions)
        for task in tasks:
            plan = rnd.plans[task.id]
            ws.reset()
            offset = ws.journal_offset()
            model = factory(plan, mode, ctx)
            run = await run_query(model, session, counter, system, task.query, tools=tools, tools_tokens=tools_tokens)
            journal = ws.journal_since(offset)
            grade = grade_query(task, plan, answer=run.answer, failure=run.failure, ws=ws, journal=journal)
            result = QueryResult(
                id=task.id,
                difficulty=task.difficulty,
                mode=mode,
                passed=grade.passed,
                reasons=grade.reasons,
                input_tokens=run.tokens.input,
                output_tokens=run.tokens.output,
                turns=len(run.tokens.turns),
                per_turn_input=[t.input for t in run.tokens.turns],
                by_category=dict(run.tokens.by_category),
                calls=[c.name for c in run.calls] + [f"(script) {e['server']}.{e['tool']}" for e in journal]
                if mode == "codemode"
                else [c.name for c in run.calls],
                answer=run.answer[:2000],
                seconds=round(run.seconds, 3),
                gap=plan.gap,
                reported_input_tokens=run.reported_input_tokens,
                reported_output_tokens=run.reported_output_tokens,
                script=getattr(model, "script", None),
            )
            results.append(result)
            if progress:
                progress(result)
    return results


def run_mode(
    rnd: Round,
    mode: Mode,
    tasks: Sequence[Task],
    *,
    workdir: Path,
    factory: ModelFactory,
    counter: TokenCounter,
    binding: str = "server",
    gateway_url: str | None = None,
    api_key: str | None = None,
    inprocess: bool = False,
    progress: Callable[[QueryResult], None] | None = None,
) -> list[QueryResult]:
    """Run `tasks` of `rnd` in one mode: against `gateway_url` if given, in process with the
    gateway's own parts if `inprocess` (see `inprocess.py`), else through a gateway started here."""
    ws = Workspace((workdir / rnd.id / mode).resolve())
    ws.reset()
    job = _Job(rnd, mode, tasks, ws, factory, counter, progress)
    if gateway_url:
        return anyio.run(_run_tasks, partial(_gateway_session, gateway_url, api_key or ""), job)
    if inprocess:
        from benchmarks.tokens.inprocess import open_inprocess_session  # imports the gateway package

        return anyio.run(_run_tasks, partial(open_inprocess_session, rnd, mode, ws, binding=binding), job)
    config = gateway_config(rnd, mode, ws, binding=binding)
    started = time.monotonic()
    with running_gateway(config, ws.root / "gateway") as gw:
        results = anyio.run(_run_tasks, partial(_gateway_session, gw.url, gw.api_key), job)
    for r in results:
        r.extra["gateway_seconds"] = round(time.monotonic() - started, 1)
    return results
