"""The hot path's JSON encoder: orjson's output, and the standard library's where orjson refuses."""

from __future__ import annotations

import json

from mcp_gateway.wire_json import dumps


def test_encodes_what_json_decodes_back_unchanged() -> None:
    value = {"text": "héllo ✓", "n": [1, 2.5, None, True], "nested": {"a": {"b": []}}}
    assert json.loads(dumps(value)) == value


def test_integers_beyond_64_bits_keep_their_value() -> None:
    value = {"id": 2**70, "small": 1}  # orjson refuses this one; JSON allows it
    assert json.loads(dumps(value)) == value
    assert b"1180591620717411303424" in dumps(value)
