"""The script-facing contract, on both engines: output, result rule, host calls, builtins, errors."""

from __future__ import annotations

import json

import anyio
import pytest
from sandbox_helpers import FakeHost, run

from sandbox import HostCallRequest, WorkerPool, framing


async def test_print_and_result_variable(sandbox: WorkerPool) -> None:
    result = await run(sandbox, 'print("a", 1, [1, "x"], None, True)\nprint("b", sep="-")\nresult = {"k": [1, 2]}')
    assert result.ok, result.error
    assert result.output == 'a 1 [1, "x"] None True\nb\n'
    assert result.result == {"k": [1, 2]}
    assert result.stats.output_bytes == len(result.output)
    assert not result.stats.output_truncated


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("x = 2\nx * 21", 42),
        ("result = 1\n2", 1),  # `result` wins over the last expression
        ("x = 1\nif x:\n    result = 'set in a branch'\nx", "set in a branch"),
        ("print(1)", None),  # print returns None
        ("for i in range(3):\n    pass", None),  # last statement is not an expression
        ("x = 1", None),
        ("", None),
        ("(1, 'two', 3.5)", [1, "two", 3.5]),
        ('{"nested": {"list": [True, None]}}', {"nested": {"list": [True, None]}}),
        ("x = 5; x + 1", 6),
    ],
)
async def test_result_rule(sandbox: WorkerPool, code: str, expected: object) -> None:
    result = await run(sandbox, code)
    assert result.ok, result.error
    assert result.result == expected


async def test_non_json_result_becomes_its_string(sandbox: WorkerPool) -> None:
    result = await run(sandbox, "def helper():\n    pass\nhelper")
    assert result.ok, result.error
    assert isinstance(result.result, str) and "helper" in result.result


async def test_json_helpers(sandbox: WorkerPool) -> None:
    code = (
        'text = json_encode({"a": [1, 2.5, None, True, "é"]})\nresult = [text, json_decode(text), json_decode("[1]")]'
    )
    result = await run(sandbox, code)
    assert result.ok, result.error
    text, decoded, small = result.result
    assert json.loads(text) == {"a": [1, 2.5, None, True, "é"]}
    assert " " not in text  # compact, like Starlark's json.encode
    assert decoded == {"a": [1, 2.5, None, True, "é"]} and small == [1]


async def test_bad_json_is_a_runtime_error(sandbox: WorkerPool) -> None:
    result = await run(sandbox, 'x = 1\njson_decode("{nope")')
    assert result.error is not None and result.error.kind == "runtime" and result.error.line == 2


async def test_host_call_with_kwargs_and_args(sandbox: WorkerPool) -> None:
    host = FakeHost()
    result = await run(sandbox, 'x = 1\nissue = github.create_issue("pos", title="x", labels=["a", "b"])\nissue', host)
    assert result.ok, result.error
    assert result.result == {"args": ["pos"], "kwargs": {"title": "x", "labels": ["a", "b"]}}
    assert host.calls == [HostCallRequest("github", "create_issue", {"title": "x", "labels": ["a", "b"]}, ("pos",), 2)]
    assert result.stats.tool_calls == 1


async def test_host_result_keeps_key_order(sandbox: WorkerPool) -> None:
    result = await run(sandbox, 'r = github.echo(zebra=1, apple=2, mango=3)\nprint(r["kwargs"])\nr["kwargs"]')
    assert result.ok, result.error
    assert result.output == '{"zebra": 1, "apple": 2, "mango": 3}\n'
    assert list(result.result) == ["zebra", "apple", "mango"]


async def test_host_objects_are_separate(sandbox: WorkerPool) -> None:
    host = FakeHost()
    result = await run(sandbox, 'notes.add(text="n")\ngithub.echo()', host)
    assert result.ok, result.error
    assert [(c.obj, c.method) for c in host.calls] == [("notes", "add"), ("github", "echo")]


