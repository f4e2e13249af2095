"""The key that encrypts OAuth tokens and client secrets at rest.

The key comes from `MCP_GATEWAY_SECRET_KEY` when set (a Fernet key, or any passphrase, which is
stretched to one), else from `<data_dir>/secret.key`, created on first use with mode 0600. Without
a data dir nothing is written to disk, and a random key lives for the process.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from mcp_gateway.errors import ConfigError

__all__ = ["SECRET_KEY_ENV", "SecretBox", "load_secret_box"]

SECRET_KEY_ENV = "MCP_GATEWAY_SECRET_KEY"
_KEY_FILE = "secret.key"


class SecretBox:
    """Authenticated encryption (Fernet: AES-128-CBC + HMAC-SHA256) of small records."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, plaintext: bytes) -> bytes:
        """Encrypt and authenticate `plaintext`."""
        return self._fernet.encrypt(plaintext)

    def open(self, sealed: bytes) -> bytes:
        """Decrypt `sealed`; raises `ConfigError` when it was sealed with another key or altered."""
        try:
            return self._fernet.decrypt(sealed)
        except InvalidToken as exc:
            problem = f"cannot decrypt a stored token ({SECRET_KEY_ENV} or secret.key changed, or the file was edited)"
            raise ConfigError("oauth store", [("", problem)]) from exc


def _key_from_text(text: str) -> bytes:
    raw = text.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except ValueError:
        pass
    # A passphrase: stretched with a fixed salt, since the same text must give the same key on every start.
    derived = hashlib.pbkdf2_hmac("sha256", raw, b"mcp-gateway oauth store", 200_000)
    return base64.urlsafe_b64encode(derived)


def _key_from_file(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ConfigError(str(path), [("", f"mode {mode:o} lets others read the key; chmod 600 it")]) from None
        return _key_from_text(path.read_text())
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return key


def load_secret_box(data_dir: Path | None, env: Mapping[str, str] | None = None) -> SecretBox:
    """The box for tokens at rest: env key, else the data dir's key file, else a key for this process only."""
    environ = os.environ if env is None else env
    text = environ.get(SECRET_KEY_ENV)
    if text:
        return SecretBox(_key_from_text(text))
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        return SecretBox(_key_from_file(data_dir / _KEY_FILE))
    return SecretBox(Fernet.generate_key())
