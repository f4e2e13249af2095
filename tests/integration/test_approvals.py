"""Approval mode over the real `/mcp`: held calls, direct and from scripts, decided through the API.

A waiting `mcp` SDK client receives the upstream's result once a reviewer approves (with the
reviewer's edited arguments, which are what reaches the upstream), and a readable error on
denial, timeout or policy `deny`. Reviewers see only the calls of their groups.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from mcp_gateway.approvals import HeldCall
from tests.core.harness import RunningGateway, connect, running_gateway
from tests.fixtures.approvals import Held, auth, call_in_background, text_of

DEMO = {"transport": "inprocess", "target": "examples.demo_server:mcp"}
CODED = {**DEMO, "code_mode": True}
ADMIN = "approvals-admin"
CONFIG: dict[str, Any] = {
    "admin_key": ADMIN,
    "tool_groups": {
        "words": {"tools": ["demo.echo", "coded.echo"], "approval": "review"},
        "math": {"tools": ["demo.add", "coded.add"]},
        "danger": {"tools": ["demo.fail"], "approval": "deny"},
        "ops": {"tools": ["demo.count_down"], "approval": "review"},
    },
    "virtual_keys": {
        "dev": {"key": "dev-key", "tool_groups": ["words", "math", "danger", "ops"]},
        "careful": {"key": "careful-key", "tool_groups": ["math"], "approval": "review"},
        "lead": {"key": "lead-key", "tool_groups": ["math"], "reviewer_for": ["words"]},
        "opsrev": {"key": "opsrev-key", "reviewer_for": ["ops"]},
    },
    "approvals": {"timeout_s": 30, "progress_interval_s": 0.2, "tools": {"demo.sleep": "review"}},
}


@asynccontextmanager
async def gateway(**overrides: Any) -> AsyncIterator[tuple[RunningGateway, Held, httpx2.AsyncClient]]:
    config = {**CONFIG, **overrides}
    async with (
        running_gateway({"demo": DEMO, "coded": CODED}, **config) as gw,
        httpx2.AsyncClient(base_url=gw.url, timeout=20) as http,
    ):
        yield gw, Held(gw), http


async def test_a_held_direct_call_runs_with_the_reviewers_edited_arguments() -> None:
    async with gateway() as (gw, held, http):
        async with anyio.create_task_group() as tg:
            result = call_in_background(gw, tg, "demo__echo", {"text": "rm -rf", "times": 2}, key="dev-key")
            pending = await held.next()
            assert (pending.exposed_name, pending.arguments, pending.key_name) == (
                "demo__echo",
                {"text": "rm -rf", "times": 2},
                "dev",
            )
            listed = (await http.get("/api/approvals", headers=auth(ADMIN))).json()["approvals"]
            assert [a["id"] for a in listed] == [pending.id]
            answer = await http.post(
                f"/api/approvals/{pending.id}/approve",
                headers=auth("lead-key"),
                json={"reason": "safer text", "arguments": {"text": "ls", "times": 3}},
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["status"] == "approved"
        final = result()
        assert not final.is_error
        assert text_of(final) == "ls ls ls"  # the edit is what reached the upstream
        record = (await http.get(f"/api/approvals/{pending.id}", headers=auth(ADMIN))).json()
        assert record["reviewer"] == "lead" and record["edited_arguments"] == {"text": "ls", "times": 3}
        again = await http.post(f"/api/approvals/{pending.id}/deny", headers=auth(ADMIN))
        assert again.status_code == 409
        # The audit record says who approved, what ran, and what was asked for.
        assert gw.state.audit is not None and gw.state.audit.obs.writer is not None
        await gw.state.audit.obs.writer.flush()
        logged = (await http.get("/api/logs", params={"tool": "echo"}, headers=auth(ADMIN))).json()["records"]
        assert [(r["approval"], r["reviewer"], r["arguments"]) for r in logged] == [
            ("approved", "lead", {"text": "ls", "times": 3})
        ]
        assert logged[0]["extra"]["original_arguments"] == {"text": "rm -rf", "times": 2}
        assert record["log_id"] == logged[0]["id"]


async def test_denial_reaches_the_client_as_a_readable_error() -> None:
    async with gateway() as (gw, held, http):
        async with anyio.create_task_group() as tg:
            result = call_in_background(gw, tg, "demo__echo", {"text": "hi"}, key="dev-key")
            pending = await held.next()
            answer = await http.post(
                f"/api/approvals/{pending.id}/deny", headers=auth(ADMIN), json={"reason": "not today"}
            )
            assert answer.status_code == 200
        final = result()
        assert final.is_error
        error = json.loads(text_of(final))["error"]
        assert error["type"] == "approval_denied"
        assert "denied by admin: not today" in error["message"]
        assert error["approval_id"] == pending.id
        assert gw.state.audit is not None and gw.state.audit.obs.writer is not None
        await gw.state.audit.obs.writer.flush()
        logged = (await http.get("/api/logs", params={"approval": "denied"}, headers=auth(ADMIN))).json()
        assert [(r["tool"], r["status"], r["reviewer"]) for r in logged["records"]] == [("echo", "denied", "admin")]


async def test_an_undecided_call_times_out_with_a_clear_error_and_progress() -> None:
    progress: list[tuple[float, str | None]] = []
    async with gateway(approvals={**CONFIG["approvals"], "timeout_s": 0.6}) as (gw, _held, _http):
        async with connect(gw, headers=auth("dev-key")) as client:

            async def on_progress(value: float, total: float | None, message: str | None) -> None:
                progress.append((value, message))

            with anyio.fail_after(20):
                result = await client.call_tool("demo__echo", {"text": "hi"}, progress_callback=on_progress)
        assert result.is_error
        error = json.loads(text_of(result))["error"]
        assert error["type"] == "approval_timeout" and "no reviewer decided within 0.6 s" in error["message"]
        assert progress and "held for review" in str(progress[0][1])
        assert [v for v, _ in progress] == sorted({v for v, _ in progress})  # strictly increasing


async def test_policy_deny_key_floor_and_tool_rules() -> None:
    async with gateway() as (gw, held, http):
        async with connect(gw, headers=auth("dev-key")) as client:
            with anyio.fail_after(20):
                denied = await client.call_tool("demo__fail", {})
                assert denied.is_error
                assert json.loads(text_of(denied))["error"]["message"] == "calls to demo__fail are denied by policy"
                assert not (await client.call_tool("demo__add", {"a": 1, "b": 2})).is_error  # math: auto
        async with anyio.create_task_group() as tg:
            # `careful` has a review floor on every call, even in an auto group.
            result = call_in_background(gw, tg, "demo__add", {"a": 2, "b": 3}, key="careful-key")
            pending = await held.next()
            assert pending.key_name == "careful" and pending.groups == ("math",)
            # `lead` reviews `words` only: this call is invisible to it, as if it did not exist.
            assert (await http.get("/api/approvals", headers=auth("lead-key"))).json()["approvals"] == []
            hidden = await http.post(f"/api/approvals/{pending.id}/approve", headers=auth("lead-key"))
            assert hidden.status_code == 404
            assert (await http.post(f"/api/approvals/{pending.id}/approve", headers=auth(ADMIN))).status_code == 200
        assert text_of(result()) == "5.0"


async def test_reviewer_roles_are_checked() -> None:
    async with gateway() as (gw, held, http):
        assert (await http.get("/api/approvals", headers=auth("dev-key"))).status_code == 403
        assert (await http.get("/api/approvals", headers=auth("nope"))).status_code == 401
        assert (await http.get("/api/approvals?status=bogus", headers=auth(ADMIN))).status_code == 400
        async with anyio.create_task_group() as tg:
            result = call_in_background(gw, tg, "demo__count_down", {"start": 1}, key="dev-key")
            pending = await held.next()
            assert (await http.get("/api/approvals", headers=auth("lead-key"))).json()["approvals"] == []
            seen = (await http.get("/api/approvals", headers=auth("opsrev-key"))).json()["approvals"]
            assert [a["id"] for a in seen] == [pending.id]
            bad = await http.post(
                f"/api/approvals/{pending.id}/deny", headers=auth("opsrev-key"), json={"arguments": {}}
            )
            assert bad.status_code == 422
            assert (
                await http.post(f"/api/approvals/{pending.id}/approve", headers=auth("opsrev-key"))
            ).status_code == 200
        assert not result().is_error


async def test_a_held_call_inside_a_script_shows_the_script_and_is_approved() -> None:
    code = "first = coded.add(a=1, b=2)\nsecond = coded.echo(text='x', times=2)\nresult = [first, second]"
    async with gateway(code_mode={"sandbox": {"timeout_s": 0.5}}) as (gw, held, http):
        async with anyio.create_task_group() as tg:
            result = call_in_background(gw, tg, "executeToolCode", {"code": code}, key="dev-key")
            pending = await held.next()
            assert pending.mode == "code" and pending.exposed_name == "coded__echo"
            assert pending.script == code
            assert pending.reachable == ("coded.add", "coded.echo")
            assert [c["tool"] for c in pending.calls_so_far] == ["coded.add"]
            assert pending.calls_so_far[0]["status"] == "ok"
            assert pending.parent_id is not None
            # The reviewer takes longer than the script's whole 0.5 s wall clock: time held for
            # review is not the script's, so it still finishes.
            await anyio.sleep(0.8)
            approve = await http.post(f"/api/approvals/{pending.id}/approve", headers=auth("lead-key"))
            assert approve.status_code == 200
        text = text_of(result())
        assert not result().is_error, text
        assert "3" in text and "x x" in text


async def test_a_denied_call_inside_a_script_fails_the_script_readably() -> None:
    code = "result = coded.echo(text='x')"
    async with gateway() as (gw, held, http):
        async with anyio.create_task_group() as tg:
            result = call_in_background(gw, tg, "executeToolCode", {"code": code}, key="dev-key")
            pending = await held.next()
            await http.post(f"/api/approvals/{pending.id}/deny", headers=auth(ADMIN), json={"reason": "no"})
        assert result().is_error
        assert "denied by admin: no" in text_of(result())


async def test_pending_calls_survive_a_restart_as_abandoned_records(tmp_path: Path) -> None:
    from mcp_gateway.app import create_app
    from mcp_gateway.config import parse_config

    async with gateway() as (gw, held, _http):
        async with anyio.create_task_group() as tg:
            call_in_background(gw, tg, "demo__echo", {"text": "hi"}, key="dev-key")
            pending = await held.next()
            assert gw.state.approvals is not None
            store = gw.state.approvals.store
            tg.cancel_scope.cancel()  # the caller goes away
        await held.decided(pending.id)  # the disconnect reaches the gateway a few loop turns later
        record = await store.get(pending.id)
        assert record is not None and record.status == "abandoned" and record.reason == "the caller went away"

    # With a data directory, records outlive the process; a call still pending at startup is
    # marked abandoned with the reason.
    from mcp_gateway.approvals import SQLiteApprovalStore

    db = tmp_path / "approvals.db"
    first = await SQLiteApprovalStore.open(db)
    orphan = HeldCall(id="apr_1", server="demo", tool="echo", exposed_name="demo__echo", arguments={}, key_name="dev")
    await first.save(orphan)
    await first.aclose()
    app = create_app(
        parse_config({"gateway": {"api_key": "k"}, **{k: v for k, v in CONFIG.items()}}, "t"), data_dir=tmp_path
    )
    async with app.router.lifespan_context(app):
        state = app.state.gateway
        assert state.approvals is not None
        reloaded = await state.approvals.store.get("apr_1")
        assert reloaded is not None and reloaded.status == "abandoned"
        assert reloaded.reason == "the gateway restarted while the call was waiting"


@pytest.mark.parametrize("setting", [{"approval": "maybe"}, {"reviewer_for": ["nope"]}])
def test_bad_approval_config_names_the_key_path(setting: dict[str, Any]) -> None:
    from mcp_gateway.config import parse_config
    from mcp_gateway.errors import ConfigError

    raw = {**CONFIG, "virtual_keys": {"dev": {"key": "dev-key", **setting}}}
    with pytest.raises(ConfigError) as err:
        parse_config(raw, "gw.yaml")
    assert f"virtual_keys.dev.{next(iter(setting))}" in str(err.value)


async def test_the_cli_lists_and_approves_held_calls(capsys: pytest.CaptureFixture[str]) -> None:
    from mcp_gateway.cli import main

    async with gateway() as (gw, held, _http):

        async def cli(*argv: str) -> tuple[int, str]:
            code = await anyio.to_thread.run_sync(lambda: main(["approvals", "--gateway", gw.url, *argv]))
            captured = capsys.readouterr()
            return code, captured.out + captured.err

        async with anyio.create_task_group() as tg:
            result = call_in_background(gw, tg, "demo__echo", {"text": "cli"}, key="dev-key")
            pending = await held.next()
            code, out = await cli("--key", "lead-key", "list")
            assert code == 0 and pending.id in out and "demo__echo" in out and '{"text": "cli"}' in out
            code, out = await cli("--key", "lead-key", "approve", pending.id, "--arguments", '{"text": "edited"}')
            assert code == 0 and f"{pending.id}: approved by lead" in out
        assert text_of(result()) == "edited"
        code, out = await cli("--key", "dev-key", "list")
        assert code == 1 and "this key is not a reviewer" in out
