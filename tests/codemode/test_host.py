"""The host function behind a script's tool calls: routing, arguments, validation, results."""

from __future__ import annotations

import base64
from typing import Any

import mcp_types as types
import pytest

from mcp_gateway.catalog.model import CatalogTool
from mcp_gateway.codemode.arguments import Validators
from mcp_gateway.codemode.host import ScriptHost
from mcp_gateway.codemode.texts import Texts
from mcp_gateway.codemode.view import ViewBuilder
from mcp_gateway.errors import ForbiddenError, NotFoundError, UpstreamTimeout
from mcp_gateway.invocation import CallContext
from sandbox.api import HostCallError, HostCallRequest

from .conftest import FakeInvoker, load_tools, make_ctx, tool

ISSUE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "owner": {"type": "string"},
        "repo": {"type": "string"},
        "title": {"type": "string", "minLength": 1},
        "labels": {"type": "array", "items": {"type": "string"}},
        "state": {"type": "string", "enum": ["open", "closed"]},
        "page-size": {"type": "integer", "minimum": 1},
        "in": {"type": "string"},
        "milestone": {"type": ["integer", "null"]},
        "meta": {
            "type": "object",
            "properties": {"priority": {"type": "integer"}},
            "required": ["priority"],
        },
    },
    "required": ["owner", "repo", "title"],
    "additionalProperties": False,
}


def make_host(tools: list[CatalogTool], invoker: FakeInvoker, ctx: CallContext | None = None) -> ScriptHost:
    texts = Texts()
    ctx = ctx or make_ctx(tools)
    view = ViewBuilder(texts).view(ctx.tools, lambda _: "server")
    return ScriptHost(view=view, ctx=ctx, invoker=invoker, call_id="parent-7", validators=Validators(), texts=texts)


@pytest.fixture
def issues() -> list[CatalogTool]:
    return [
        tool("my-git", "create-issue", ISSUE_SCHEMA, description="Create an issue."),
        tool("my-git", "open", {"type": "object"}),
    ]


def req(obj: str, method: str, line: int | None = 3, *args: Any, **kwargs: Any) -> HostCallRequest:
    return HostCallRequest(obj=obj, method=method, kwargs=kwargs, args=args, line=line)


async def test_call_goes_through_the_invoker_in_code_mode(issues: list[CatalogTool], invoker: FakeInvoker) -> None:
    host = make_host(issues, invoker)
    value = await host(req("my_git", "create_issue", owner="o", repo="r", title="t", page_size=5, in_="x"))
    assert len(invoker.calls) == 1
    call = invoker.calls[0]
    assert call.tool is issues[0]
    assert call.mode == "code" and call.parent_id == "parent-7"
    assert call.arguments == {"owner": "o", "repo": "r", "title": "t", "page-size": 5, "in": "x"}
    assert value == {"echo": call.arguments}


async def test_positional_arguments_follow_the_stub_order(issues: list[CatalogTool], invoker: FakeInvoker) -> None:
    host = make_host(issues, invoker)
    await host(req("my_git", "create_issue", 3, "o", "r", "t"))
    assert invoker.calls[0].arguments == {"owner": "o", "repo": "r", "title": "t"}
    with pytest.raises(HostCallError, match=r"at most 9; pass parameters by name"):
        await host(req("my_git", "create_issue", 3, *range(10)))
    with pytest.raises(HostCallError, match=r'parameter "owner" given twice'):
        await host(req("my_git", "create_issue", 3, "o", owner="p", repo="r", title="t"))


async def test_none_means_leave_out_unless_the_schema_takes_null(
    issues: list[CatalogTool], invoker: FakeInvoker
) -> None:
    host = make_host(issues, invoker)
    await host(req("my_git", "create_issue", owner="o", repo="r", title="t", labels=None, milestone=None))
    assert invoker.calls[0].arguments == {"owner": "o", "repo": "r", "title": "t", "milestone": None}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"owner": "o", "repo": "r"}, "my_git.create_issue (line 3): missing required parameter title."),
        ({"repo": "r"}, "my_git.create_issue (line 3): missing required parameters owner, title."),
        ({"owner": "o", "repo": "r", "title": 5}, 'my_git.create_issue (line 3): parameter "title": 5 is not of type'),
        ({"owner": "o", "repo": "r", "title": ""}, "parameter \"title\": '' should be non-empty"),
        ({"owner": "o", "repo": "r", "title": "t", "state": "done"}, "parameter \"state\": 'done' is not one of"),
        (
            {"owner": "o", "repo": "r", "title": "t", "page_size": 0},
            'parameter "page_size" (upstream "page-size"): 0 is less',
        ),
        ({"owner": "o", "repo": "r", "title": "t", "labels": ["a", 2]}, 'parameter "labels[1]": 2 is not of type'),
        (
            {"owner": "o", "repo": "r", "title": "t", "meta": {}},
            "parameter \"meta\": 'priority' is a required property",
        ),
        (
            {"owner": "o", "repo": "r", "title": "t", "titel": "x"},
            'unknown parameter "titel". Parameters: owner, repo,',
        ),
    ],
)
async def test_validation_names_parameter_tool_and_line(
    issues: list[CatalogTool], invoker: FakeInvoker, kwargs: dict[str, Any], message: str
) -> None:
    host = make_host(issues, invoker)
    with pytest.raises(HostCallError) as caught:
        await host(req("my_git", "create_issue", **kwargs))
    assert message in str(caught.value)
    assert str(caught.value).startswith("my_git.create_issue (line 3): ")
    assert invoker.calls == []  # nothing went upstream


