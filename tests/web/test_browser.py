"""The approval queue in a real headless browser (Debian's chromium driven by Python Playwright).

An `mcp` SDK client calls a tool whose group has `approval: review`; the call is held; the browser
logs in as a reviewer, edits the arguments (a typo first: the page says what is wrong and keeps
the text), approves, and the waiting client receives the result made with the edited arguments.
A held call inside an `executeToolCode` script is shown with its script and denied with a reason;
the client's script fails with the readable denial.

Set `MCP_GATEWAY_WEB_SCREENSHOTS=/some/dir` to save a screenshot of the queue there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from tests.fixtures.approvals import call_in_background, text_of
from tests.web.support import DEV_KEY, web_gateway

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TIMEOUT_MS = 15_000

if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs the Debian package chromium")
    pytest.skip("chromium is not installed (Debian package chromium)", allow_module_level=True)

from playwright.async_api import Page, async_playwright, expect  # noqa: E402

pytestmark = pytest.mark.parametrize("anyio_backend", ["asyncio"])  # Playwright runs on asyncio only


@asynccontextmanager
async def browser_page() -> AsyncIterator[Page]:
    """A fresh headless chromium page with bounded default timeouts."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, timeout=TIMEOUT_MS)
        try:
            context = await browser.new_context(viewport={"width": 1366, "height": 900})
            context.set_default_timeout(TIMEOUT_MS)
            expect.set_options(timeout=TIMEOUT_MS)
            yield await context.new_page()
        finally:
            await browser.close()


async def screenshot(page: Page, name: str) -> None:
    """Save the page under `$MCP_GATEWAY_WEB_SCREENSHOTS`, when set (for looking at the layout)."""
    if shots := os.environ.get("MCP_GATEWAY_WEB_SCREENSHOTS"):
        await anyio.Path(shots).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(shots) / name), full_page=True)


async def log_in(page: Page, base_url: str, key: str) -> None:
    """Open the queue, get sent to the login form, log in, land back on the queue."""
    await page.goto(f"{base_url}/ui/approvals")
    await expect(page).to_have_url(f"{base_url}/ui/login?next=%2Fui%2Fapprovals")
    await page.get_by_label("Key").fill(key)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(f"{base_url}/ui/approvals")


async def test_a_reviewer_edits_and_approves_a_held_call_in_the_browser() -> None:
    async with web_gateway() as (gw, held), browser_page() as page:
        async with anyio.create_task_group() as tg:
            result = call_in_background(gw, tg, "demo__echo", {"text": "rm -rf", "times": 2}, key=DEV_KEY)
            pending = await held.next()
            await log_in(page, gw.url, "lead-secret-key")

            card = page.locator(f"article#{pending.id}")
            await expect(card.locator("h2")).to_have_text("demo__echo")
            await expect(card.locator(".arguments pre")).to_contain_text('"text": "rm -rf"')
            arguments = card.get_by_label("Arguments to run with")
            await arguments.fill('{"text": "ls", "times": 3')
            await card.get_by_role("button", name="Approve").click()
            await expect(page.get_by_role("alert")).to_contain_text("the arguments are not valid JSON")
            await expect(page.locator(f"article#{pending.id}").get_by_label("Arguments to run with")).to_have_value(
                '{"text": "ls", "times": 3'
            )
            assert pending.pending

            card = page.locator(f"article#{pending.id}")
            await card.get_by_label("Arguments to run with").fill('{"text": "ls", "times": 3}')
            await card.get_by_label("Reason (optional)").fill("safer command")
            await screenshot(page, "approvals.png")
            await card.get_by_role("button", name="Approve").click()
            await expect(page.get_by_role("status")).to_have_text(f"{pending.id} approved.")
            await expect(page.locator("table.history")).to_contain_text("safer command")

        final = result()  # the task group waited for the client to get its answer
        assert not final.is_error
        assert text_of(final) == "ls ls ls"
        assert (pending.reviewer, pending.edited_arguments) == ("lead", {"text": "ls", "times": 3})


async def test_a_reviewer_denies_a_held_script_call_in_the_browser() -> None:
    code = "first = coded.add(a=1, b=2)\nsecond = coded.echo(text='x', times=2)\nresult = [first, second]"
    async with web_gateway() as (gw, held), browser_page() as page:
        async with anyio.create_task_group() as tg:
            result = call_in_background(gw, tg, "executeToolCode", {"code": code}, key=DEV_KEY)
            pending = await held.next()
            await log_in(page, gw.url, "lead-secret-key")

            card = page.locator(f"article#{pending.id}")
            await expect(card.locator(".badge.code")).to_have_text("script call")
            await expect(card.locator("pre.code")).to_have_text(code)
            await expect(card.locator("details.script summary")).to_contain_text("can reach 2 tools")
            await expect(card.locator("details.script table")).to_contain_text("coded.add")
            await card.get_by_label("Reason for the denial").fill("not on a Friday")
            await screenshot(page, "approvals-script.png")
            await card.get_by_role("button", name="Deny").click()
            await expect(page.get_by_role("status")).to_have_text(f"{pending.id} denied.")

        final = result()
        assert final.is_error
        assert "denied by lead: not on a Friday" in text_of(final)
