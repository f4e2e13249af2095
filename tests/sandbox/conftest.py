"""Fixtures: one started sandbox per engine, shared by a test module."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox import WorkerPool, create_sandbox

ENGINES = ["pyo3", "go"]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", params=ENGINES)
async def sandbox(request: pytest.FixtureRequest) -> AsyncIterator[WorkerPool]:
    """A two-worker pool for the engine under test (shared within a module)."""
    async with create_sandbox(request.param, workers=2) as pool:
        yield pool


@pytest.fixture
def engine(sandbox: WorkerPool) -> str:
    return sandbox.engine


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    """An engine name, for tests that build their own pool."""
    return str(request.param)
