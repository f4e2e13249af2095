"""CPU per upstream `tools/call` POST: httpx2 (the SDK's client), aiohttp (if installed) and the
gateway's `Http1Pool`, against the demo server over stateless streamable HTTP, in one run.

Each client posts the same body on a kept-alive connection in alternating rounds; the figure is
this process's CPU time per POST (what the gateway pays), with wall-clock p50 beside it.

    python -m benchmarks.upstream_post_bench [--posts 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

import httpx2

from benchmarks.call_instructions import tools_call_body
from benchmarks.gateway_latency import free_port, pct, start, stop
from mcp_gateway.upstream.http1 import Http1Pool

HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": "tools/call",
    "mcp-name": "add",
}
BODY = tools_call_body("add")

Post = Callable[[], Awaitable[bytes]]


async def clients(url: str, stack: AsyncExitStack) -> dict[str, Post]:
    """One ready-to-call POST function per client library."""
    http = await stack.enter_async_context(httpx2.AsyncClient(headers=HEADERS))

    async def with_httpx2() -> bytes:
        return (await http.post(url, content=BODY)).content

    pool = Http1Pool(url, HEADERS)
    stack.push_async_callback(pool.aclose)

    async def with_http1() -> bytes:
        return (await pool.post(BODY)).body

    posts: dict[str, Post] = {"httpx2": with_httpx2, "Http1Pool": with_http1}
    try:
        import aiohttp
    except ImportError:
        print("(aiohttp is not installed: `pip install aiohttp` to compare it too)")
        return posts
    session = await stack.enter_async_context(aiohttp.ClientSession(headers=HEADERS))

    async def with_aiohttp() -> bytes:
        async with session.post(url, data=BODY) as response:
            return await response.read()

    posts["aiohttp"] = with_aiohttp
    return posts


async def run(posts_per_client: int, rounds: int) -> None:
    port = free_port()
    demo = start([sys.executable, "-m", "examples.demo_server", "http", str(port)])
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        async with AsyncExitStack() as stack:
            posts = await clients(url, stack)
            for _ in range(200):  # warm up, and wait for the server
                try:
                    reply = await posts["httpx2"]()
                    if b'"result"' in reply:
                        break
                except httpx2.HTTPError:
                    await asyncio.sleep(0.1)
            cpu = dict.fromkeys(posts, 0.0)
            wall: dict[str, list[float]] = {name: [] for name in posts}
            per_round = max(1, posts_per_client // rounds)
            for round_no in range(rounds):
                order = list(posts) if round_no % 2 == 0 else list(reversed(posts))
                for name in order:
                    post = posts[name]
                    for _ in range(10):
                        assert b'"result"' in await post()
                    c0 = time.process_time()
                    for _ in range(per_round):
                        t0 = time.perf_counter()
                        await post()
                        wall[name].append((time.perf_counter() - t0) * 1000)
                    cpu[name] += time.process_time() - c0
            print(f"tools/call POST to the demo server, {per_round * rounds} per client in {rounds} alternating rounds")
            print(f"{'client':<12} {'CPU/POST ms':>12} {'wall p50 ms':>12}")
            for name in posts:
                print(f"{name:<12} {cpu[name] / len(wall[name]) * 1000:12.3f} {pct(wall[name], 0.5):12.3f}")
    finally:
        stop(demo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(run(args.posts, args.rounds))
    else:
        uvloop.run(run(args.posts, args.rounds))


if __name__ == "__main__":
    main()
