"""The `/ui/` pages over HTTP against a real gateway: login and logout, CSRF, what reviewers see,
edited arguments (bad JSON keeps the text; good JSON reaches the upstream), servers and keys."""

from __future__ import annotations

import json

import anyio
import httpx2
from markupsafe import escape

from mcp_gateway.config import parse_config
from tests.fixtures.approvals import auth, call_in_background, text_of
from tests.web.support import (
    ADMIN,
    CODED,
    CONFIG,
    DEMO,
    DEV_KEY,
    browser_session,
    hidden_field,
    log_in,
    web_gateway,
)


async def test_login_sets_a_strict_httponly_session_and_logout_ends_it() -> None:
    async with web_gateway() as (gw, _held), httpx2.AsyncClient(base_url=gw.url, timeout=20) as http:
        away = await http.get("/ui/approvals")
        assert away.status_code == 303
        assert away.headers["location"] == "/ui/login?next=%2Fui%2Fapprovals"

        wrong = await log_in(http, "not-a-key")
        assert wrong.status_code == 401 and "Unknown, revoked or missing key." in wrong.text
        not_reviewer = await log_in(http, "plain-secret-key")
        assert not_reviewer.status_code == 403 and "not a reviewer" in not_reviewer.text

        page = await http.get("/ui/login?next=/ui/keys")
        answer = await http.post(
            "/ui/login",
            data={"key": ADMIN, "login_token": hidden_field(page.text, "login_token"), "next": "/ui/keys"},
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/keys"
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("mcpg_session="))
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "samesite=strict", "path=/ui"} <= flags
        assert ADMIN not in cookie  # the key never travels in the cookie

        keys = await http.get("/ui/keys")
        assert keys.status_code == 200
        csrf = hidden_field(keys.text, "csrf")
        refused = await http.post("/ui/logout", data={"csrf": "forged"})
        assert refused.status_code == 403
        assert (await http.get("/ui/keys")).status_code == 200  # still logged in
        out = await http.post("/ui/logout", data={"csrf": csrf})
        assert out.status_code == 303 and out.headers["location"] == "/ui/login"
        http.cookies.set("mcpg_session", cookie.split(";")[0].split("=", 1)[1], path="/ui")  # replaying it fails
        assert (await http.get("/ui/keys")).status_code == 303


async def test_login_needs_the_nonce_of_its_own_form() -> None:
    async with web_gateway() as (gw, _held), httpx2.AsyncClient(base_url=gw.url, timeout=20) as http:
        no_nonce = await http.post("/ui/login", data={"key": ADMIN})
        assert no_nonce.status_code == 403 and "form expired" in no_nonce.text
        async with httpx2.AsyncClient(base_url=gw.url, timeout=20) as other:
            foreign = hidden_field((await other.get("/ui/login")).text, "login_token")
        await http.get("/ui/login")  # our own nonce cookie differs from the other browser's field
        cross = await http.post("/ui/login", data={"key": ADMIN, "login_token": foreign})
        assert cross.status_code == 403


async def test_a_decision_without_the_sessions_csrf_token_is_refused() -> None:
    async with web_gateway() as (gw, held), browser_session(gw, ADMIN) as (http, csrf):
        async with anyio.create_task_group() as tg:
            result = call_in_background(gw, tg, "demo__echo", {"text": "hi"}, key=DEV_KEY)
            pending = await held.next()
            for forged in ({}, {"csrf": "x" * len(csrf)}):
                refused = await http.post(f"/ui/approvals/{pending.id}/approve", data=forged)
                assert refused.status_code == 403 and "CSRF" in refused.text
            assert pending.pending
            done = await http.post(f"/ui/approvals/{pending.id}/deny", data={"csrf": csrf, "reason": "no"})
            assert done.status_code == 303
        assert result().is_error


async def test_a_reviewer_sees_and_decides_only_its_groups() -> None:
    async with web_gateway() as (gw, held), browser_session(gw, "lead-secret-key") as (http, csrf):
        async with anyio.create_task_group() as tg:
            words = call_in_background(gw, tg, "demo__echo", {"text": "words"}, key=DEV_KEY)
            words_held = await held.next()
            ops = call_in_background(gw, tg, "demo__count_down", {"start": 2}, key=DEV_KEY)
            ops_held = await held.next()

            page = await http.get("/ui/approvals")
            assert words_held.id in page.text and ops_held.id not in page.text
            assert "1 pending" in page.text
            assert 'href="/ui/servers"' not in page.text and 'href="/ui/keys"' not in page.text
            assert (await http.get("/ui/servers")).status_code == 403
            assert (await http.get("/ui/keys")).status_code == 403

            hidden = await http.post(f"/ui/approvals/{ops_held.id}/approve", data={"csrf": csrf})
            assert hidden.status_code == 404
            assert ops_held.pending

            ok = await http.post(f"/ui/approvals/{words_held.id}/approve", data={"csrf": csrf, "reason": "fine"})
            assert ok.status_code == 303
            after = await http.get(ok.headers["location"])
            assert f"{words_held.id} approved." in after.text
            async with browser_session(gw, ADMIN) as (admin, admin_csrf):
                decided = await admin.post(f"/ui/approvals/{ops_held.id}/deny", data={"csrf": admin_csrf})
                assert decided.status_code == 303
        assert text_of(words()) == "words"
        assert ops().is_error
        assert (words_held.reviewer, words_held.reason) == ("lead", "fine")


