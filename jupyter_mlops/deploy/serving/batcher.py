"""Micro-batching: concurrent requests to one version answered by one ``predict`` call.

Requests arriving while the event loop is busy are queued; the queue is flushed after
``wait_s`` (2 ms by default: under load a batch then gathers the requests of every busy
client instead of the few that arrived during the last ``predict``), or at once when it
holds ``max_rows`` rows. A lone client does not wait: after a batch of one request, the next
flush happens on the loop's next turn. Each request
gets its own slice of the batch's predictions. If the batched call raises, each request
is predicted alone, so one bad request cannot fail the others. A version whose batched
answers differ from its unbatched ones (checked at load) is never batched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from jupyter_mlops.deploy.serving.payload import Rows
from jupyter_mlops.deploy.serving.served_version import ServedVersion, take


class MicroBatcher:
    """Queues 1-row-ish requests for one version and predicts them together."""

    def __init__(
        self,
        served: ServedVersion,
        max_rows: int,
        wait_s: float,
        on_batch: Callable[[int], None] = lambda size: None,
    ) -> None:
        self.served = served
        self.max_rows = max_rows
        self.wait_s = wait_s
        self.on_batch = on_batch
        self.enabled = served.batching and max_rows > 1
        self._pending: list[tuple[Rows, asyncio.Future[Any]]] = []
        self._pending_rows = 0
        self._flush_handle: asyncio.Handle | asyncio.TimerHandle | None = None
        self._last_batch = 0  # requests in the last flushed batch

    async def predict(self, rows: Rows) -> Any:
        """The predictions for ``rows``, possibly computed together with other requests'."""
        if not self.enabled or len(rows.values) >= self.max_rows:
            self.on_batch(1)
            return self.served.predict(rows)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((rows, future))
        self._pending_rows += len(rows.values)
        if self._pending_rows >= self.max_rows:
            self._flush()
        elif self._flush_handle is None:
            busy = self._last_batch > 1  # other clients are sending too: worth waiting for them
            self._flush_handle = (
                loop.call_later(self.wait_s, self._flush)
                if busy and self.wait_s > 0
                else loop.call_soon(self._flush)
            )
        return await future

    def _flush(self) -> None:
        """Predict every queued request in one call and hand out the slices."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        pending, self._pending, self._pending_rows = self._pending, [], 0
        if not pending:
            return
        self._last_batch = len(pending)
        self.on_batch(len(pending))
        if len(pending) == 1:
            _settle(pending[0][1], self.served.predict, pending[0][0])
            return
        merged = Rows(pending[0][0].columns, [row for rows, _ in pending for row in rows.values])
        try:
            predictions = self.served.predict(merged)
        except Exception:
            for rows, future in pending:  # find the request at fault; the others succeed
                _settle(future, self.served.predict, rows)
            return
        start = 0
        for rows, future in pending:
            stop = start + len(rows.values)
            if not future.done():
                future.set_result(take(predictions, start, stop))
            start = stop


def _settle(future: asyncio.Future[Any], predict: Callable[[Rows], Any], rows: Rows) -> None:
    """Resolve ``future`` with ``predict(rows)`` or the exception it raised."""
    if future.done():
        return
    try:
        future.set_result(predict(rows))
    except Exception as exc:
        future.set_exception(exc)
