"""OAuth 2.1 and static bearer credentials for upstream MCP servers (see docs/oauth.md).

`UpstreamAuth` (built in the app's assembly) holds one `OAuthSession` per server with
`auth: {type: oauth}` and one `StaticBearer` per `auth: {type: bearer}`; transports see them
through the `UpstreamCredentials` protocol.
"""

from mcp_gateway.upstream.oauth.credentials import HttpxCredentialsAuth, StaticBearer, UpstreamCredentials
from mcp_gateway.upstream.oauth.crypto import SECRET_KEY_ENV, SecretBox, load_secret_box
from mcp_gateway.upstream.oauth.errors import DefinitiveOAuthError, LoginRequired, OAuthError, TransientOAuthError
from mcp_gateway.upstream.oauth.manager import OAUTH_DB, UnknownLogin, UpstreamAuth
from mcp_gateway.upstream.oauth.records import ClientRecord, StoredAuth, TokenSet
from mcp_gateway.upstream.oauth.session import AuthState, OAuthSession, PendingLogin, RefreshPolicy
from mcp_gateway.upstream.oauth.store import MemoryTokenStore, SQLiteTokenStore, TokenStore

__all__ = [
    "OAUTH_DB",
    "SECRET_KEY_ENV",
    "AuthState",
    "ClientRecord",
    "DefinitiveOAuthError",
    "HttpxCredentialsAuth",
    "LoginRequired",
    "MemoryTokenStore",
    "OAuthError",
    "OAuthSession",
    "PendingLogin",
    "RefreshPolicy",
    "SQLiteTokenStore",
    "SecretBox",
    "StaticBearer",
    "StoredAuth",
    "TokenSet",
    "TokenStore",
    "TransientOAuthError",
    "UnknownLogin",
    "UpstreamAuth",
    "UpstreamCredentials",
    "load_secret_box",
]
