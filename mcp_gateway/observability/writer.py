"""Off the request path: queue log records, write them in batches, stream them live, purge old ones.

`LogWriter.submit` is what the tool-call path calls: an append to a list and a length check, no
await, no lock, no I/O. A task started by the app lifespan (`run`) takes the queue every
`flush_interval_ms` (sooner when a batch fills), writes it in batches of `batch_size`, retries a
failed batch a few times, hands written records to live subscribers, and purges records past
`retention` once an hour. When the queue holds `queue_size` records, new ones are dropped and
counted (`dropped`) rather than making a request wait. `aclose` writes whatever is still queued.

`submit` must be called from the event loop's thread (everything in the gateway is).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType

import anyio

from mcp_gateway.config.logging import LoggingSettings
from mcp_gateway.observability.query import LogQuery
from mcp_gateway.observability.records import LogRecord
from mcp_gateway.observability.store import LogStore

__all__ = ["LiveEvent", "LogWriter", "Missed", "Subscription"]

log = logging.getLogger("mcp_gateway.observability")

DEFAULT_RETRY_DELAYS: tuple[float, ...] = (0.1, 0.5, 2.0)
DEFAULT_PURGE_INTERVAL_S = 3600.0
DEFAULT_SUBSCRIBER_BUFFER = 1000


@dataclass(frozen=True, slots=True)
class Missed:
    """In a live stream: `count` matching records were skipped because the subscriber lagged."""

    count: int


LiveEvent = LogRecord | Missed


class Subscription:
    """Live records matching one query, as an async iterator of `LogRecord | Missed`.

    At most `buffer` records wait for the reader; past that, records are skipped and the reader
    gets a `Missed(count)` in their place, so a slow reader never holds up the writer. Iteration
    ends when the subscription or the writer is closed. Use as `async with writer.subscribe(q) as
    sub: async for event in sub: ...`.
    """

    def __init__(self, writer: LogWriter, query: LogQuery, buffer: int) -> None:
        self.query = query
        self.missed_total = 0
        self._writer = writer
        self._buffer = buffer
        self._items: deque[LiveEvent] = deque()
        self._missed = 0
        self._ready = anyio.Event()
        self._closed = False

    def _offer(self, record: LogRecord) -> None:
        if self._closed:
            return
        if len(self._items) >= self._buffer:
            self._missed += 1
            self.missed_total += 1
            return
        if self._missed:
            self._items.append(Missed(self._missed))
            self._missed = 0
        self._items.append(record)
        self._ready.set()

    def _end(self) -> None:
        self._closed = True
        self._ready.set()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> LiveEvent:
        while True:
            if self._items:
                return self._items.popleft()
            if self._missed:
                missed, self._missed = self._missed, 0
                return Missed(missed)
            if self._closed:
                raise StopAsyncIteration
            await self._ready.wait()
            self._ready = anyio.Event()

    def close(self) -> None:
        """Stop receiving records; a pending `__anext__` ends after what is buffered."""
        self._writer._unsubscribe(self)
        self._end()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class LogWriter:
    """Batches records into a `LogStore`; see the module docstring.

    Counters for metrics: `written`, `dropped` (queue full or writer closed), `failed` (a batch
    the store refused after every retry), `purged`, and `queued` (waiting now).
    """

    def __init__(
        self,
        store: LogStore,
        settings: LoggingSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        purge_interval_s: float = DEFAULT_PURGE_INTERVAL_S,
        subscriber_buffer: int = DEFAULT_SUBSCRIBER_BUFFER,
    ) -> None:
        settings = settings if settings is not None else LoggingSettings()
        self.store = store
        self.written = 0
        self.dropped = 0
        self.failed = 0
        self.purged = 0
        self._max = settings.queue_size
        self._batch_size = settings.batch_size
        self._interval = settings.flush_interval_ms / 1000
        self._retention = settings.retention_seconds
        self._clock = clock
        self._retry_delays = tuple(retry_delays)
        self._purge_interval = purge_interval_s
        self._next_purge = 0.0
        self._subscriber_buffer = subscriber_buffer
        self._queue: list[LogRecord] = []
        self._subscriptions: set[Subscription] = set()
        self._wake = anyio.Event()
        self._lock = anyio.Lock()
        self._closed = False

    @property
    def queued(self) -> int:
        """Records submitted and not yet taken for writing."""
        return len(self._queue)

    def submit(self, record: LogRecord) -> None:
        """Queue `record` for writing; never blocks. Dropped and counted when the queue is full."""
        queue = self._queue
        if len(queue) >= self._max or self._closed:
            self.dropped += 1
            return
        queue.append(record)
        if len(queue) == self._batch_size:
            self._wake.set()

    def subscribe(self, query: LogQuery | None = None) -> Subscription:
        """A live stream of the records matching `query` (all records without one) once written."""
        subscription = Subscription(self, query if query is not None else LogQuery(), self._subscriber_buffer)
        if self._closed:
            subscription._end()
        else:
            self._subscriptions.add(subscription)
        return subscription

    def _unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    async def run(self) -> None:
        """Write batches until `aclose`; also purge by retention. Start it as a task."""
        while not self._closed:
            if len(self._queue) < self._batch_size:
                with anyio.move_on_after(self._interval):
                    await self._wake.wait()
            if self._wake.is_set():
                self._wake = anyio.Event()
            if self._closed:
                break
            await self.flush()
            await self._maybe_purge()

    async def flush(self) -> None:
        """Write everything queued now (in batches), retrying each failed batch."""
        async with self._lock:
            while self._queue:
                pending, self._queue = self._queue, []
                for start in range(0, len(pending), self._batch_size):
                    await self._write(pending[start : start + self._batch_size])

    async def _write(self, batch: list[LogRecord]) -> None:
        attempts = len(self._retry_delays) + 1
        for attempt in range(1, attempts + 1):
            try:
                await self.store.write(batch)
            except Exception as exc:  # the writer must outlive any store failure
                # The message names the store and the error, never record contents.
                if attempt == attempts:
                    self.failed += len(batch)
                    log.error("log store write failed, %d records lost: %s: %s", len(batch), type(exc).__name__, exc)
                    return
                delay = self._retry_delays[attempt - 1]
                log.warning(
                    "log store write failed (attempt %d/%d, retrying in %.1fs): %s: %s",
                    attempt, attempts, delay, type(exc).__name__, exc,
                )  # fmt: skip
                await anyio.sleep(delay)
            else:
                self.written += len(batch)
                self._publish(batch)
                return

    def _publish(self, batch: list[LogRecord]) -> None:
        for subscription in list(self._subscriptions):
            query = subscription.query
            for record in batch:
                if query.matches(record):
                    subscription._offer(record)

    async def _maybe_purge(self) -> None:
        if self._retention is None:
            return
        now = self._clock()
        if now < self._next_purge:
            return
        self._next_purge = now + self._purge_interval
        await self.purge(now)

    async def purge(self, now: float | None = None) -> int:
        """Delete records older than the retention period now; return how many (0 if none set)."""
        if self._retention is None:
            return 0
        cutoff = (self._clock() if now is None else now) - self._retention
        try:
            removed = await self.store.purge_before(cutoff)
        except Exception as exc:  # retried at the next purge interval
            log.warning("log retention purge failed: %s: %s", type(exc).__name__, exc)
            return 0
        self.purged += removed
        if removed:
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(cutoff))
            log.info("log retention: purged %d records older than %s", removed, when)
        return removed

    async def aclose(self) -> None:
        """Write everything still queued, end live subscriptions; later submits are dropped.

        Does not close the store: whoever opened it closes it (after this).
        """
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        await self.flush()
        for subscription in list(self._subscriptions):
            subscription._end()
        self._subscriptions.clear()
