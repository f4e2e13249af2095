"""Key stores (SQLite and in-memory, one suite) and run-time keys through `Governance`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mcp_gateway.errors import AuthenticationError, ForbiddenError
from mcp_gateway.governance import (
    DuplicateKeyName,
    Governance,
    InvalidKeySpec,
    KeyNotFound,
    KeySpec,
    KeyStore,
    KeyStoreError,
    MemoryKeyStore,
    SQLiteKeyStore,
    hash_key,
)

from .conftest import EXAMPLE, load


@pytest.fixture(params=["sqlite", "memory"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KeyStore]:
    made: KeyStore = SQLiteKeyStore(tmp_path / "data" / "keys.db") if request.param == "sqlite" else MemoryKeyStore()
    try:
        yield made
    finally:
        await made.aclose()


async def test_create_returns_plaintext_once_and_stores_the_hash(store: KeyStore) -> None:
    created = await store.create(KeySpec("alice", team="backend", tool_groups=("readers",)))
    record = created.record
    assert created.plaintext.startswith("mcpg_") and record.prefix == created.plaintext[:9]
    assert record.key_hash == hash_key(created.plaintext)
    assert created.plaintext not in repr(record)
    listed = await store.list()
    assert listed == [record]
    assert listed[0].status == "active" and listed[0].tool_groups == ("readers",)


async def test_revoke_and_disable(store: KeyStore) -> None:
    a = (await store.create(KeySpec("a"))).record
    b = (await store.create(KeySpec("b"))).record
    revision = await store.revision()
    revoked = await store.revoke(a.id)
    assert revoked.status == "revoked" and revoked.revoked_at is not None
    assert (await store.revoke(a.id)).revoked_at == revoked.revoked_at  # idempotent
    assert (await store.disable(b.id)).status == "disabled"
    assert (await store.disable(b.id, False)).status == "active"
    assert await store.revision() > revision
    assert [r.status for r in await store.list()] == ["revoked", "active"]


async def test_names_are_unique_among_live_keys(store: KeyStore) -> None:
    first = (await store.create(KeySpec("alice"))).record
    with pytest.raises(DuplicateKeyName):
        await store.create(KeySpec("alice"))
    await store.revoke(first.id)
    await store.create(KeySpec("alice"))  # a revoked key's name is free again


async def test_unknown_ids(store: KeyStore) -> None:
    revision = await store.revision()
    with pytest.raises(KeyNotFound):
        await store.revoke("key_nope")
    with pytest.raises(KeyNotFound):
        await store.disable("key_nope")
    assert await store.revision() == revision


def test_spec_is_validated() -> None:
    with pytest.raises(InvalidKeySpec):
        KeySpec("bad name")
    with pytest.raises(InvalidKeySpec):
        KeySpec("ok", blocked_tools=("nodot",))


async def test_sqlite_persists_and_is_shared_between_processes(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    writer, reader = SQLiteKeyStore(path), SQLiteKeyStore(path)  # two connections, as CLI and gateway
    try:
        created = await writer.create(KeySpec("alice", allowed_tools=("time.*",)))
        assert await reader.revision() == await writer.revision() == 1
        assert [r.id for r in await reader.list()] == [created.record.id]
    finally:
        await writer.aclose()
        await reader.aclose()
    reopened = await SQLiteKeyStore.open(path)
    try:
        assert (await reopened.list())[0].allowed_tools == ("time.*",)
    finally:
        await reopened.aclose()


async def test_runtime_keys_through_governance(env: dict[str, str], store: KeyStore) -> None:
    gov = await Governance.from_config(load(EXAMPLE, env), key_store=store, env=env)
    created = await gov.create_key(KeySpec("zoe", team="backend", allowed_tools=("github.get_issue",)))
    zoe = gov.authenticate(created.plaintext)
    assert (zoe.key_name, zoe.team, zoe.customer, zoe.key_id) == ("zoe", "backend", "acme", created.record.id)
    assert zoe.allows("time", "now") and zoe.allows("github", "get_issue") and not zoe.allows("deploy", "staging")
    assert {e.name: e.source for e in gov.list_keys()}["zoe"] == "store"

    await gov.set_key_disabled(created.record.id, True)
    with pytest.raises(ForbiddenError):
        gov.authenticate(created.plaintext)
    await gov.set_key_disabled(created.record.id, False)
    assert gov.authenticate(created.plaintext).key_name == "zoe"
    await gov.revoke_key(created.record.id)
    with pytest.raises(AuthenticationError, match="revoked"):
        gov.authenticate(created.plaintext)
    assert gov.current(zoe) is None


async def test_new_keys_are_checked_against_the_config(env: dict[str, str], store: KeyStore) -> None:
    gov = await Governance.from_config(load(EXAMPLE, env), key_store=store, env=env)
    with pytest.raises(InvalidKeySpec, match=r"^unknown tool group 'ghost'; unknown team 'nope'$"):
        await gov.create_key(KeySpec("x", team="nope", tool_groups=("ghost",)))
    with pytest.raises(InvalidKeySpec, match="unknown customer 'globex'"):
        await gov.create_key(KeySpec("x", customer="globex"))
    gov.replace(load(EXAMPLE.replace("customers:\n", "customers:\n  globex: {}\n"), env))
    with pytest.raises(InvalidKeySpec, match="team 'backend' belongs to customer 'acme', not 'globex'"):
        await gov.create_key(KeySpec("x", team="backend", customer="globex"))
    with pytest.raises(DuplicateKeyName, match="defined in the config"):
        await gov.create_key(KeySpec("rahul"))
    with pytest.raises(KeyStoreError, match="defined in the config file"):
        await gov.revoke_key("config:rahul")


async def test_keys_need_a_store(env: dict[str, str]) -> None:
    gov = await Governance.from_config(load(EXAMPLE, env), env=env)
    with pytest.raises(KeyStoreError, match="need a key store"):
        await gov.create_key(KeySpec("x"))


async def test_gateway_picks_up_keys_written_by_another_process(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    gateway_store, cli_store = SQLiteKeyStore(path), SQLiteKeyStore(path)
    try:
        gov = await Governance.from_config(load(EXAMPLE, env), key_store=gateway_store, env=env)
        created = await cli_store.create(KeySpec("late", team="data"))
        with pytest.raises(AuthenticationError):
            gov.authenticate(created.plaintext)
        change = await gov.sync_keys()
        assert change is not None and change.changed == {"late"}
        assert gov.authenticate(created.plaintext).key_name == "late"
        assert await gov.sync_keys() is None  # nothing new: no rebuild
        await cli_store.revoke(created.record.id)
        await gov.sync_keys()
        with pytest.raises(AuthenticationError, match="revoked"):
            gov.authenticate(created.plaintext)
    finally:
        await gateway_store.aclose()
        await cli_store.aclose()


async def test_store_key_whose_team_vanished_loses_the_team(
    env: dict[str, str], store: KeyStore, caplog: pytest.LogCaptureFixture
) -> None:
    gov = await Governance.from_config(load(EXAMPLE, env), key_store=store, env=env)
    created = await gov.create_key(KeySpec("zoe", team="backend"))
    team_line = "  backend: {customer: acme, tool_groups: [readers], budget: {limit: 2000, period: 1M}}\n"
    gov.replace(load(EXAMPLE.replace(team_line, "").replace("team: backend, ", ""), env))
    zoe = gov.authenticate(created.plaintext)
    assert zoe.team is None and not zoe.allows("time", "now")
    assert "team 'backend' is not in the config" in caplog.text
