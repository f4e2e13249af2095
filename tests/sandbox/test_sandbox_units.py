"""Unit tests of the pure parts: source rewriting, output capping, framing, prelude checks."""

from __future__ import annotations

import ast

import pytest

from sandbox import framing
from sandbox.framing import MAX_FRAME_BYTES, FrameError, decode_payload, encode_frame, payload_length
from sandbox.output import OutputMeter, Transcript, truncation_marker
from sandbox.prelude import build_prelude, validate_bindings
from sandbox.rewrite import LAST_VALUE_NAME, rewrite


def test_rewrite_host_attributes_and_last_expression() -> None:
    source = 'x = 1\ngithub.create_issue(title="é", body=github.list())\ngithub.z()'
    rewritten = rewrite(source, {"github"})
    lines = rewritten.text.splitlines()
    assert lines[0] == "x = 1"
    assert lines[1] == (
        '_sandbox_bind(github, "github", "create_issue", 2, 1)(title="é", '
        'body=_sandbox_bind(github, "github", "list", 2, 37)())'
    )
    assert lines[2] == f'{LAST_VALUE_NAME} = _sandbox_bind(github, "github", "z", 3, 1)()'
    assert rewritten.result_names == (LAST_VALUE_NAME,)
    ast.parse(rewritten.text)


@pytest.mark.parametrize(
    "source",
    [
        "other.method()",  # not a binding
        "github.x = 1",  # a store, not a load
        'f"{github.create_issue()}"',  # inside an f-string: positions are unreliable in 3.11
        "github.\\\n    create_issue()",  # spans lines
    ],
)
def test_rewrite_leaves_other_code_alone(source: str) -> None:
    assert "_sandbox_bind" not in rewrite(source, {"github"}).text


def test_rewrite_keeps_invalid_code_for_the_engine() -> None:
    rewritten = rewrite("x = (1 +", {"github"})
    assert rewritten.text == "x = (1 +" and rewritten.result_names == ("result", LAST_VALUE_NAME)


def test_rewrite_does_not_turn_load_into_an_assignment() -> None:
    assert rewrite('load("x.star", "y")', set()).text == 'load("x.star", "y")'


def test_result_names_are_narrowed() -> None:
    assert rewrite("x = 1", set()).result_names == ()
    assert rewrite("for result in [1]:\n    pass", set()).result_names == ("result",)
    assert rewrite("result = 1\nresult", set()).result_names == ("result", LAST_VALUE_NAME)


def test_original_column_maps_back_through_edits() -> None:
    source = "y = github.a(1) + github.b(2)"
    rewritten = rewrite(source, {"github"})
    text = rewritten.text
    for original in ("(1)", "+", "(2)"):
        new_col = text.index(original) + 1
        assert rewritten.original_column(1, new_col) == source.index(original) + 1
    inside = text.index('"a"') + 1  # a column inside generated text points at what it replaced
    assert rewritten.original_column(1, inside) == source.index("github.a") + 1
    assert rewritten.original_column(2, 7) == 7  # lines without edits are untouched


def test_output_meter_caps_on_character_boundaries() -> None:
    meter = OutputMeter(5)
    assert meter.admit("abc") == "abc"
    assert meter.admit("déf") == "d"  # "é" is 2 bytes and would cross the cap
    assert meter.truncated and meter.size == 4
    assert meter.admit("more") == ""


def test_transcript_recaps_and_marks() -> None:
    transcript = Transcript(4)
    transcript.add("ab", False)
    transcript.add("cdef", False)  # the gateway re-applies the cap
    assert transcript.text() == "abcd" + truncation_marker(4)
    untouched = Transcript(10)
    untouched.add("x\n", False)
    assert untouched.text() == "x\n" and not untouched.truncated


def test_frames_round_trip_and_refuse_garbage(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = encode_frame({"op": "run", "code": "é"})
    assert payload_length(frame[:4]) == len(frame) - 4
    assert decode_payload(frame[4:]) == {"op": "run", "code": "é"}
    with pytest.raises(FrameError):
        payload_length((MAX_FRAME_BYTES + 1).to_bytes(4, "big"))
    for bad in (b"not json", b"[1]", b'{"no_op": 1}'):
        with pytest.raises(FrameError):
            decode_payload(bad)
    monkeypatch.setattr(framing, "MAX_FRAME_BYTES", 100)
    with pytest.raises(FrameError):
        encode_frame({"op": "output", "text": "x" * 100})


def test_validate_bindings() -> None:
    validate_bindings({"github": frozenset({"create_issue"})})
    bad_bindings = [{"my-server": frozenset()}, {"s": frozenset({"2fa"})}, {"_sandbox_x": frozenset()}]
    bad_bindings += [{"s": frozenset({"in"})}, {"load": frozenset()}, {"s": frozenset({"class"})}]
    for bad in bad_bindings:
        with pytest.raises(ValueError, match="identifier"):
            validate_bindings(bad)


def test_prelude_styles() -> None:
    pyo3 = build_prelude({"github": ["b", "a"]}, style="struct", define_print=True)
    go = build_prelude({"github": ["b", "a"]}, style="dict", define_print=False)
    assert 'github = struct(a=_sandbox_method("github", "a", None, None), b=' in pyo3
    assert "def print(" in pyo3 and "json.encode([mode, calls])" in pyo3
    assert 'github = {"a": _sandbox_method("github", "a", None, None), "b":' in go
    assert "def print(" not in go and "_sandbox_host(mode, calls)" in go
