"""Load the benchmark's data: captured servers, rounds, published queries, tool mappings, plans."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from benchmarks.tokens.plan import Plan, load_plans

__all__ = [
    "DATA_DIR",
    "REAL_SERVERS",
    "ROUNDS",
    "Mapping_",
    "Round",
    "ServerData",
    "Task",
    "gateway_name",
    "load_mappings",
    "load_round",
    "load_server",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
ROUNDS = ("r1", "r2", "r3")
REAL_SERVERS = frozenset({"filesystem", "sqlite"})
"""Servers that run for real (offline npm packages) instead of being replayed."""


def gateway_name(label: str) -> str:
    """Our gateway's name for a server of `rounds.json`: 'Firecrawl-3.15.0' -> 'firecrawl'."""
    return re.sub(r"-\d+(\.\d+)*$", "", label).lower()


@dataclass(frozen=True, slots=True)
class ServerData:
    """One captured server: its tools exactly as `tools/list` returned them."""

    name: str
    label: str
    source: str
    tools: tuple[dict[str, Any], ...]
    file: Path

    @property
    def tool_names(self) -> list[str]:
        """Names of the captured tools, in capture order."""
        return [t["name"] for t in self.tools]

    def tool(self, name: str) -> dict[str, Any]:
        """The captured definition of one tool."""
        for t in self.tools:
            if t["name"] == name:
                return t
        raise KeyError(f"{self.name} has no tool {name!r}")


@dataclass(frozen=True, slots=True)
class Task:
    """One published query with its expected tools and success criteria."""

    id: str
    difficulty: str
    query: str
    expected_servers: tuple[str, ...]
    expected_tools: tuple[str, ...]
    success_criteria: str
    side_effects: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Round:
    """A round: its servers, its queries and their plans."""

    id: str
    servers: tuple[ServerData, ...]
    tasks: tuple[Task, ...]
    plans: Mapping[str, Plan]

    @property
    def tool_count(self) -> int:
        """How many tools the round serves in classic mode."""
        return sum(len(s.tools) for s in self.servers)

    def server(self, name: str) -> ServerData:
        """A server of this round by gateway name."""
        for s in self.servers:
            if s.name == name:
                return s
        raise KeyError(f"round {self.id} has no server {name!r}")


@dataclass(frozen=True, slots=True)
class Mapping_:
    """One reviewed mapping entry: a published tool name -> our (server, tool) pairs, with why."""

    published: str
    targets: tuple[tuple[str, str], ...]
    why: str


def _server_file(label: str) -> Path:
    return DATA_DIR / "servers" / f"{label.lower()}.json"


@cache
def load_server(label: str) -> ServerData:
    """Load one captured server by its `rounds.json` label."""
    path = _server_file(label)
    raw = json.loads(path.read_text(encoding="utf-8"))
    return ServerData(gateway_name(label), label, raw["source"], tuple(raw["tools"]), path)


def _tasks(round_id: str) -> tuple[Task, ...]:
    raw = json.loads((DATA_DIR / "tasks" / f"eval_tasks_{round_id}.json").read_text(encoding="utf-8"))
    return tuple(
        Task(
            id=t["id"],
            difficulty=t["difficulty"],
            query=t["query"],
            expected_servers=tuple(t["expected_servers"]),
            expected_tools=tuple(t["expected_tools"]),
            success_criteria=t["success_criteria"],
            side_effects=t.get("side_effects") or {},
        )
        for t in raw
    )


def load_round(round_id: str) -> Round:
    """Load a round with its servers, queries and plans."""
    if round_id not in ROUNDS:
        raise ValueError(f"unknown round {round_id!r}; expected one of {', '.join(ROUNDS)}")
    labels = json.loads((DATA_DIR / "rounds.json").read_text(encoding="utf-8"))[round_id]
    plan_file = DATA_DIR / "plans" / f"{round_id}.yaml"
    plans = load_plans(plan_file) if plan_file.exists() else {}
    return Round(round_id, tuple(load_server(label) for label in labels), _tasks(round_id), plans)


def load_mappings(round_id: str) -> dict[str, Mapping_]:
    """The reviewed mapping for one round: published tool name -> entry."""
    raw = yaml.safe_load((DATA_DIR / "mappings.yaml").read_text(encoding="utf-8"))
    out: dict[str, Mapping_] = {}
    for block in raw.values():
        server = block["server"]
        for name in block.get("same", []):
            out[name] = Mapping_(name, ((server, name),), block["why"])
        for name, entry in (block.get("tools") or {}).items():
            targets = entry.get("rounds", {}).get(round_id, entry["to"])
            pairs = tuple((t.split(".", 1)[0], t.split(".", 1)[1]) if "." in t else (server, t) for t in targets)
            out[name] = Mapping_(name, pairs, entry["why"])
    return out
