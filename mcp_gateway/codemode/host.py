"""The host function a script's tool calls arrive at, one instance per `executeToolCode` run.

For each `HostCallRequest` it finds the tool in the caller's view (and nowhere else), maps and
validates the arguments, calls `ToolInvoker.call_tool(ctx, tool, args, mode="code",
parent_id=call_id)` - exactly the path of a direct call - and decodes the result. Every failure
raises `HostCallError` with a message naming the call and the script line; the sandbox stops the
script with it, or hands it to `try_call` / `parallel(..., errors="collect")`.
"""

from __future__ import annotations

import logging
from typing import Any

from mcp_gateway.codemode.arguments import ArgumentError, Validators, prepare_arguments
from mcp_gateway.codemode.results import decode_result, error_detail
from mcp_gateway.codemode.texts import Texts
from mcp_gateway.codemode.view import CodeView
from mcp_gateway.errors import GatewayError, NotFoundError, PolicyError, UpstreamError
from mcp_gateway.invocation import CallContext, ProgressFn, ToolInvoker
from sandbox.api import HostCallError, HostCallRequest

__all__ = ["ScriptHost"]

log = logging.getLogger(__name__)


class ScriptHost:
    """Performs the tool calls of one script run; pass it to `Sandbox.run(host=...)`."""

    def __init__(
        self,
        *,
        view: CodeView,
        ctx: CallContext,
        invoker: ToolInvoker,
        call_id: str,
        validators: Validators,
        texts: Texts,
        progress: ProgressFn | None = None,
    ) -> None:
        self._view = view
        self._ctx = ctx
        self._invoker = invoker
        self._call_id = call_id
        self._validators = validators
        self._texts = texts
        self._progress = progress
        self.calls_done = 0
        """Tool calls that returned (successfully or not), for progress reports."""
        self._relayed = 0

    async def _relay(self, progress: float, total: float | None, message: str | None) -> None:
        """A call's own progress (held for review, or an upstream's report) as the script's.

        MCP progress must increase: report `calls_done` plus a growing fraction, below the next
        whole number that a finished call reports.
        """
        assert self._progress is not None
        self._relayed += 1
        await self._progress(self.calls_done + min(self._relayed * 1e-3, 0.999), None, message)

    async def __call__(self, request: HostCallRequest) -> Any:
        """Run one call from the script and return its decoded result."""
        texts, line = self._texts, request.line
        bound = self._view.routes.get((request.obj, request.method))
        # The view was built from this ctx.tools, but check again: a tool must be reachable only
        # through the caller's current mapping, whatever a cache holds.
        if bound is None or self._ctx.tools.get(bound.exposed_key) is not bound.tool:
            raise HostCallError(texts.message("unknown_call", call=_call_name(request), line=line))
        try:
            arguments = prepare_arguments(
                bound,
                request.kwargs,
                tuple(request.args),
                line=line,
                validators=self._validators,
                texts=texts,
            )
        except ArgumentError as exc:
            raise HostCallError(str(exc)) from None
        call = bound.call_name
        script = self._ctx.script
        record: dict[str, Any] = {"tool": call, "arguments": arguments, "status": "running"}
        if script is not None:
            script.calls.append(record)  # what reviewers of a later held call see it has done
        try:
            result = await self._invoker.call_tool(
                self._ctx,
                bound.tool,
                arguments,
                mode="code",
                parent_id=self._call_id,
                progress=self._relay if self._progress is not None else None,
            )
            record["status"] = "error" if result.is_error else "ok"
        except NotFoundError:
            # The same answer as for a tool that does not exist: existence must not leak.
            raise HostCallError(texts.message("unknown_call", call=call, line=line)) from None
        except PolicyError as exc:
            raise HostCallError(texts.message("not_allowed", call=call, line=line, detail=str(exc))) from None
        except UpstreamError as exc:
            raise HostCallError(texts.message("unavailable", call=call, line=line, detail=str(exc))) from None
        except GatewayError as exc:
            raise HostCallError(texts.message("tool_failed", call=call, line=line, detail=str(exc))) from None
        except Exception:  # anything else is our bug: log it, and do not show internals to the model
            log.exception("tool call %s from executeToolCode %s failed", call, self._call_id)
            raise HostCallError(texts.message("internal_error", call=call, line=line)) from None
        finally:
            self.calls_done += 1
            if record["status"] == "running":
                record["status"] = "failed"
        if self._progress is not None:
            await self._progress(float(self.calls_done), None, call)
        if result.is_error:
            raise HostCallError(texts.message("tool_failed", call=call, line=line, detail=error_detail(result)))
        return decode_result(result, unwrap=bound.spec.unwrap_result)


def _call_name(request: HostCallRequest) -> str:
    # Shown back to the model: keep it short whatever the script sent.
    return f"{request.obj[:64]}.{request.method[:64]}" if request.obj else request.method[:64]
