"""The logs pages over HTTP against a real gateway that logs: filters, cursor pages, a script call
with its child calls; admin only."""

from __future__ import annotations

import re

import anyio

from tests.core.harness import RunningGateway, connect
from tests.fixtures.approvals import auth
from tests.web.support import ADMIN, browser_session, web_gateway


async def _flush(gw: RunningGateway) -> None:
    audit = gw.state.audit
    assert audit is not None and audit.obs.writer is not None
    with anyio.fail_after(10):
        await audit.obs.writer.flush()


def _log_links(page: str) -> list[str]:
    return re.findall(r'<td title="[^"]*"><a href="/ui/logs/([0-9A-Z]{26})">', page)


async def test_the_logs_pages_filter_page_and_show_a_script_with_its_calls() -> None:
    code = "first = coded.add(a=1, b=2)\nsecond = coded.add(a=first['result'], b=3)\nresult = second"
    async with web_gateway() as (gw, _held):
        async with connect(gw, headers=auth("dev-secret-key")) as client:
            for n in range(3):
                assert not (await client.call_tool("demo__add", {"a": n, "b": 1})).is_error
            script = await client.call_tool("executeToolCode", {"code": code})
            assert not script.is_error, script.content
        await _flush(gw)
        async with browser_session(gw, ADMIN) as (http, _csrf):
            everything = await http.get("/ui/logs")
            assert everything.status_code == 200
            adds = await http.get("/ui/logs", params={"tool": "add", "server": "demo", "limit": "25"})
            assert len(_log_links(adds.text)) == 3

            seen: list[str] = []
            url = "/ui/logs?server=demo&tool=add&limit=2"  # hand-written like a bookmarked link
            for _ in range(3):
                page = await http.get(url)
                assert page.status_code == 200
                seen += _log_links(page.text)
                found = re.search(r'<a href="([^"]+)" rel="next">', page.text)
                if found is None:
                    break
                url = found.group(1).replace("&amp;", "&")
            assert len(seen) == 3 and len(set(seen)) == 3  # no record twice, none lost

            parents = await http.get("/ui/logs", params={"tool": "executeToolCode"})
            (parent_id,) = _log_links(parents.text) or [None]
            assert parent_id is not None, parents.text
            record = await http.get(f"/ui/logs/{parent_id}")
            assert record.status_code == 200
            assert "Calls made by this script (2)" in record.text
            assert record.text.count("coded.add") >= 2

            bad = await http.get("/ui/logs", params={"min_latency_ms": "fast"})
            assert bad.status_code == 400 and "min_latency_ms" in bad.text
            assert 'value="fast"' in bad.text  # the form keeps what was typed
            assert (await http.get("/ui/logs/01ARZ3NDEKTSV4RRFFQ69G5FAV")).status_code == 404

        async with browser_session(gw, "lead-secret-key") as (reviewer, _csrf):
            assert (await reviewer.get("/ui/logs")).status_code == 403
            assert (await reviewer.get(f"/ui/logs/{parent_id}")).status_code == 403
