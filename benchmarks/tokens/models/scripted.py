"""The offline scripted model: follows a query's plan by the shortest sensible path.

Beyond the plan it uses only what it received: tool names and parameters from the tool list it
was given (classic) or from the listing, stubs and docs it read (Code Mode, see
`scripted_codemode`). When its context lacks something the plan needs (a tool, a parameter), it
gives up with the reason, as a real model would fail, and the query is reported as failed.

Classic mode: each plan step becomes a tool call; steps marked `same_turn` go in one turn (parallel
calls); after the last result it answers with the plan's answer template rendered from the
results it received.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.tokens.models.base import Conversation, Message, ModelTurn, ToolCall
from benchmarks.tokens.plan import Plan, Step
from benchmarks.tokens.stubs import normalize
from benchmarks.tokens.template import TemplateError, render, to_text

__all__ = ["ScriptedBase", "ScriptedClassic", "step_groups"]


def step_groups(steps: Sequence[Step]) -> list[list[Step]]:
    """Steps grouped into model turns: a `same_turn` step joins the previous group."""
    groups: list[list[Step]] = []
    for step in steps:
        if step.same_turn and groups:
            groups[-1].append(step)
        else:
            groups.append([step])
    return groups


class ScriptedBase:
    """State shared by both scripted modes: the plan, context values and received results."""

    name = "scripted"

    def __init__(self, plan: Plan, context: Mapping[str, Any]) -> None:
        self.plan = plan
        self.context = dict(context)
        self.values: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self._pending: dict[str, tuple[str, int | None]] = {}  # call id -> (step id, foreach index)
        self._foreach_sizes: dict[str, int] = {}
        self.errors: dict[str, str] = {}

    def _call_id(self) -> str:
        return f"call_{next(self._ids)}"

    def _absorb(self, messages: Sequence[Message]) -> None:
        """Take the results of the calls made last turn from the conversation."""
        for msg in messages:
            if msg.role != "tool" or msg.tool_call_id not in self._pending:
                continue
            step_id, index = self._pending.pop(msg.tool_call_id)
            value = msg.content if msg.is_error else msg.data
            if msg.is_error:
                self.errors[step_id] = msg.content
            if index is None:
                self.values[step_id] = value
            else:
                slot = self.values.setdefault(step_id, [None] * self._foreach_sizes[step_id])
                slot[index] = value

    def scope(self) -> dict[str, Any]:
        """Names a template may use: context values and results so far."""
        return {**self.context, **self.values}

    def fail(self, reason: str) -> ModelTurn:
        """Give up on the query, saying why."""
        return ModelTurn(content=f"I could not complete the task: {reason}", failure=reason)

    def answer(self) -> ModelTurn:
        """The final answer rendered from what was received."""
        try:
            return ModelTurn(content=to_text(render(self.plan.answer, self.scope())))
        except TemplateError as exc:
            return self.fail(f"the results do not contain what the answer needs ({exc})")


def find_tool(tools: Sequence[dict[str, Any]], server: str, tool: str) -> dict[str, Any] | None:
    """The listed tool for `server.tool`, matched as a reader would match names."""
    want = normalize(f"{server}__{tool}")
    for t in tools:
        if normalize(t["name"]) == want:
            return t
    srv, fn = normalize(server), normalize(tool)
    for t in tools:
        name = normalize(t["name"])
        if name.startswith(srv) and name.endswith(fn):
            return t
    return None


def check_arguments(schema: Mapping[str, Any], args: Mapping[str, Any], what: str) -> str | None:
    """Why `args` cannot be sent as the definition reads, or None."""
    props = schema.get("properties") or {}
    for name in args:
        if name not in props and schema.get("additionalProperties") is not True:
            return f"the definition of {what} shows no parameter {name!r}"
    for name in schema.get("required") or []:
        if name not in args:
            return f"{what} requires {name!r}, which the plan gives no value for"
    return None


class ScriptedClassic(ScriptedBase):
    """Classic mode: call the plan's tools in turn from the full tool list."""

    def __init__(self, plan: Plan, context: Mapping[str, Any]) -> None:
        super().__init__(plan, context)
        self._groups = step_groups(plan.steps)
        self._next = 0

    async def respond(self, conversation: Conversation) -> ModelTurn:
        """Issue the next group of calls, or answer when all results are in."""
        self._absorb(conversation.messages)
        for step_id, error in self.errors.items():
            step = next(s for s in self.plan.steps if s.id == step_id)
            if not step.expect_error:
                return self.fail(f"{step.server}.{step.tool} failed: {error[:300]}")
        if self._next >= len(self._groups):
            return self.answer()
        group = self._groups[self._next]
        self._next += 1
        calls: list[ToolCall] = []
        for step in group:
            built = self._calls_for(step, conversation.tools)
            if isinstance(built, str):
                return self.fail(built)
            calls += built
        return ModelTurn(tool_calls=tuple(calls))

    def _calls_for(self, step: Step, tools: Sequence[dict[str, Any]]) -> list[ToolCall] | str:
        tool = find_tool(tools, step.server, step.tool)
        if tool is None:
            return f"no tool for {step.server}.{step.tool} in the tool list"
        scope = self.scope()
        try:
            if step.foreach is None:
                arg_sets = [render(dict(step.args), scope)]
            else:
                items = render(step.foreach, scope)
                arg_sets = [render(dict(step.args), {**scope, "item": item}) for item in items]
                self._foreach_sizes[step.id] = len(arg_sets)
        except TemplateError as exc:
            return f"cannot build {step.server}.{step.tool} from the results received ({exc})"
        calls = []
        for index, args in enumerate(arg_sets):
            problem = check_arguments(tool.get("inputSchema") or {}, args, tool["name"])
            if problem:
                return problem
            call = ToolCall(self._call_id(), tool["name"], args)
            self._pending[call.id] = (step.id, None if step.foreach is None else index)
            calls.append(call)
        if step.foreach is not None and not calls:
            self.values[step.id] = []
        return calls