async def test_open_schema_passes_unknown_parameters(issues: list[CatalogTool], invoker: FakeInvoker) -> None:
    host = make_host(issues, invoker)
    await host(req("my_git", "open", anything=1))
    assert invoker.calls[0].arguments == {"anything": 1}


async def test_real_schema_validation(invoker: FakeInvoker) -> None:
    tools = load_tools("github.json")
    host = make_host(tools, invoker)
    with pytest.raises(HostCallError, match=r"github.get_commit \(line 9\): parameter \"detail\": 'all' is not one of"):
        await host(req("github", "get_commit", 9, owner="o", repo="r", sha="s", detail="all"))
    await host(req("github", "get_commit", 9, owner="o", repo="r", sha="s", detail="full_patch"))
    assert invoker.calls[0].arguments["detail"] == "full_patch"


async def test_broken_schema_goes_unvalidated(invoker: FakeInvoker) -> None:
    broken = tool("s", "t", {"type": "object", "properties": {"a": {"type": "string", "pattern": "("}}})
    host = make_host([broken], invoker)
    await host(req("s", "t", a="x"))
    assert invoker.calls[0].arguments == {"a": "x"}


def text_result(text: str, *, is_error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=is_error)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (types.CallToolResult(content=[], structured_content={"a": 1}), {"a": 1}),
        (text_result('{"items": [1, 2]}'), {"items": [1, 2]}),
        (text_result(" [1, 2] "), [1, 2]),
        (text_result("42"), 42),
        (text_result("true"), True),
        (text_result("plain words"), "plain words"),
        (text_result("{not json"), "{not json"),
        (text_result("NaN"), "NaN"),
        (text_result("2024-01-01"), "2024-01-01"),
        (types.CallToolResult(content=[]), None),
        (
            types.CallToolResult(
                content=[types.TextContent(type="text", text="1"), types.TextContent(type="text", text="x")]
            ),
            [1, "x"],
        ),
        (
            types.CallToolResult(
                content=[
                    types.ImageContent(type="image", data=base64.b64encode(b"x" * 1000).decode(), mime_type="image/png")
                ]
            ),
            {"type": "image", "mime_type": "image/png", "size": 1000},
        ),
        (
            types.CallToolResult(
                content=[
                    types.EmbeddedResource(
                        type="resource",
                        resource=types.BlobResourceContents(
                            uri="file:///a", blob=base64.b64encode(b"abcd").decode(), mime_type="application/pdf"
                        ),
                    )
                ]
            ),
            {"type": "resource", "uri": "file:///a", "mime_type": "application/pdf", "size": 4},
        ),
        (
            types.CallToolResult(
                content=[
                    types.EmbeddedResource(
                        type="resource", resource=types.TextResourceContents(uri="file:///t", text="hi")
                    )
                ]
            ),
            {"type": "resource", "uri": "file:///t", "mime_type": None, "text": "hi"},
        ),
        (
            types.CallToolResult(content=[types.ResourceLink(type="resource_link", uri="file:///l", name="l")]),
            {"type": "resource_link", "uri": "file:///l", "name": "l", "mime_type": None},
        ),
    ],
)
async def test_results_are_decoded(invoker: FakeInvoker, response: types.CallToolResult, expected: Any) -> None:
    t = tool("s", "t")
    invoker.responses[("s", "t")] = response
    host = make_host([t], invoker)
    assert await host(req("s", "t")) == expected


