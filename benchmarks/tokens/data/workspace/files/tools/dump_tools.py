"""Dump the tool definitions of an MCP server to a JSON file."""

import json
import sys
from pathlib import Path


def dump(tools: list[dict], path: str) -> None:
    Path(path).write_text(json.dumps(tools, indent=2))


if __name__ == "__main__":
    dump([], sys.argv[1])
