"""A caller's view as Code Mode sees it: server globals, bound tools, virtual files, call routes.

`ViewBuilder.view(ctx.tools, binding_for)` returns a `CodeView` built only from the tools in that
mapping; nothing outside it can be listed, read or called. Building is cached at three levels,
all keyed by `CatalogTool` object identity, so a catalog refresh (new objects) misses and nothing
is re-rendered per request:

- `ToolSpec` per tool object (parameters, signature, summary);
- `ServerView` and its files per (script global, binding, the server's `(key, tool)` pairs);
- `CodeView` per view content (the keys and the tool objects of `ctx.tools`), re-checked against
  `binding_for`.

Specs and files are made lazily, on first read, and then kept: after a catalog refresh a request
pays for what it reads, not for the whole catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from mcp_gateway.catalog.model import CatalogTool
from mcp_gateway.codemode.cache import LruCache, Memo
from mcp_gateway.codemode.naming import SCRIPT_RESERVED, unique_identifiers, words
from mcp_gateway.codemode.spec import ToolSpec, build_spec
from mcp_gateway.codemode.texts import Texts

__all__ = ["Binding", "BindingFor", "BoundTool", "CodeView", "ServerView", "ViewBuilder", "file_path"]

Binding = Literal["server", "tool"]
BindingFor = Callable[[str], Binding]
_Members = tuple[tuple[str, CatalogTool], ...]


def file_path(server: str, ident: str | None = None) -> str:
    """`servers/<server>.pyi`, or `servers/<server>/<ident>.pyi` for one tool."""
    return f"servers/{server}.pyi" if ident is None else f"servers/{server}/{ident}.pyi"


# Not frozen, for the lazily filled fields; treat it as read-only.
@dataclass(slots=True, eq=False)
class BoundTool:
    """A tool as one view exposes it: its method name, the global it hangs on, its spec."""

    tool: CatalogTool
    ident: str
    global_name: str
    exposed_key: str
    """The key of the tool in `ctx.tools`, re-checked on every call."""
    make_spec: Callable[[CatalogTool], ToolSpec] = field(repr=False)
    _spec: ToolSpec | None = field(default=None, repr=False)
    _search_words: frozenset[str] | None = field(default=None, repr=False)

    @property
    def spec(self) -> ToolSpec:
        """The tool's `ToolSpec`, derived on first use (a view can be listed without any)."""
        if self._spec is None:
            self._spec = self.make_spec(self.tool)
        return self._spec

    @property
    def search_words(self) -> frozenset[str]:
        """Words of the server name, tool names, title and description, for `listToolFiles(query=...)`."""
        if self._search_words is None:
            t = self.tool
            self._search_words = words(f"{t.server} {t.name} {self.ident} {t.title or ''} {t.description or ''}")
        return self._search_words

    @property
    def call_name(self) -> str:
        """How a script names it: `github.create_issue`."""
        return f"{self.global_name}.{self.ident}"


@dataclass(frozen=True, slots=True, eq=False)
class ServerView:
    """One server's tools in a view, sorted by method name, and its stub files."""

    name: str
    global_name: str
    binding: Binding
    tools: tuple[BoundTool, ...]
    by_ident: Mapping[str, BoundTool]
    by_name: Mapping[str, BoundTool]
    """By upstream tool name."""
    files: dict[str, Memo] = field(default_factory=dict)
    """Path -> lazily rendered text; filled once by the builder."""


@dataclass(frozen=True, slots=True, eq=False)
class CodeView:
    """Everything Code Mode needs to serve one caller's view."""

    servers: tuple[ServerView, ...]
    by_server: Mapping[str, ServerView]
    """By config name and by script global."""
    files: Mapping[str, Memo]
    routes: Mapping[tuple[str, str], BoundTool]
    """`(global, method)` -> tool: the only way a script reaches a tool."""
    bindings: Mapping[str, frozenset[str]]
    """For the sandbox: global -> method names."""
    binding_choice: tuple[Binding, ...]
    total_tools: int
    listing: Memo
    """The full `listToolFiles` tree."""


