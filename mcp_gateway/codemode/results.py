"""What a script gets back from a tool call, and what the model gets back from a script.

`decode_result`: the tool's structured content when present, else each content block decoded
(text parsed as JSON when it is JSON, else the text; images, audio and blobs summarised as
`{"type", "mime_type", "size"}`, never inlined). `render_run`: printed output and the result as
JSON, trimmed to the output budget with a marker, or the script's error with a hint.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import mcp_types as types

from mcp_gateway.codemode.texts import Texts
from mcp_gateway.codemode.trim import split_budget, trim_utf8
from sandbox.api import RunResult

__all__ = ["decode_result", "error_detail", "render_run"]

MAX_ERROR_DETAIL = 2_000


def decode_result(result: types.CallToolResult, *, unwrap: bool = False) -> Any:
    """The value a script receives for a successful call."""
    if result.structured_content is not None:
        value = result.structured_content
        if unwrap and isinstance(value, dict) and value.keys() == {"result"}:
            return value["result"]
        return value
    values = [_block(block) for block in result.content]
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def error_detail(result: types.CallToolResult) -> str:
    """The message of a failed call: its text blocks, else its structured content, capped."""
    text = "\n".join(b.text for b in result.content if isinstance(b, types.TextContent)).strip()
    if not text and result.structured_content is not None:
        text = json.dumps(result.structured_content, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_ERROR_DETAIL else text[:MAX_ERROR_DETAIL] + " ..."


def _reject_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are not JSON; keep such text as text


# A constant (immutable) decoder: json.loads with options would build a new one per call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _text_value(text: str) -> Any:
    stripped = text.strip()
    if stripped[:1] in ("{", "[", '"') or stripped in ("true", "false", "null") or _numeric(stripped):
        try:
            return _DECODER.decode(stripped)
        except ValueError:
            pass
    return text


def _numeric(text: str) -> bool:
    return bool(text) and (text[0].isdigit() or (text[0] == "-" and text[1:2].isdigit()))


def _b64_size(data: str) -> int:
    data = data.strip()
    return max(len(data) * 3 // 4 - data[-2:].count("="), 0)


def _block(block: Any) -> Any:
    if isinstance(block, types.TextContent):
        return _text_value(block.text)
    if isinstance(block, types.ImageContent | types.AudioContent):
        return {"type": block.type, "mime_type": block.mime_type, "size": _b64_size(block.data)}
    if isinstance(block, types.EmbeddedResource):
        res = block.resource
        if isinstance(res, types.TextResourceContents):
            return {"type": "resource", "uri": res.uri, "mime_type": res.mime_type, "text": res.text}
        return {"type": "resource", "uri": res.uri, "mime_type": res.mime_type, "size": _b64_size(res.blob)}
    if isinstance(block, types.ResourceLink):
        return {"type": "resource_link", "uri": block.uri, "name": block.name, "mime_type": block.mime_type}
    return {"type": getattr(block, "type", "unknown")}


def render_run(run: RunResult, texts: Texts, *, budget: int, output_limit: int) -> types.CallToolResult:
    """The `executeToolCode` answer for one finished run (`budget` in UTF-8 bytes)."""
    result_json = json.dumps(run.result, ensure_ascii=False, default=str)
    output = run.output.rstrip("\n")
    out_size = len(output.encode("utf-8", "surrogatepass"))
    res_size = len(result_json.encode("utf-8", "surrogatepass")) if run.error is None else 0
    out_budget, res_budget = split_budget(out_size, res_size, budget)
    output, out_cut = trim_utf8(output, out_budget)
    notes = []
    if out_cut:
        notes.append(texts.message("trimmed", what="printed output", cut_bytes=out_cut, total_bytes=out_size))
    if run.stats.output_truncated:
        notes.append(texts.message("output_capped", limit=output_limit))
    result_note = None
    if run.error is None:
        result_json, res_cut = trim_utf8(result_json, res_budget)
        if res_cut:
            result_note = texts.message("trimmed", what="result", cut_bytes=res_cut, total_bytes=res_size)
    error = run.error
    if error is not None and len(error.message) > MAX_ERROR_DETAIL * 2:
        # e.g. a sandbox message listing every method of a 5,000-tool server
        error = dataclasses.replace(error, message=error.message[: MAX_ERROR_DETAIL * 2] + " ...")
    text = texts.render(
        "execute_result.j2",
        error=error,
        hint=texts.message("hint", kind=error.kind, message=error.message) if error else "",
        output=output,
        output_notes=notes,
        result_json=result_json,
        result_note=result_note,
        stats=run.stats,
    )
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text.strip("\n"))], is_error=error is not None
    )
