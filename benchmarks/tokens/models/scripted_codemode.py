"""The scripted model in Code Mode: list the tool files, read the ones it needs, write one script.

Turn by turn: `listToolFiles()`; `readToolFile` for each file holding a planned tool (in one turn);
more of a file if a partial read points further and the function is not yet seen; `getToolDocs`
only when the stub does not show a function or a parameter the plan needs; then one
`executeToolCode` whose script makes every planned call and prints the answer; then the answer.
A plan step marked `look` splits the work in two scripts: the first prints that result (the model
must read it to go on), the second is written with what was read.

It calls tools by the function and parameter names the stubs (or docs) show, so a stub that hides
or misnames what the plan needs makes the query fail with that reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.tokens.models.base import Conversation, Message, ModelTurn, ToolCall
from benchmarks.tokens.models.scripted import ScriptedBase
from benchmarks.tokens.plan import CONTEXT_NAMES, Plan, Step
from benchmarks.tokens.stubs import StubFunction, continuation_line, find_file, list_files, normalize, parse_stub
from benchmarks.tokens.template import TemplateError, to_starlark

__all__ = ["META_TOOLS", "ScriptedCodeMode", "global_name"]

META_TOOLS = ("listToolFiles", "readToolFile", "getToolDocs", "executeToolCode")
MAX_READS_PER_FILE = 4


def global_name(server: str) -> str:
    """The script global of a server, as the gateway derives it from the server name."""
    name = re.sub(r"\W", "_", server)
    return name if not name[:1].isdigit() else f"_{name}"


def _segments(steps: Sequence[Step]) -> list[list[Step]]:
    """Steps split into scripts: a `look` step ends one."""
    out: list[list[Step]] = [[]]
    for step in steps:
        out[-1].append(step)
        if step.look:
            out.append([])
    return [seg for seg in out if seg] or [[]]


def _printed_object(text: str) -> dict[str, Any] | None:
    """The first JSON object printed in a script's output."""
    decoder = json.JSONDecoder()
    for i, ch in enumerate(text):
        if ch == "{":
            try:
                value, _ = decoder.raw_decode(text, i)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return None


def _meta(tools: Sequence[dict[str, Any]], name: str) -> str | None:
    for t in tools:
        if t["name"] == name or t["name"].endswith(f"__{name}"):
            return str(t["name"])
    return None


