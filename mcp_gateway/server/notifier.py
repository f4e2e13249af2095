"""Tell connected clients that their lists changed.

Handshake-era (2025-11-25) sessions get `notifications/*/list_changed` on their standalone stream;
2026-07-28 clients receive events on their `subscriptions/listen` streams through the bus.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp.shared.subscriptions import PromptsListChanged, ResourcesListChanged, ToolsListChanged

__all__ = ["ListChangedNotifier"]

logger = logging.getLogger("mcp_gateway.server")

_MAX_SESSIONS = 10_000


class ListChangedNotifier:
    """Remembers live handshake-era sessions and fans change events out to everyone."""

    def __init__(self, bus: InMemorySubscriptionBus) -> None:
        self.bus = bus
        # Keyed by Mcp-Session-Id; the newest request's session object carries the connection.
        self._sessions: OrderedDict[str, ServerSession] = OrderedDict()

    def remember(self, session_id: str, session: ServerSession) -> None:
        """Record the session behind a request (called on every handshake-era request)."""
        self._sessions[session_id] = session
        self._sessions.move_to_end(session_id)
        if len(self._sessions) > _MAX_SESSIONS:
            self._sessions.popitem(last=False)

    async def notify_all(self) -> None:
        """Send tools/prompts/resources list_changed to every known client."""
        for event in (ToolsListChanged(), PromptsListChanged(), ResourcesListChanged()):
            await self.bus.publish(event)
        for session_id, session in list(self._sessions.items()):
            try:
                await session.send_tool_list_changed()
                await session.send_prompt_list_changed()
                await session.send_resource_list_changed()
            except Exception:  # a closed session: forget it; others still get theirs
                logger.debug("dropping session %s from list_changed fan-out", session_id, exc_info=True)
                self._sessions.pop(session_id, None)