async def test_host_method_as_value_and_in_function(sandbox: WorkerPool) -> None:
    code = "fn = github.echo\ndef go(n):\n    return fn(n=n)\nresult = [go(1), go(2)]"
    host = FakeHost()
    result = await run(sandbox, code, host)
    assert result.ok, result.error
    assert [c.kwargs for c in host.calls] == [{"n": 1}, {"n": 2}]
    assert [c.line for c in host.calls] == [1, 1]  # where `github.echo` was written


async def test_try_call_envelopes(sandbox: WorkerPool) -> None:
    code = (
        'good = try_call(github.echo, a=1)\nbad = try_call(github.fail, message="nope")\n'
        'print("still running")\nresult = [good, bad]'
    )
    result = await run(sandbox, code)
    assert result.ok, result.error
    assert result.output == "still running\n"
    good, bad = result.result
    assert good == {"ok": True, "value": {"args": [], "kwargs": {"a": 1}}, "error": None}
    assert bad["ok"] is False and bad["value"] is None and "nope" in bad["error"]


async def test_tool_error_fails_the_script_with_its_line(sandbox: WorkerPool) -> None:
    result = await run(sandbox, 'print("before")\nx = 1\ny = github.fail(message="disk full")\nprint("after")')
    assert result.error is not None
    assert result.error.kind == "tool"
    assert result.error.line == 3 and result.error.column == 5
    assert "github.fail" in result.error.message and "disk full" in result.error.message
    assert result.output == "before\n"


async def test_unexpected_host_exception_is_internal(sandbox: WorkerPool) -> None:
    result = await run(sandbox, "r = try_call(github.boom)")
    assert result.error is not None and result.error.kind == "internal"
    assert "github.boom" in result.error.message and "RuntimeError" in result.error.message


async def test_parallel_returns_results_in_order(sandbox: WorkerPool) -> None:
    code = 'parallel([[github.slow, {"s": 0.05 * (3 - i), "n": i}] for i in range(3)])'
    result = await run(sandbox, code)
    assert result.ok, result.error
    assert result.result == [0, 1, 2]
    assert result.stats.tool_calls == 3


async def test_parallel_collect_and_raise(sandbox: WorkerPool) -> None:
    calls = '[[github.echo, {"a": 1}], [github.fail, {"message": "x"}], [notes.add, {}]]'
    collected = await run(sandbox, f'parallel({calls}, errors="collect")')
    assert collected.ok, collected.error
    ok, failed, added = collected.result
    assert ok["ok"] and added["ok"] and not failed["ok"] and "x" in failed["error"]
    raised = await run(sandbox, f"x = 1\nparallel({calls})")
    assert raised.error is not None and raised.error.kind == "tool" and raised.error.line == 2


async def test_parallel_runs_host_calls_concurrently(sandbox: WorkerPool) -> None:
    start = anyio.current_time()
    result = await run(sandbox, 'parallel([[github.slow, {"s": 0.1, "n": i}] for i in range(10)])')
    elapsed = anyio.current_time() - start
    assert result.ok, result.error
    assert result.result == list(range(10))
    assert elapsed < 0.5, f"10 x 100 ms took {elapsed:.3f} s"


@pytest.mark.parametrize(
    "code",
    [
        "try_call(len, x=1)",
        "parallel([[len, {}]])",
        "parallel([github.echo])",
        "parallel([[github.echo, 1]])",
        'parallel([], errors="ignore")',
    ],
)
async def test_builtins_reject_bad_arguments(sandbox: WorkerPool, code: str) -> None:
    host = FakeHost()
    result = await run(sandbox, f"x = 1\n{code}", host)
    assert result.error is not None and result.error.kind == "runtime", result.error
    assert result.error.line == 2
    assert host.calls == []