class ScriptedCodeMode(ScriptedBase):
    """Code Mode: discover, read, write one script, answer with what it printed."""

    def __init__(self, plan: Plan, context: Mapping[str, Any]) -> None:
        super().__init__(plan, context)
        self.listing = ""
        self.queried = False
        self.files: dict[str, str] = {}  # path -> text read so far
        self.reads: dict[str, int] = {}
        self.docs: dict[tuple[str, str], str] = {}
        self.script: str | None = None
        self._last: list[tuple[str, Any]] = []  # what the last turn asked for
        self.segments = _segments(plan.steps)
        self.segment = 0
        self.known: dict[str, Any] = {}  # results read from earlier scripts' output

    async def respond(self, conversation: Conversation) -> ModelTurn:
        """Take the next Code Mode step."""
        received = self._received(conversation.messages)
        if not self.plan.steps:
            return self.answer()
        names = {m: _meta(conversation.tools, m) for m in META_TOOLS}
        if not all(names.values()):
            return self.fail(f"Code Mode meta-tools missing from the tool list: {names}")
        if self.script is not None:
            result = received.get("exec")
            if result is None:
                return self.fail("executeToolCode returned nothing")
            if result.is_error and not any(s.expect_error for s in self.plan.steps):
                return self.fail(f"the script failed: {result.content[:400]}")
            if self.segment + 1 < len(self.segments):
                looked = _printed_object(result.content)
                wanted = [s.id for s in self.segments[self.segment] if s.look]
                if looked is None or any(k not in looked for k in wanted):
                    return self.fail(f"could not read the looked-at results from the output: {result.content[:300]}")
                self.known.update({k: looked[k] for k in wanted})
                self.segment += 1
                return self._write_script(names)
            return ModelTurn(content=result.content.strip())
        if not self.listing:
            if "list" in received:
                self.listing = received["list"].content
            else:
                return self._ask(names["listToolFiles"], {}, ("list", None))
        return self._after_listing(names)

    def _received(self, messages: Sequence[Message]) -> dict[str, Message]:
        by_id = {m.tool_call_id: m for m in messages if m.role == "tool"}
        got: dict[str, Message] = {}
        for call_id, (kind, key) in self._last:
            msg = by_id.get(call_id)
            if msg is None:
                continue
            if kind == "read":
                self.files[key] = self.files.get(key, "") + "\n" + msg.content
            elif kind == "docs":
                self.docs[key] = msg.content
            elif kind == "query":
                self.listing += "\n" + msg.content
            got[kind] = msg
        self._last = []
        return got

    def _ask(self, tool: str | None, args: dict[str, Any], tag: tuple[str, Any]) -> ModelTurn:
        call = ToolCall(self._call_id(), str(tool), args)
        self._last = [(call.id, tag)]
        return ModelTurn(tool_calls=(call,))

    def _after_listing(self, names: Mapping[str, str | None]) -> ModelTurn:
        files = list_files(self.listing)
        wanted: dict[tuple[str, str], str] = {}
        for server, tool in self.plan.tools:
            path = find_file(files, server, tool)
            if path is None:
                if not self.queried:
                    # A listing that does not show the file: narrow it with a query, once.
                    self.queried = True
                    return self._ask(names["listToolFiles"], {"query": tool}, ("query", None))
                return self.fail(f"the listing shows no file for {server}.{tool}")
            wanted[(server, tool)] = path
        calls: list[ToolCall] = []
        self._last = []
        for (server, tool), path in wanted.items():
            if self._function(server, tool) is not None or (server, tool) in self.docs:
                continue
            text = self.files.get(path)
            reads = self.reads.get(path, 0)
            if text is None:
                args: dict[str, Any] = {"fileName": path}
            elif (start := continuation_line(text)) and reads < MAX_READS_PER_FILE:
                args = {"fileName": path, "startLine": start}
                self.files[path] = re.sub(r"startLine\s*[=:]\s*\d+", "", text)
            else:
                args = {"server": server, "tool": tool}
            if "fileName" in args:
                if any(c.arguments == args for c in calls):
                    continue
                self.reads[path] = reads + 1
                call = ToolCall(self._call_id(), str(names["readToolFile"]), args)
                self._last.append((call.id, ("read", path)))
            else:
                call = ToolCall(self._call_id(), str(names["getToolDocs"]), args)
                self._last.append((call.id, ("docs", (server, tool))))
            calls.append(call)
        if calls:
            return ModelTurn(tool_calls=tuple(calls))
        return self._write_script(names)

    def _function(self, server: str, tool: str) -> StubFunction | None:
        for path, text in self.files.items():
            if normalize(server) not in normalize(path):
                continue
            for fn in parse_stub(text):
                if normalize(fn.name) == normalize(tool):
                    return fn
        return None

    def _param_name(self, server: str, tool: str, arg: str) -> str | None:
        fn = self._function(server, tool)
        if fn is not None and (p := fn.param(arg)) is not None:
            return p.name
        docs = self.docs.get((server, tool), "")
        for word in re.findall(r"[A-Za-z_]\w*", docs):
            if normalize(word) == normalize(arg):
                return word
        return None

    def _call_code(self, step: Step, names: Mapping[str, str]) -> str:
        literals = self.known or None
        fn = self._function(step.server, step.tool)
        ident = fn.name if fn else self._ident_from_docs(step)
        if ident is None:
            raise LookupError(f"neither stub nor docs show the function for {step.server}.{step.tool}")
        parts = []
        for arg, value in step.args.items():
            pname = self._param_name(step.server, step.tool, arg)
            if pname is None:
                raise LookupError(f"the stub and docs of {step.server}.{step.tool} show no parameter {arg!r}")
            parts.append(f"{pname}={to_starlark(value, names, literals)}")
        if fn is not None:
            given = {normalize(a) for a in step.args}
            missing = [p.name for p in fn.params if p.required and normalize(p.name) not in given]
            if missing:
                raise LookupError(f"the stub of {step.server}.{step.tool} requires {missing}, not in the plan")
        return f"{global_name(step.server)}.{ident}({', '.join(parts)})"

    def _ident_from_docs(self, step: Step) -> str | None:
        docs = self.docs.get((step.server, step.tool), "")
        for ident in re.findall(rf"\b{re.escape(global_name(step.server))}\.(\w+)\(", docs):
            if normalize(ident) == normalize(step.tool):
                return str(ident)
        return None

    def _write_script(self, names: Mapping[str, str | None]) -> ModelTurn:
        scope_names = {k: json.dumps(v, ensure_ascii=False) for k, v in self.context.items() if k in CONTEXT_NAMES}
        lines: list[str] = []
        literals = self.known or None
        segment = self.segments[self.segment]
        try:
            for step in segment:
                scope_names[step.id] = step.id
                if step.foreach is None:
                    lines.append(f"{step.id} = {self._call_code(step, scope_names)}")
                else:
                    inner = self._call_code(step, {**scope_names, "item": "item"})
                    source = to_starlark(step.foreach, scope_names, literals)
                    lines.append(f"{step.id} = [{inner} for item in {source}]")
            if self.segment + 1 < len(self.segments):
                looked = ", ".join(f'"{s.id}": {s.id}' for s in segment if s.look)
                lines.append(f"print(json_encode({{{looked}}}))")
            else:
                lines.append(f"print({to_starlark(self.plan.answer, scope_names, literals)})")
        except (LookupError, TemplateError) as exc:
            if isinstance(exc, LookupError) and not self._docs_tried():
                return self._ask_docs_for_gaps(names, str(exc))
            return self.fail(str(exc))
        self.script = "\n".join(lines) + "\n"
        return self._ask(names["executeToolCode"], {"code": self.script}, ("exec", None))

    def _docs_tried(self) -> bool:
        return all(pair in self.docs for pair in self.plan.tools)

    def _ask_docs_for_gaps(self, names: Mapping[str, str | None], problem: str) -> ModelTurn:
        calls = []
        self._last = []
        for server, tool in self.plan.tools:
            if (server, tool) in self.docs:
                continue
            step_args = [a for s in self.plan.steps if (s.server, s.tool) == (server, tool) for a in s.args]
            fn = self._function(server, tool)
            if fn is not None and all(fn.param(a) for a in step_args):
                continue
            call = ToolCall(self._call_id(), str(names["getToolDocs"]), {"server": server, "tool": tool})
            self._last.append((call.id, ("docs", (server, tool))))
            calls.append(call)
        if not calls:
            return self.fail(f"{problem} (docs already read)")
        return ModelTurn(tool_calls=tuple(calls))
