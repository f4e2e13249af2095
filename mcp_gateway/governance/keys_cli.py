"""`mcp-gateway keys create|list|revoke|disable|enable|hash`: manage run-time keys offline.

The commands write the same SQLite store a running gateway reads; the gateway notices the change
within its key-sync interval (`Governance.run_key_sync`). New keys are validated against the
config (team, customer and groups must exist), so the config is loaded too.

Wire into the main parser with `register_keys_commands(subparsers, resolve=...)`; each command
sets `func`, which takes the parsed namespace and returns an exit code (0 ok, 1 failed, 2 usage).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from mcp_gateway.governance.core import Governance
from mcp_gateway.governance.credentials import hash_key
from mcp_gateway.governance.keystore import InvalidKeySpec, KeySpec, KeyStoreError
from mcp_gateway.governance.snapshot import KeyEntry
from mcp_gateway.governance.sqlite_keys import SQLiteKeyStore

if TYPE_CHECKING:
    from mcp_gateway.config.governance import GovernanceSection

__all__ = ["KEYS_DB_NAME", "Resolver", "default_resolver", "key_store_path", "register_keys_commands"]

KEYS_DB_NAME = "keys.db"

Resolver = Callable[[argparse.Namespace], "tuple[GovernanceSection, Path]"]
"""`args -> (config, key store file)`: lets the main CLI reuse its own config and data-dir rules."""

EXIT_FAILED, EXIT_USAGE = 1, 2


def key_store_path(data_dir: str | Path) -> Path:
    """Where the key store lives inside a data directory."""
    return Path(data_dir) / KEYS_DB_NAME


def default_resolver(args: argparse.Namespace) -> tuple[GovernanceSection, Path]:
    """`--config` (else ./gateway.yaml, else the bundled example) and `--db`, else
    `<--data-dir | MCP_GATEWAY_DATA_DIR | gateway.data_dir | ~/.local/share/mcp-gateway>/keys.db`."""
    from mcp_gateway.config.loader import load_config, resolve_config_path

    config = load_config(resolve_config_path(getattr(args, "config", None)))
    if getattr(args, "db", None):
        return config, Path(args.db)
    chosen = getattr(args, "data_dir", None) or os.environ.get("MCP_GATEWAY_DATA_DIR") or config.gateway.data_dir
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return config, key_store_path(Path(chosen).expanduser() if chosen else Path(base) / "mcp-gateway")


def _entry_json(entry: KeyEntry) -> dict[str, Any]:
    data = asdict(entry)
    for private in ("digest", "rules"):
        data.pop(private)
    return data


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M") if ts is not None else "-"


async def _with_governance(args: argparse.Namespace, resolve: Resolver, action: str) -> int:
    config, db = resolve(args)
    store = SQLiteKeyStore(db)
    try:
        governance = await Governance.from_config(config, key_store=store)
        if action == "create":
            return await _create(args, governance)
        if action == "list":
            return _list(args, governance)
        return await _change(args, governance, action)
    finally:
        await store.aclose()


async def _create(args: argparse.Namespace, governance: Governance) -> int:
    spec = KeySpec(
        name=args.name,
        team=args.team,
        customer=args.customer,
        tool_groups=tuple(args.group or ()),
        allowed_tools=tuple(args.allow or ()),
        blocked_tools=tuple(args.block or ()),
        description=args.description or "",
    )
    created = await governance.create_key(spec)
    if args.json:
        print(json.dumps({"key": created.plaintext, "id": created.record.id, "name": created.record.name}))
    else:
        print(f"created {created.record.id} ({created.record.name})")
        print(f"key: {created.plaintext}")
        print("store it now: it is shown once and only its hash is kept", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace, governance: Governance) -> int:
    entries = [e for e in governance.list_keys() if args.all or e.status != "revoked"]
    if args.json:
        print(json.dumps([_entry_json(e) for e in entries], indent=2))
        return 0
    print(f"{'ID':<22} {'NAME':<20} {'STATUS':<9} {'TEAM':<14} {'SOURCE':<7} {'PREFIX':<10} CREATED")
    for e in entries:
        team = e.team or "-"
        print(
            f"{e.key_id:<22} {e.name:<20} {e.status:<9} {team:<14} {e.source:<7} "
            f"{e.prefix or '-':<10} {_when(e.created_at)}"
        )
    return 0


async def _change(args: argparse.Namespace, governance: Governance, action: str) -> int:
    key_id = args.key
    by_name = [e for e in governance.list_keys() if e.name == key_id and e.status != "revoked"]
    if not key_id.startswith(("key_", "config:")) and len(by_name) == 1:
        key_id = by_name[0].key_id  # a live key's name works too
    if action == "revoke":
        record = await governance.revoke_key(key_id)
    else:
        record = await governance.set_key_disabled(key_id, action == "disable")
    print(f"{record.id} ({record.name}): {record.status}")
    return 0


def _run(resolve: Resolver, action: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return anyio.run(_with_governance, args, resolve, action)
        except InvalidKeySpec as exc:
            print(f"invalid key: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except KeyStoreError as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_FAILED

    return run


def _hash(args: argparse.Namespace) -> int:
    key = sys.stdin.readline().strip() if args.key in (None, "-") else args.key
    if not key:
        print("no key given (pass it as an argument or on stdin)", file=sys.stderr)
        return EXIT_USAGE
    print(hash_key(key))
    return 0


def register_keys_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    resolve: Resolver = default_resolver,
) -> argparse.ArgumentParser:
    """Add `keys` and its subcommands to the main parser's subparsers; returns the `keys` parser.

    With the default resolver, `--config`, `--data-dir` and `--db` are added to the `keys`
    parser; pass your own `resolve` to reuse the main CLI's rules instead.
    """
    keys = subparsers.add_parser("keys", help="manage run-time virtual keys (stored hashed)")
    if resolve is default_resolver:
        keys.add_argument("--config", "-c", help="YAML config (default: ./gateway.yaml, else the bundled example)")
        keys.add_argument("--data-dir", help="persistent state (env MCP_GATEWAY_DATA_DIR)")
        keys.add_argument("--db", help=f"key store file (default: <data dir>/{KEYS_DB_NAME})")
    sub = keys.add_subparsers(dest="keys_command", required=True)

    create = sub.add_parser("create", help="create a key and print it once")
    create.add_argument("name", help="key name (letters, digits, _ - . @)")
    create.add_argument("--team")
    create.add_argument("--customer", help="for keys without a team")
    create.add_argument("--group", action="append", help="tool group (repeatable)")
    create.add_argument("--allow", action="append", help="extra tool pattern, e.g. github.get_* (repeatable)")
    create.add_argument("--block", action="append", help="blocked tool pattern (repeatable)")
    create.add_argument("--description")
    create.add_argument("--json", action="store_true", help="print JSON")
    create.set_defaults(func=_run(resolve, "create"))

    listing = sub.add_parser("list", help="list keys from the config and the store")
    listing.add_argument("--all", action="store_true", help="include revoked keys")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=_run(resolve, "list"))

    for action, text in (
        ("revoke", "revoke a key for good (401)"),
        ("disable", "disable (403)"),
        ("enable", "re-enable"),
    ):
        parser = sub.add_parser(action, help=text)
        parser.add_argument("key", help="key id (key_...) or the name of a live key")
        parser.set_defaults(func=_run(resolve, action))

    hashing = sub.add_parser("hash", help="print the key_hash form of a key (for the YAML)")
    hashing.add_argument("key", nargs="?", help="the key; default: read one line from stdin")
    hashing.set_defaults(func=_hash)
    return keys