async def test_unknown_method_names_the_object_and_its_methods(sandbox: WorkerPool) -> None:
    host = FakeHost()
    result = await run(sandbox, 'x = 1\ny = github.delete_repo(name="x")', host)
    assert result.error is not None and result.error.kind == "runtime"
    assert (result.error.line, result.error.column) == (2, 5)
    assert "github" in result.error.message and "delete_repo" in result.error.message
    assert "create_issue" in result.error.message and "echo" in result.error.message
    assert host.calls == []


async def test_max_tool_calls(sandbox: WorkerPool) -> None:
    host = FakeHost()
    result = await run(sandbox, "for i in range(5):\n    github.echo(i=i)", host, max_tool_calls=3)
    assert result.error is not None and result.error.kind == "limit"
    assert "max_tool_calls=3" in result.error.message and result.error.line == 2
    assert len(host.calls) == 3 and result.stats.tool_calls == 3


async def test_parallel_counts_against_max_tool_calls(sandbox: WorkerPool) -> None:
    host = FakeHost()
    result = await run(sandbox, "parallel([[github.echo, {}] for i in range(4)])", host, max_tool_calls=3)
    assert result.error is not None and result.error.kind == "limit"
    assert host.calls == []


async def test_syntax_error_has_line_and_column(sandbox: WorkerPool, engine: str) -> None:
    result = await run(sandbox, "x = 1\ny = (1 +* 2)\nz = 3")
    assert result.error is not None and result.error.kind == "syntax"
    assert (result.error.line, result.error.column) == (2, 9 if engine == "pyo3" else 10)


async def test_undefined_name_is_rejected_before_running(sandbox: WorkerPool) -> None:
    host = FakeHost()
    result = await run(sandbox, 'github.echo()\nprint("x")\nundefined_thing(1)', host)
    assert result.error is not None and result.error.kind == "syntax"
    assert result.error.line == 3 and "undefined_thing" in result.error.message
    assert host.calls == [] and result.output == ""


async def test_runtime_error_has_line_and_column(sandbox: WorkerPool, engine: str) -> None:
    result = await run(sandbox, 'print("a")\nx = {}\ny = x["missing"]')
    assert result.error is not None and result.error.kind == "runtime"
    assert result.error.line == 3
    assert result.error.column == (5 if engine == "pyo3" else 6)  # go points at the bracket
    assert result.output == "a\n"


async def test_error_columns_are_mapped_back_through_host_calls(sandbox: WorkerPool, engine: str) -> None:
    result = await run(sandbox, 'x = github.echo(a=1)["nope"]')
    assert result.error is not None and result.error.kind == "runtime" and result.error.line == 1
    assert result.error.column == (5 if engine == "pyo3" else 21)


async def test_runtime_error_inside_function(sandbox: WorkerPool) -> None:
    result = await run(sandbox, "def f(x):\n    return x + 1\nf('a')")
    assert result.error is not None and result.error.kind == "runtime"
    assert result.error.line == 2


async def test_fail_builtin(sandbox: WorkerPool) -> None:
    result = await run(sandbox, 'x = 1\nfail("custom reason")')
    assert result.error is not None and result.error.kind == "runtime"
    assert "custom reason" in result.error.message and result.error.line == 2


async def test_bindings_must_be_identifiers(sandbox: WorkerPool) -> None:
    with pytest.raises(ValueError, match="identifier"):
        await sandbox.run("1", bindings={"my-server": frozenset({"x"})}, host=FakeHost())
    with pytest.raises(ValueError, match="identifier"):
        await sandbox.run("1", bindings={"s": frozenset({"_sandbox_host"})}, host=FakeHost())


async def test_oversized_host_result_fails_the_call(sandbox: WorkerPool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(framing, "MAX_FRAME_BYTES", 4096)

    async def host(call: HostCallRequest) -> object:
        return "x" * 10_000

    with anyio.fail_after(20):
        result = await sandbox.run("x = 1\ngithub.echo()", bindings={"github": frozenset({"echo"})}, host=host)
    assert result.error is not None and result.error.kind == "tool" and result.error.line == 2
    assert "transfer cap" in result.error.message