class ViewBuilder:
    """Builds and caches `CodeView`s; one per `CodeMode`."""

    def __init__(self, texts: Texts, *, max_tools: int = 50_000, max_servers: int = 2_000, max_views: int = 64) -> None:
        self._texts = texts
        self._specs: LruCache[CatalogTool, ToolSpec] = LruCache(max_tools)
        self._servers: LruCache[tuple[str, Binding, _Members], ServerView] = LruCache(max_servers)
        self._views: LruCache[tuple[tuple[str, ...], tuple[CatalogTool, ...]], CodeView] = LruCache(max_views)

    def clear(self) -> None:
        """Forget everything (for example after a catalog refresh, to free memory sooner)."""
        self._specs.clear()
        self._servers.clear()
        self._views.clear()

    def spec(self, tool: CatalogTool) -> ToolSpec:
        """The cached `ToolSpec` of `tool`."""
        return self._specs.get_or_make(tool, lambda: build_spec(tool))

    def view(self, tools: Mapping[str, CatalogTool], binding_for: BindingFor) -> CodeView:
        """The `CodeView` of `tools` (a caller's `ctx.tools`)."""
        # Keyed by content, not by the mapping object: a mapping reused and mutated in place must
        # never serve a stale view. Two flat tuples rather than a tuple of pairs: thousands of
        # short-lived pairs per request would wake the cyclic garbage collector.
        key = (tuple(tools), tuple(tools.values()))
        view = self._views.get(key)
        if view is not None and view.binding_choice == tuple(binding_for(s.name) for s in view.servers):
            return view
        view = self._build(tools, binding_for)
        self._views.put(key, view)
        return view

    def _build(self, tools: Mapping[str, CatalogTool], binding_for: BindingFor) -> CodeView:
        groups: dict[str, list[tuple[str, CatalogTool]]] = {}
        for key, tool in tools.items():
            groups.setdefault(tool.server, []).append((key, tool))
        globals_ = unique_identifiers(groups, avoid=SCRIPT_RESERVED)
        servers: list[ServerView] = []
        for name in sorted(groups):
            binding = binding_for(name)
            members = tuple(sorted(groups[name], key=lambda kt: (kt[1].name, kt[0])))
            cache_key = (globals_[name], binding, members)
            server = self._servers.get(cache_key)
            if server is None:
                server = self._server(name, globals_[name], binding, members)
                self._servers.put(cache_key, server)
            servers.append(server)
        files = {path: memo for s in servers for path, memo in s.files.items()}
        by_server = {s.global_name: s for s in servers} | {s.name: s for s in servers}
        routes = {(s.global_name, t.ident): t for s in servers for t in s.tools}
        view = CodeView(
            servers=tuple(servers),
            by_server=by_server,
            files=files,
            routes=routes,
            bindings={s.global_name: frozenset(s.by_ident) for s in servers},
            binding_choice=tuple(s.binding for s in servers),
            total_tools=len(routes),
            listing=Memo(lambda: self._texts.render("listing.j2", **listing_context(view, None, None))),
        )
        return view

    def _server(self, name: str, global_name: str, binding: Binding, members: _Members) -> ServerView:
        unique: dict[str, tuple[str, CatalogTool]] = {}
        for key, tool in members:
            # Two entries with one upstream name cannot both be methods; the first (by key) wins.
            unique.setdefault(tool.name, (key, tool))
        idents = unique_identifiers(unique)
        bound = sorted(
            (BoundTool(tool, idents[tname], global_name, key, self.spec) for tname, (key, tool) in unique.items()),
            key=lambda b: b.ident,
        )
        server = ServerView(
            name=name,
            global_name=global_name,
            binding=binding,
            tools=tuple(bound),
            by_ident={b.ident: b for b in bound},
            by_name={b.tool.name: b for b in bound},
        )
        if binding == "server":
            server.files[file_path(name)] = self._file("server_file.pyi.j2", server=server)
        else:
            for b in bound:
                server.files[file_path(name, b.ident)] = self._file("tool_file.pyi.j2", server=server, tool=b)
        return server

    def _file(self, template: str, **context: object) -> Memo:
        texts = self._texts
        return Memo(lambda: texts.render(template, **context))


def listing_context(
    view: CodeView, query: str | None, matches: Mapping[str, list[BoundTool]] | None
) -> dict[str, object]:
    """Variables for `listing.j2`."""
    return {
        "servers": view.servers,
        "query": query,
        "matches": matches or {},
        "total_tools": view.total_tools,
        "matched_tools": sum(len(m) for m in (matches or {}).values()),
    }
