"""The authorization server's HTTP surface: metadata, the SDK's OAuth handlers, the consent page.

    GET  /.well-known/oauth-authorization-server        RFC 8414 metadata
    GET  /.well-known/oauth-protected-resource[/<path>]  RFC 9728 metadata of /mcp, /mcp/<g>, /sse
    GET  /authorize                                      SDK handler -> consent page
    GET  /authorize/consent, POST /authorize/consent     consent page (ours)
    POST /token, /register, /revoke                      SDK handlers

Without `gateway.oauth.issuer_url` the issuer is the scheme and host each request arrived at,
so metadata is built per request (it is fetched once per login, not per tool call).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from mcp.server.auth.handlers.authorize import AuthorizationHandler
from mcp.server.auth.handlers.register import RegistrationHandler
from mcp.server.auth.handlers.revoke import RevocationHandler
from mcp.server.auth.handlers.token import TokenHandler
from mcp.server.auth.json_response import PydanticJSONResponse
from mcp.server.auth.routes import build_metadata
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE, RequestBodyLimitMiddleware
from mcp.shared.auth import OAuthMetadata, ProtectedResourceMetadata
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from pydantic import AnyHttpUrl, ConfigDict, TypeAdapter
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, request_response
from starlette.types import ASGIApp

from mcp_gateway.server.oauth.client_auth import HashedSecretAuthenticator
from mcp_gateway.server.oauth.consent import ConsentPage, issuer_of
from mcp_gateway.server.oauth.provider import CONSENT_PATH, GatewayAuthProvider

__all__ = ["PROTECTED_RESOURCE_PATH", "authorization_server_routes", "resource_metadata_path"]

PROTECTED_RESOURCE_PATH = "/.well-known/oauth-protected-resource"

_URL = TypeAdapter(AnyHttpUrl, config=ConfigDict(url_preserve_empty_path=True))
"""Keeps a path-less issuer without a trailing slash: issuers compare as exact strings."""


def resource_metadata_path(path: str) -> str:
    """Where the RFC 9728 metadata of the endpoint at `path` lives (`/messages` belongs to `/sse`)."""
    if path == "/mcp" or path.startswith("/mcp/"):
        return PROTECTED_RESOURCE_PATH + path.rstrip("/")
    return PROTECTED_RESOURCE_PATH + "/sse"


def _cors(app: ASGIApp, methods: list[str]) -> ASGIApp:
    # Browser-based clients (MCP Inspector) call these from another origin; no cookies are involved.
    return CORSMiddleware(app, allow_origins="*", allow_methods=methods, allow_headers=[MCP_PROTOCOL_VERSION_HEADER])


def _endpoint(handler: Callable[[Request], Awaitable[Response]], methods: list[str], cors: bool = True) -> ASGIApp:
    app: ASGIApp = RequestBodyLimitMiddleware(request_response(handler), DEFAULT_MAX_REQUEST_BODY_SIZE)
    return _cors(app, methods) if cors else app


def authorization_server_routes(provider: GatewayAuthProvider) -> list[Route]:
    """Every route of the authorization server, wired to `provider`."""
    settings = provider.settings
    registration = ClientRegistrationOptions(
        enabled=True, valid_scopes=list(settings.scopes), default_scopes=list(settings.scopes)
    )
    client_auth = HashedSecretAuthenticator(provider)
    consent = ConsentPage(provider)

    def metadata(request: Request) -> OAuthMetadata:
        issuer = _URL.validate_python(issuer_of(request, settings.issuer_url))
        meta = build_metadata(issuer, None, registration, RevocationOptions(enabled=True))
        meta.token_endpoint_auth_methods_supported = ["client_secret_post", "client_secret_basic", "none"]
        meta.revocation_endpoint_auth_methods_supported = ["client_secret_post", "client_secret_basic", "none"]
        meta.authorization_response_iss_parameter_supported = True
        return meta

    async def server_metadata(request: Request) -> Response:
        return PydanticJSONResponse(metadata(request), headers={"Cache-Control": "public, max-age=300"})

    async def resource_metadata(request: Request) -> Response:
        issuer = issuer_of(request, settings.issuer_url)
        path = request.url.path.removeprefix(PROTECTED_RESOURCE_PATH)
        prm = ProtectedResourceMetadata(
            resource=_URL.validate_python(issuer + path),
            authorization_servers=[_URL.validate_python(issuer)],
            scopes_supported=list(settings.scopes),
            resource_name="mcp-gateway",
        )
        return PydanticJSONResponse(prm, headers={"Cache-Control": "public, max-age=300"})

    token = TokenHandler(provider, client_auth)
    prm_endpoint = _endpoint(resource_metadata, ["GET", "OPTIONS"])
    get = ["GET", "OPTIONS"]
    post = ["POST", "OPTIONS"]
    return [
        Route("/.well-known/oauth-authorization-server", _endpoint(server_metadata, get), methods=get),
        Route(PROTECTED_RESOURCE_PATH, prm_endpoint, methods=get),
        Route(PROTECTED_RESOURCE_PATH + "/mcp", prm_endpoint, methods=get),
        Route(PROTECTED_RESOURCE_PATH + "/mcp/{group}", prm_endpoint, methods=get),
        Route(PROTECTED_RESOURCE_PATH + "/sse", prm_endpoint, methods=get),
        Route("/authorize", _endpoint(AuthorizationHandler(provider).handle, [], cors=False), methods=["GET", "POST"]),
        Route(CONSENT_PATH, _endpoint(consent.show, [], cors=False), methods=["GET"]),
        Route(CONSENT_PATH, _endpoint(consent.decide, [], cors=False), methods=["POST"]),
        Route("/token", _endpoint(token.handle, post), methods=post),
        Route("/register", _endpoint(RegistrationHandler(provider, registration).handle, post), methods=post),
        Route("/revoke", _endpoint(RevocationHandler(provider, client_auth).handle, post), methods=post),
    ]
