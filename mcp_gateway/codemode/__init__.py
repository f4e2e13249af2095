"""Code Mode: tools as stub files, four meta-tools, and scripts that call tools in a sandbox.

The downstream server lists `CodeMode.meta_tools()` beside the caller's direct tools and routes
`tools/call` for the names in `CodeMode.META_TOOL_NAMES` to `CodeMode.call`:

    code_mode = CodeMode(settings=config.code_mode, sandbox=sandbox, invoker=invoker,
                         binding_for=lambda server: servers[server].binding or config.code_mode.binding)
    result = await code_mode.call("executeToolCode", {"code": "..."}, ctx, call_id=log_id)

`ctx.tools` must be the caller's view restricted to Code Mode servers: everything listed, read
or called comes from it. The meta-tools (names and argument names as in Bifrost):

- `listToolFiles(query?)`: the tree of stub files; `query` keywords narrow it.
- `readToolFile(fileName, startLine?, endLine?)`: `# Total lines: N`, then the lines (clamped).
- `getToolDocs(server, tool)`: description, parameters, return shape, an example call.
- `executeToolCode(code)`: runs a Starlark script; each server is a global object and
  `github.create_issue(title="x")` calls the tool through `ToolInvoker.call_tool(...,
  mode="code", parent_id=call_id)`, exactly like a direct call.

Layout, one job per module: `naming` (identifiers), `schema_types` / `schema_docs` (JSON Schema
to annotations, shapes, examples), `spec` (per-tool facts), `view` (per-view files, routes and
caches), `search`, `browse` (the read-only meta-tools), `arguments` (mapping and validation),
`host` (the sandbox's host function), `results` (decoding and the answer), `texts` (templates in
`stubs_templates/`), `meta_tools` (definitions and argument checks), `codemode` (wiring).
"""

from mcp_gateway.codemode.codemode import CodeMode
from mcp_gateway.codemode.meta_tools import META_TOOL_NAMES
from mcp_gateway.codemode.view import Binding, BindingFor

__all__ = ["META_TOOL_NAMES", "Binding", "BindingFor", "CodeMode"]
