"""The gateway as OAuth 2.1 authorization server for clients of `/mcp` (see docs/oauth-server.md).

`build_oauth_server(config.gateway.oauth)` gives an `OAuthServer` (or None when disabled);
`app.py` mounts its routes, guards the MCP endpoints with it and starts it in the lifespan.
"""

from mcp_gateway.server.oauth.guard import CredentialConflict
from mcp_gateway.server.oauth.provider import GatewayAuthProvider, KeyDirectory
from mcp_gateway.server.oauth.records import ACCESS_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX
from mcp_gateway.server.oauth.service import STORE_FILE, OAuthServer, build_oauth_server
from mcp_gateway.server.oauth.sqlite_store import SQLiteOAuthStore
from mcp_gateway.server.oauth.store import MemoryOAuthStore, OAuthStore

__all__ = [
    "ACCESS_TOKEN_PREFIX",
    "REFRESH_TOKEN_PREFIX",
    "STORE_FILE",
    "CredentialConflict",
    "GatewayAuthProvider",
    "KeyDirectory",
    "MemoryOAuthStore",
    "OAuthServer",
    "OAuthStore",
    "SQLiteOAuthStore",
    "build_oauth_server",
]
