"""The reviewed data holds together: plans for every query, mappings for every expected tool,
plan calls that fit the captured schemas, fixtures for tools that exist, captures left intact."""

from __future__ import annotations

import json

import pytest
import yaml

from benchmarks.tokens.dataset import DATA_DIR, REAL_SERVERS, ROUNDS, load_mappings, load_round, load_server


@pytest.mark.parametrize("round_id", ROUNDS)
def test_every_query_has_a_plan_and_every_expected_tool_a_mapping(round_id: str) -> None:
    rnd = load_round(round_id)
    mappings = load_mappings(round_id)
    tools = {(s.name, t) for s in rnd.servers for t in s.tool_names}
    for task in rnd.tasks:
        assert task.id in rnd.plans, f"{task.id} has no plan"
        plan = rnd.plans[task.id]
        targets: set[tuple[str, str]] = set()
        unmapped = False
        for name in task.expected_tools:
            assert name in mappings, f"{task.id}: no mapping for {name}"
            entry = mappings[name]
            assert set(entry.targets) <= tools, f"{task.id}: {name} maps to tools outside {round_id}"
            targets |= set(entry.targets)
            unmapped |= not entry.targets
        assert (plan.gap is not None) == unmapped, f"{task.id}: gap note and mapping disagree"
        servers = {s for s, _ in targets}
        for step in plan.steps:
            assert (step.server, step.tool) in tools, (
                f"{task.id} {step.id}: {step.server}.{step.tool} not in {round_id}"
            )
            assert step.server in servers or step.server in REAL_SERVERS, (
                f"{task.id} {step.id}: {step.server} is not a server of the mapped expected tools"
            )


@pytest.mark.parametrize("round_id", ROUNDS)
def test_plan_arguments_fit_the_captured_schemas(round_id: str) -> None:
    rnd = load_round(round_id)
    for plan in rnd.plans.values():
        for step in plan.steps:
            schema = rnd.server(step.server).tool(step.tool)["inputSchema"]
            props = schema.get("properties", {})
            assert set(step.args) <= set(props), f"{plan.query_id} {step.id}: unknown {set(step.args) - set(props)}"
            missing = set(schema.get("required", [])) - set(step.args)
            assert not missing, f"{plan.query_id} {step.id}: missing required {missing}"


def test_replay_fixtures_name_real_tools() -> None:
    labels = {p.stem for p in (DATA_DIR / "servers").glob("*.json")}
    names = {load_server(label).name: set() for label in labels}
    for label in labels:
        names[load_server(label).name] |= set(load_server(label).tool_names)
    for path in (DATA_DIR / "replay").glob("*.yaml"):
        fixtures = yaml.safe_load(path.read_text())
        assert set(fixtures) <= names[path.stem], f"{path.name}: {set(fixtures) - names[path.stem]}"


def test_captures_are_complete_and_untouched() -> None:
    counts = {"r1": 104, "r2": 253, "r3": 508}
    for round_id, expected in counts.items():
        assert load_round(round_id).tool_count == expected
    for path in (DATA_DIR / "servers").glob("*.json"):
        raw = json.loads(path.read_text())
        assert {"server", "source", "tools"} <= set(raw)
        assert all("name" in t and "inputSchema" in t for t in raw["tools"])
