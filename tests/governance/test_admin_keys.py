"""The keys admin API in-process over `httpx2.ASGITransport`: admin credential, JSON errors, CRUD."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest
from starlette.applications import Starlette

from mcp_gateway.admin.keys import key_routes
from mcp_gateway.governance import Governance, MemoryKeyStore

from .conftest import EXAMPLE, load

ADMIN = {"Authorization": "Bearer the-admin-key"}


@pytest.fixture
async def gov(env: dict[str, str]) -> Governance:
    return await Governance.from_config(
        load(EXAMPLE + "admin_key: the-admin-key\n", env), key_store=MemoryKeyStore(), env=env
    )


@pytest.fixture
async def client(gov: Governance) -> AsyncIterator[httpx2.AsyncClient]:
    app = Starlette(routes=key_routes(gov))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://gw") as http:
        yield http


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/api/keys"), ("POST", "/api/keys"), ("POST", "/api/keys/key_x/revoke")]
)
async def test_no_credential_is_401_json(client: httpx2.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"]["type"] == "authentication_error"


async def test_wrong_credential_is_401(client: httpx2.AsyncClient) -> None:
    response = await client.get("/api/keys", headers={"x-api-key": "guess"})
    assert response.status_code == 401 and response.json()["error"]["message"] == "invalid admin key"


@pytest.mark.parametrize("path", ["/api/keys", "/api/keys/key_x/revoke"])
async def test_virtual_key_is_403_json(client: httpx2.AsyncClient, env: dict[str, str], path: str) -> None:
    response = await client.request(
        "GET" if path == "/api/keys" else "POST", path, headers={"Authorization": f"Bearer {env['RAHUL_KEY']}"}
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "type": "forbidden",
            "message": "virtual keys cannot use the admin API; use the admin key",
            "status": 403,
        }
    }


async def test_two_credentials_are_refused(client: httpx2.AsyncClient) -> None:
    response = await client.get("/api/keys", headers={**ADMIN, "x-api-key": "other"})
    assert response.status_code == 401 and "two different credentials" in response.json()["error"]["message"]


async def test_create_list_disable_revoke(client: httpx2.AsyncClient, gov: Governance) -> None:
    response = await client.post(
        "/api/keys", headers=ADMIN, json={"name": "zoe", "team": "backend", "allowed_tools": ["github.get_*"]}
    )
    assert response.status_code == 201
    created = response.json()
    assert created["key"].startswith("mcpg_") and created["status"] == "active" and "key_hash" not in created
    zoe = gov.authenticate(created["key"])
    assert zoe.team == "backend" and zoe.allows("github", "get_issue")

    listing = (await client.get("/api/keys", headers=ADMIN)).json()["keys"]
    assert {k["name"]: k["source"] for k in listing} == {
        "rahul": "config",
        "anna": "config",
        "bob": "config",
        "zoe": "store",
    }
    assert all("digest" not in k and "key" not in k for k in listing)

    key_id = created["id"]
    response = await client.post(f"/api/keys/{key_id}/disable", headers=ADMIN)
    assert response.status_code == 200 and response.json()["status"] == "disabled"
    assert (await client.post(f"/api/keys/{key_id}/enable", headers=ADMIN)).json()["status"] == "active"
    response = await client.post(f"/api/keys/{key_id}/revoke", headers=ADMIN)
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert {k["name"]: k["status"] for k in (await client.get("/api/keys", headers=ADMIN)).json()["keys"]}[
        "zoe"
    ] == "revoked"


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        ({"name": "x", "team": "nope"}, 422, "invalid_request"),
        ({"name": "bad name"}, 422, "invalid_request"),
        ({"name": "x", "colour": "red"}, 422, "invalid_request"),
        ({"team": "backend"}, 422, "invalid_request"),
        ({"name": "rahul"}, 409, "conflict"),
    ],
)
async def test_create_errors_are_json(client: httpx2.AsyncClient, body: dict[str, str], status: int, kind: str) -> None:
    response = await client.post("/api/keys", headers=ADMIN, json=body)
    assert response.status_code == status
    assert response.json()["error"]["type"] == kind


async def test_malformed_json_body(client: httpx2.AsyncClient) -> None:
    response = await client.post("/api/keys", headers=ADMIN, content=b"{not json")
    assert response.status_code == 422 and response.json()["error"]["type"] == "invalid_request"


async def test_unknown_key_config_key_and_unknown_action(client: httpx2.AsyncClient) -> None:
    response = await client.post("/api/keys/key_nope/revoke", headers=ADMIN)
    assert response.status_code == 404 and response.json()["error"]["type"] == "not_found"
    response = await client.post("/api/keys/config:rahul/revoke", headers=ADMIN)
    assert response.status_code == 409 and "defined in the config file" in response.json()["error"]["message"]
    response = await client.post("/api/keys/key_x/explode", headers=ADMIN)
    assert response.status_code == 404


async def test_admin_api_disabled_without_admin_key(env: dict[str, str]) -> None:
    gov = await Governance.from_config(load(EXAMPLE, env), env=env)
    app = Starlette(routes=key_routes(gov))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://gw") as http:
        response = await http.get("/api/keys", headers=ADMIN)
    assert response.status_code == 403 and "admin API is disabled" in response.json()["error"]["message"]
