"""Strong references to fire-and-forget asyncio tasks, and their failures reported instead of lost.

The event loop keeps only weak references to tasks (https://docs.python.org/3/library/asyncio-task.html#asyncio.create_task:
"save a reference to the result of this function, to avoid a task disappearing mid-execution"), and an exception of a
task nobody awaits surfaces only as "Task exception was never retrieved" when it is garbage-collected. A
:class:`TaskKeeper` holds every task it starts until it ends and logs the exception of one that failed, naming
what it was doing. Inside Kit the loop is Kit's main loop, so the Kit panels start all their coroutines here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger(__name__)


class TaskKeeper:
    """Starts coroutines as tasks, keeps them until they end, logs the ones that fail."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Future[Any]] = set()

    def start(self, coroutine: Coroutine[Any, Any, Any], what: str) -> asyncio.Future[Any]:
        """Run ``coroutine`` on the current event loop; ``what`` names it in the log if it fails."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._finished(done, what))
        return task

    def _finished(self, task: asyncio.Future[Any], what: str) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            logger.error("[SDG Studio] %s failed: %s", what, error, exc_info=error)

    @property
    def running(self) -> int:
        """Tasks started here that have not ended yet."""
        return len(self._tasks)

    def cancel_all(self) -> None:
        """Cancel every task still running (the extension is shutting down)."""
        for task in list(self._tasks):
            task.cancel()
