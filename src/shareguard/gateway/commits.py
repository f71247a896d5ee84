"""Group commit for the ledger: the "passed on" facts of the messages
answered at about the same time are written in one transaction.

Each message still gets its answer only after its own fact is durable;
what is shared is the commit (on SQLite with synchronous=FULL, an fsync
per transaction was the largest cost after scanning for small messages).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from shareguard.gateway.ledger import Ledger, Outcome

_Item = tuple[str, str, Sequence[Outcome], "asyncio.Future[None]"]


class GroupCommit:
    def __init__(self, ledger: Ledger, max_batch: int = 64) -> None:
        self.ledger = ledger
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def record(self, key: str, sender: str, outcomes: Sequence[Outcome]) -> None:
        """Returns once the outcomes are committed; raises what the commit raised."""
        if not outcomes:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((key, sender, outcomes, done))
        await done

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < self.max_batch:
                batch.append(self._queue.get_nowait())
            try:
                await asyncio.to_thread(self.ledger.record_many, [b[:3] for b in batch])
            except Exception as exc:  # every waiter answers 451
                for *_, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for *_, fut in batch:
                if not fut.done():
                    fut.set_result(None)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