async def test_fastmcp_result_wrapper_is_removed(invoker: FakeInvoker) -> None:
    out = {"type": "object", "properties": {"result": {"type": "string"}}, "x-fastmcp-wrap-result": True}
    t = tool("s", "t", output_schema=out)
    invoker.responses[("s", "t")] = types.CallToolResult(content=[], structured_content={"result": "hello"})
    assert await make_host([t], invoker)(req("s", "t")) == "hello"


async def test_failing_tool_names_the_call_and_line(invoker: FakeInvoker) -> None:
    t = tool("s", "t")
    invoker.responses[("s", "t")] = text_result("repository not found", is_error=True)
    with pytest.raises(HostCallError) as caught:
        await make_host([t], invoker)(req("s", "t", 12))
    assert str(caught.value) == "s.t (line 12) failed: repository not found"


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (ForbiddenError("tool blocked by policy"), "s.t (line 2) was refused: tool blocked by policy"),
        (
            UpstreamTimeout("s", "no answer within 60 s"),
            "s.t (line 2) could not reach its server: upstream 's': no answer",
        ),
        (
            RuntimeError("secret internals"),
            "s.t (line 2) failed inside the gateway; the details are in the gateway's log.",
        ),
        (NotFoundError("tool", "s__t"), "Unknown tool s.t (line 2)."),
    ],
)
async def test_gateway_errors_become_script_errors(invoker: FakeInvoker, exc: Exception, message: str) -> None:
    t = tool("s", "t")
    invoker.responses[("s", "t")] = exc
    with pytest.raises(HostCallError) as caught:
        await make_host([t], invoker)(req("s", "t", 2))
    assert str(caught.value).startswith(message)
    assert "secret" not in str(caught.value)


async def test_no_spelling_reaches_a_tool_outside_the_view(invoker: FakeInvoker) -> None:
    everything = [*load_tools("github.json"), tool("admin", "drop_database"), tool("my-git", "create-issue")]
    visible = [t for t in everything if t.name in ("get_me", "list_branches")]
    host = make_host(everything, invoker, make_ctx(visible))
    attempts = [
        ("github", "create_branch"),  # same server, not in the view
        ("admin", "drop_database"),  # another server, not in the view
        ("github", "github__create_branch"),
        ("", "github__create_branch"),
        ("github__create_branch", ""),
        ("admin__drop_database", "__call__"),
        ("GitHub", "get_me"),
        ("github", "GET_ME"),
        ("github", "get-me"),
        ("github", "__class__"),
        ("github", "__getattr__"),
        ("my_git", "create_issue"),
        ("my-git", "create-issue"),
        ("github", "get_me "),
        ("github", "list_branches\x00"),
    ]
    for obj, method in attempts:
        with pytest.raises(HostCallError) as caught:
            await host(req(obj, method, owner="o", repo="r"))
        assert str(caught.value).startswith("Unknown tool "), (obj, method)
    assert invoker.calls == []
    await host(req("github", "get_me"))
    assert [c.tool.name for c in invoker.calls] == ["get_me"]


async def test_a_tool_dropped_from_the_mapping_is_refused_even_with_a_cached_view(invoker: FakeInvoker) -> None:
    tools = [tool("s", "a"), tool("s", "b")]
    ctx = make_ctx(tools)
    host = make_host(tools, invoker, ctx)
    del ctx.tools["s__b"]  # type: ignore[attr-defined]  # a mapping mutated after the view was built
    with pytest.raises(HostCallError, match=r"Unknown tool s\.b"):
        await host(req("s", "b"))
    assert invoker.calls == []


async def test_unknown_method_message_is_the_same_as_for_a_refused_tool(invoker: FakeInvoker) -> None:
    t = tool("s", "t")
    invoker.responses[("s", "t")] = NotFoundError("tool", "s__t")
    host = make_host([t], invoker)
    with pytest.raises(HostCallError) as refused:
        await host(req("s", "t", 4))
    with pytest.raises(HostCallError) as missing:
        await host(req("s", "nope", 4))
    assert str(refused.value).replace("s.t", "X") == str(missing.value).replace("s.nope", "X")


async def test_progress_counts_calls(invoker: FakeInvoker) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    texts = Texts()
    t = tool("s", "t")
    ctx = make_ctx([t])
    view = ViewBuilder(texts).view(ctx.tools, lambda _: "server")
    host = ScriptHost(
        view=view, ctx=ctx, invoker=invoker, call_id="p", validators=Validators(), texts=texts, progress=progress
    )
    await host(req("s", "t"))
    await host(req("s", "t"))
    assert seen == [(1.0, None, "s.t"), (2.0, None, "s.t")]
