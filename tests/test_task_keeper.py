"""TaskKeeper keeps its tasks alive until they end and reports failures instead of losing them (R10)."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from omni.sdg_studio.core.task_keeper import TaskKeeper


def test_a_started_task_survives_garbage_collection_and_is_released_when_done():
    keeper = TaskKeeper()
    done: list[int] = []

    async def work() -> None:
        await asyncio.sleep(0.01)
        done.append(1)

    async def main() -> None:
        keeper.start(work(), "work")  # the caller drops the task: only the keeper holds it
        gc.collect()
        assert keeper.running == 1
        while keeper.running:
            await asyncio.sleep(0.005)

    asyncio.run(main())
    assert done == [1] and keeper.running == 0


def test_a_failure_is_logged_with_what_it_was_doing(caplog: pytest.LogCaptureFixture):
    keeper = TaskKeeper()

    async def fail() -> None:
        raise RuntimeError("disk on fire")

    async def main() -> None:
        keeper.start(fail(), "recording")
        for _ in range(5):
            await asyncio.sleep(0)

    with caplog.at_level(logging.ERROR, logger="omni.sdg_studio.core.task_keeper"):
        asyncio.run(main())
    assert [r.getMessage() for r in caplog.records] == ["[SDG Studio] recording failed: disk on fire"]
    assert caplog.records[0].exc_info is not None


def test_cancel_all_cancels_without_logging(caplog: pytest.LogCaptureFixture):
    keeper = TaskKeeper()

    async def main() -> asyncio.Future[None]:
        task = keeper.start(asyncio.sleep(10), "waiting")
        await asyncio.sleep(0)
        keeper.cancel_all()
        await asyncio.sleep(0)
        return task

    with caplog.at_level(logging.DEBUG, logger="omni.sdg_studio.core.task_keeper"):
        task = asyncio.run(main())
    assert task.cancelled() and keeper.running == 0
    assert not caplog.records
