"""The Governance object: authentication modes, admin credential, reload and its atomicity."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from mcp_gateway.errors import AuthenticationError, ConfigError, ForbiddenError
from mcp_gateway.governance import ALLOW_ALL, Governance, KeySpec, MemoryKeyStore, ViewChange

from .conftest import EXAMPLE, load


async def test_authenticate_resolves_identity(env: dict[str, str]) -> None:
    gov = await Governance.from_config(load(EXAMPLE, env), env=env)
    rahul = gov.authenticate(env["RAHUL_KEY"])
    assert (rahul.key_name, rahul.team, rahul.customer, rahul.key_id) == ("rahul", "backend", "acme", "config:rahul")
    assert gov.authenticate(env["RAHUL_KEY"]) is rahul  # the same object until the config changes
    assert gov.mode == "keys"


@pytest.mark.parametrize("credential", [None, "wrong", ""])
async def test_unknown_or_missing_key_is_401(env: dict[str, str], credential: str | None) -> None:
    gov = await Governance.from_config(load(EXAMPLE, env), env=env)
    with pytest.raises(AuthenticationError) as info:
        gov.authenticate(credential)
    assert info.value.status == 401


async def test_disabled_config_key_is_403(env: dict[str, str]) -> None:
    text = EXAMPLE.replace('bob: {key: "${BOB_KEY}"}', 'bob: {key: "${BOB_KEY}", disabled: true}')
    gov = await Governance.from_config(load(text, env), env=env)
    with pytest.raises(ForbiddenError) as info:
        gov.authenticate(env["BOB_KEY"])
    assert info.value.status == 403 and info.value.details == {"key": "bob", "key_id": "config:bob"}


async def test_authenticate_headers(env: dict[str, str]) -> None:
    gov = await Governance.from_config(load(EXAMPLE, env), env=env)
    assert gov.authenticate_headers({"x-api-key": env["ANNA_KEY"]}).key_name == "anna"


async def test_single_key_mode_grants_everything() -> None:
    gov = await Governance.from_config(load("{}"), api_key="the-api-key", env={})
    assert gov.mode == "single"
    identity = gov.authenticate("the-api-key")
    assert identity.key_name == "default" and identity.allows is ALLOW_ALL
    assert gov.policy_for(identity, "any", "tool") is not None
    with pytest.raises(AuthenticationError):
        gov.authenticate("other")
    with pytest.raises(AuthenticationError):
        gov.authenticate(None)


async def test_open_mode_without_any_credential(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "mcp_gateway.governance"):
        gov = await Governance.from_config(load("{}"), env={})
    assert gov.mode == "open" and gov.authenticate(None).key_name == "default"
    assert "every caller gets every tool" in caplog.text


async def test_api_key_is_ignored_once_virtual_keys_exist(
    env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "mcp_gateway.governance"):
        gov = await Governance.from_config(load(EXAMPLE, env), api_key="the-api-key", env=env)
    with pytest.raises(AuthenticationError):
        gov.authenticate("the-api-key")
    assert "gateway.api_key is ignored" in caplog.text


async def test_store_keys_alone_switch_to_keys_mode() -> None:
    store = MemoryKeyStore()
    await store.create(KeySpec("alice"))
    gov = await Governance.from_config(load("{}"), api_key="the-api-key", key_store=store, env={})
    assert gov.mode == "keys"
    with pytest.raises(AuthenticationError):
        gov.authenticate("the-api-key")


async def test_literal_keys_are_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    text = 'virtual_keys: {lit: {key: typed-in-the-yaml}, env: {key: "${FROM_ENV}"}}'
    environment = {"FROM_ENV": "from-the-environment"}
    with caplog.at_level(logging.WARNING, "mcp_gateway.governance"):
        await Governance.from_config(load(text, environment), env=environment)
    assert "virtual_keys.lit.key is written literally" in caplog.text
    assert "virtual_keys.env" not in caplog.text
    assert "typed-in-the-yaml" not in caplog.text  # never log a key


async def test_admin_credential(env: dict[str, str]) -> None:
    gov = await Governance.from_config(load(EXAMPLE + "admin_key: the-admin-key\n", env), env=env)
    assert gov.authenticate_admin("the-admin-key").is_admin
    with pytest.raises(ForbiddenError, match="virtual keys cannot use the admin API"):
        gov.authenticate_admin(env["RAHUL_KEY"])
    with pytest.raises(AuthenticationError):
        gov.authenticate_admin("nonsense")
    with pytest.raises(AuthenticationError):
        gov.authenticate_admin(None)
    with pytest.raises(AuthenticationError):  # the admin key is not a virtual key
        gov.authenticate("the-admin-key")


async def test_admin_credential_from_env_and_disabled_without_one(env: dict[str, str]) -> None:
    gov = await Governance.from_config(load(EXAMPLE, env), env={**env, "MCP_GATEWAY_ADMIN_KEY": "env-admin"})
    assert gov.authenticate_admin("env-admin").is_admin
    gov = await Governance.from_config(load(EXAMPLE, env), env=env)
    with pytest.raises(ForbiddenError, match="admin API is disabled"):
        gov.authenticate_admin("anything")


async def test_reload_keeps_unchanged_views_and_reports_changes(env: dict[str, str]) -> None:
    gov = await Governance.from_config(load(EXAMPLE, env), env=env)
    changes: list[ViewChange] = []
    gov.view_listeners.append(changes.append)
    before = {name: gov.authenticate(env[f"{name.upper()}_KEY"]) for name in ("rahul", "anna", "bob")}

    text = EXAMPLE.replace("readers:  {tools: [", 'readers:  {tools: ["extra.tool", ')  # rahul's team group
    text = text.replace('bob: {key: "${BOB_KEY}"}', "")
    change = gov.replace(load(text, env))

    assert change == changes[0] == ViewChange(gov.generation, frozenset({"rahul", "bob"}), frozenset({"bob"}))
    rahul, anna = gov.authenticate(env["RAHUL_KEY"]), gov.authenticate(env["ANNA_KEY"])
    assert rahul.allows("extra", "tool") and not before["rahul"].allows("extra", "tool")
    assert rahul.view_version == gov.generation != before["rahul"].view_version
    assert anna.view_version == before["anna"].view_version and anna.view is before["anna"].view
    with pytest.raises(AuthenticationError):
        gov.authenticate(env["BOB_KEY"])
    assert gov.current(before["rahul"]) is rahul and gov.current(before["bob"]) is None


async def test_invalid_config_never_reaches_governance(env: dict[str, str]) -> None:
    gov = await Governance.from_config(load(EXAMPLE, env), env=env)
    with pytest.raises(ConfigError, match=r"virtual_keys\.rahul\.team"):
        gov.replace(load(EXAMPLE.replace("team: backend", "team: nope"), env))
    assert gov.authenticate(env["RAHUL_KEY"]).allows("time", "now")  # the old config keeps serving


async def test_reload_conflicting_with_stored_keys_is_refused(env: dict[str, str]) -> None:
    store = MemoryKeyStore()
    gov = await Governance.from_config(load(EXAMPLE, env), key_store=store, env=env)
    created = await gov.create_key(KeySpec("zed", team="data"))
    with pytest.raises(ConfigError, match=r"virtual_keys\.zed"):
        gov.replace(load(EXAMPLE + "  zed: {key: zed-config-key}\n", env))
    assert gov.authenticate(created.plaintext).key_name == "zed"


async def test_broken_listener_does_not_break_reload(env: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    gov = await Governance.from_config(load(EXAMPLE, env), env=env)
    seen: list[int] = []

    def broken(change: ViewChange) -> None:
        raise RuntimeError("boom")

    gov.view_listeners += [broken, lambda change: seen.append(change.generation)]
    gov.replace(load(EXAMPLE, env))
    assert seen == [gov.generation] and "view listener" in caplog.text


async def test_reload_swaps_views_atomically(env: dict[str, str]) -> None:
    """Readers racing many reloads always see one config or the other, never a mix."""
    group_a = EXAMPLE.replace('readers:  {tools: ["filesystem.read_*", "time.*"]}', 'readers:  {tools: ["a.*"]}')
    group_b = EXAMPLE.replace('readers:  {tools: ["filesystem.read_*", "time.*"]}', 'readers:  {tools: ["b.*"]}')
    configs = [load(group_a, env), load(group_b, env)]
    gov = await Governance.from_config(configs[0], env=env)
    done = threading.Event()

    def reload_many() -> None:
        for i in range(300):
            gov.replace(configs[i % 2])
        done.set()

    thread = threading.Thread(target=reload_many)
    thread.start()
    deadline = time.monotonic() + 30  # a plain loop: fail_after could not interrupt it
    observations = 0
    while (not done.is_set() or observations == 0) and time.monotonic() < deadline:
        identity = gov.authenticate(env["RAHUL_KEY"])
        # Exactly one of the two configs, and the platform group from both, in every snapshot.
        assert identity.allows("a", "x") != identity.allows("b", "x")
        assert identity.allows("deploy", "staging")
        observations += 1
    thread.join(timeout=30)
    assert done.is_set()
    assert gov.generation == 301
