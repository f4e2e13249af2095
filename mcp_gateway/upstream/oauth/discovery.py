"""Find an upstream's authorization server, as the MCP authorization spec describes.

1. Probe the MCP endpoint without a token; a 401's `WWW-Authenticate` may name the protected
   resource metadata URL (RFC 9728) and the scopes wanted.
2. Fetch that metadata (else the path-aware, then the root well-known URL) for the
   authorization server and the resource identifier.
3. Fetch the authorization server's metadata (RFC 8414, with the OpenID discovery URLs as
   fallbacks). A server without resource metadata (2025-03-26 servers) is its own
   authorization server.

URL lists, header parsing and the metadata models come from the `mcp` SDK's OAuth client
(`mcp.client.auth.utils`, `mcp.shared.auth`); this module drives them over our own HTTP client
so that failures can be sorted into "retry later" and "definitely wrong".
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

import httpx2
from mcp.client.auth.utils import (
    build_oauth_authorization_server_metadata_discovery_urls,
    build_protected_resource_metadata_discovery_urls,
    extract_resource_metadata_from_www_auth,
    extract_scope_from_www_auth,
    get_client_metadata_scopes,
)
from mcp.shared.auth import OAuthMetadata, ProtectedResourceMetadata
from mcp.shared.auth_utils import check_resource_allowed, resource_url_from_server_url
from pydantic import ValidationError

from mcp_gateway.upstream.oauth.errors import DefinitiveOAuthError, TransientOAuthError

__all__ = ["AuthServer", "discover", "issuers_match"]

_PROBE_BODY = {"jsonrpc": "2.0", "id": 0, "method": "ping"}
_ACCEPT = "application/json, text/event-stream"


@dataclass(frozen=True, slots=True)
class AuthServer:
    """What discovery found for one upstream."""

    metadata: OAuthMetadata
    resource: str
    """The RFC 8707 `resource` to ask tokens for."""
    scope: str | None
    """Scopes from the challenge, else from the resource's or the server's metadata."""
    has_resource_metadata: bool

    @property
    def issuer(self) -> str:
        """The authorization server's issuer identifier."""
        return str(self.metadata.issuer)


def issuers_match(a: str, b: str) -> bool:
    """Issuers compared as strings, except for a trailing slash (`https://as/` vs `https://as`).

    RFC 8414 asks for exact comparison; deployed servers disagree about the slash (fastmcp
    publishes `http://host:port/`), and nothing is gained by refusing them over it.
    """
    return a.rstrip("/") == b.rstrip("/")


def _origin(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}"


async def _get(http: httpx2.AsyncClient, server: str, url: str) -> httpx2.Response:
    try:
        return await http.get(url, headers={"accept": "application/json"})
    except httpx2.HTTPError as exc:
        raise TransientOAuthError(server, f"cannot fetch {url}: {exc!r}") from exc


async def _probe(http: httpx2.AsyncClient, server: str, url: str, transport: str) -> httpx2.Response:
    """One unauthenticated request, read only for its status and headers."""
    try:
        if transport == "sse":
            request = http.build_request("GET", url, headers={"accept": "text/event-stream"})
        else:
            request = http.build_request("POST", url, json=_PROBE_BODY, headers={"accept": _ACCEPT})
        response = await http.send(request, stream=True)
        await response.aclose()
        return response
    except httpx2.HTTPError as exc:
        raise TransientOAuthError(server, f"cannot reach {url}: {exc!r}") from exc


async def _resource_metadata(
    http: httpx2.AsyncClient, server: str, challenge: httpx2.Response, url: str
) -> ProtectedResourceMetadata | None:
    pointer = extract_resource_metadata_from_www_auth(challenge) if challenge.status_code == 401 else None
    failed: int | None = None
    for candidate in build_protected_resource_metadata_discovery_urls(pointer, url):
        response = await _get(http, server, candidate)
        if response.status_code == 200:
            try:
                return ProtectedResourceMetadata.model_validate_json(response.content)
            except ValidationError:
                continue
        if response.status_code >= 500 or response.status_code == 429:
            failed = response.status_code
    if failed is not None:
        # A server error says nothing about whether the resource publishes metadata.
        raise TransientOAuthError(server, f"protected resource metadata: HTTP {failed}")
    return None


def _legacy_metadata(origin: str) -> OAuthMetadata:
    """The 2025-03-26 default endpoints of a server that publishes no metadata at all."""
    return OAuthMetadata.model_validate(
        {
            "issuer": origin,
            "authorization_endpoint": f"{origin}/authorize",
            "token_endpoint": f"{origin}/token",
            "registration_endpoint": f"{origin}/register",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
        }
    )


async def _server_metadata(http: httpx2.AsyncClient, server: str, issuer: str | None, url: str) -> OAuthMetadata:
    """The authorization server's metadata; `issuer` None is the 2025-03-26 path (no resource metadata)."""
    for candidate in build_oauth_authorization_server_metadata_discovery_urls(issuer, url):
        response = await _get(http, server, candidate)
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientOAuthError(
                server, f"authorization server metadata at {candidate}: HTTP {response.status_code}"
            )
        if response.status_code != 200:
            continue
        try:
            metadata = OAuthMetadata.model_validate_json(response.content)
        except ValidationError as exc:
            raise DefinitiveOAuthError(server, "invalid_metadata", f"{candidate}: {exc.errors()[0]['msg']}") from exc
        # Without resource metadata nothing names the issuer beforehand: the metadata the MCP
        # server's own origin serves is taken as it is (2025-03-26 servers put it under a path).
        expected = issuer or str(metadata.issuer)
        if not issuers_match(str(metadata.issuer), expected):
            raise DefinitiveOAuthError(
                server, "invalid_metadata", f"{candidate} names issuer {metadata.issuer}, expected {expected}"
            )
        return metadata
    if issuer is None:
        return _legacy_metadata(_origin(url))
    raise DefinitiveOAuthError(server, "invalid_metadata", f"no authorization server metadata found for {issuer}")


async def discover(
    http: httpx2.AsyncClient, server: str, url: str, *, transport: str, grant_types: list[str]
) -> AuthServer:
    """Discover the authorization server of the MCP endpoint at `url`."""
    challenge = await _probe(http, server, url, transport)
    if challenge.status_code >= 500:
        raise TransientOAuthError(server, f"{url} answered HTTP {challenge.status_code}")
    prm = await _resource_metadata(http, server, challenge, url)
    resource = resource_url_from_server_url(url)
    issuer: str | None = None
    if prm is not None:
        if prm.resource is not None and not check_resource_allowed(
            requested_resource=resource, configured_resource=str(prm.resource)
        ):
            raise DefinitiveOAuthError(
                server, "invalid_metadata", f"the resource metadata names {prm.resource}, not {resource}"
            )
        if prm.resource is not None:
            resource = str(prm.resource)
        issuer = str(prm.authorization_servers[0])
    metadata = await _server_metadata(http, server, issuer, url)
    challenged = extract_scope_from_www_auth(challenge) if challenge.status_code == 401 else None
    scope = get_client_metadata_scopes(challenged, prm, metadata, grant_types)
    return AuthServer(metadata=metadata, resource=resource, scope=scope, has_resource_metadata=prm is not None)