async def test_bad_json_in_edited_arguments_keeps_the_text_and_good_json_reaches_the_upstream() -> None:
    async with web_gateway() as (gw, held), browser_session(gw, ADMIN) as (http, csrf):
        async with anyio.create_task_group() as tg:
            result = call_in_background(gw, tg, "demo__echo", {"text": "rm -rf", "times": 2}, key=DEV_KEY)
            pending = await held.next()
            typed = '{"text": "ls", "times": 3,}'
            bad = await http.post(
                f"/ui/approvals/{pending.id}/approve", data={"csrf": csrf, "arguments": typed, "reason": "safer"}
            )
            assert bad.status_code == 422
            assert "the arguments are not valid JSON: Expecting property name enclosed in double quotes" in bad.text
            assert str(escape(typed)) in bad.text  # what was typed is still in the textarea
            not_object = await http.post(f"/ui/approvals/{pending.id}/approve", data={"csrf": csrf, "arguments": "[1]"})
            assert not_object.status_code == 422 and "must be a JSON object" in not_object.text
            assert pending.pending

            good = await http.post(
                f"/ui/approvals/{pending.id}/approve",
                data={"csrf": csrf, "arguments": json.dumps({"text": "ls", "times": 3}), "reason": "safer"},
            )
            assert good.status_code == 303
        assert text_of(result()) == "ls ls ls"
        assert pending.edited_arguments == {"text": "ls", "times": 3}
        history = await http.get("/ui/approvals")
        assert "edited" in history.text and "safer" in history.text


async def test_a_session_ends_when_its_key_no_longer_resolves() -> None:
    async with web_gateway() as (gw, _held), browser_session(gw, "lead-secret-key") as (http, _csrf):
        assert (await http.get("/ui/approvals")).status_code == 200
        changed = {**CONFIG, "virtual_keys": {**CONFIG["virtual_keys"]}}
        changed["virtual_keys"]["lead"] = {**CONFIG["virtual_keys"]["lead"], "disabled": True}
        raw = {"gateway": {"api_key": "x"}, "servers": {"demo": DEMO, "coded": CODED}, **changed}
        await gw.state.apply_config(parse_config(raw, "changed"))
        assert (await http.get("/ui/approvals")).status_code == 303


async def test_servers_and_keys_pages_show_state_and_no_secrets() -> None:
    async with web_gateway() as (gw, _held), browser_session(gw, ADMIN) as (http, _csrf):
        servers = await http.get("/ui/servers")
        assert servers.status_code == 200
        assert "state-ready" in servers.text and "<code>echo</code>" in servers.text
        assert "Repeat a text a number of times" in servers.text
        keys = await http.get("/ui/keys")
        assert keys.status_code == 200
        for shown in ("lead", "backend", "the backend team", "text tools", "approval-review"):
            assert shown in keys.text
        for secret in ("dev-secret-key", "lead-secret-key", ADMIN, "sha256:"):
            assert secret not in keys.text and secret not in servers.text
        assert servers.headers["content-security-policy"].startswith("default-src 'none'")
        css = await http.get("/ui/static/web.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


async def test_a_call_decided_meanwhile_shows_why_the_decision_was_refused() -> None:
    async with web_gateway() as (gw, held), browser_session(gw, ADMIN) as (http, csrf):
        async with anyio.create_task_group() as tg:
            result = call_in_background(gw, tg, "demo__echo", {"text": "hi"}, key=DEV_KEY)
            pending = await held.next()
            by_api = await http.post(f"/api/approvals/{pending.id}/approve", headers=auth("lead-secret-key"))
            assert by_api.status_code == 200
            late = await http.post(f"/ui/approvals/{pending.id}/deny", data={"csrf": csrf, "reason": "too late"})
            assert late.status_code == 409
            assert f"{pending.id}: approval {pending.id} is already approved" in late.text
        assert text_of(result()) == "hi"
