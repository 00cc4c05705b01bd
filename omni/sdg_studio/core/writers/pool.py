"""A bounded pool of writer threads: encoding and disk writes run off the render loop.

Jobs are grouped by frame. At most ``max_frames`` frames are in flight (scheduled but not yet on
disk); :meth:`WritePool.begin_frame` waits for a slot, which bounds memory to that many frames of
annotator data while rendering stays ahead of the disk. A job that fails stops the pool: later
jobs are dropped and the first error is raised to the caller at the next call.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

#: A job returns the files it wrote (one path, several, or none).
Job = Callable[[], "Path | Iterable[Path] | None"]


@dataclass
class CompletedFrame:
    """A frame whose files are all on disk under their final names."""

    index: int
    files: list[Path] = field(default_factory=list)


@dataclass
class _FrameState:
    pending: int = 0
    sealed: bool = False
    files: list[Path] = field(default_factory=list)


def default_workers() -> int:
    """One thread per core (2 to 8): PNG and zlib encoding release the GIL, so they scale with cores."""
    return max(2, min(8, os.cpu_count() or 2))


class WritePool:
    """Runs jobs on ``workers`` daemon threads with at most ``max_frames`` frames in flight."""

    def __init__(self, workers: int | None = None, max_frames: int = 4) -> None:
        if max_frames < 1:
            raise ValueError("max_frames must be >= 1")
        self.workers = workers or default_workers()
        self.max_frames = max_frames
        self._cond = threading.Condition()
        self._jobs: deque[tuple[int | None, Job]] = deque()
        self._frames: dict[int, _FrameState] = {}
        self._completed: list[CompletedFrame] = []
        self._loose_pending = 0  # jobs not tied to a frame
        self._loose_files: list[Path] = []
        self._error: BaseException | None = None
        self._threads: list[threading.Thread] = []
        self._closed = False

    # -- caller side -------------------------------------------------------------------------
    def begin_frame(self, index: int) -> None:
        """Open frame ``index``, waiting while ``max_frames`` frames are still being written."""
        with self._cond:
            self._raise_pending()
            while len(self._frames) >= self.max_frames and self._error is None:
                self._cond.wait()
            self._raise_pending()
            if index in self._frames:
                raise ValueError(f"frame {index} is already being written")
            self._frames[index] = _FrameState()

    def submit(self, job: Job, frame: int | None = None) -> None:
        """Queue ``job``; with ``frame`` it counts towards that open frame's completion."""
        with self._cond:
            self._raise_pending()
            if self._closed:
                raise RuntimeError("the write pool is shut down")
            if frame is None:
                self._loose_pending += 1
            else:
                self._frames[frame].pending += 1
            self._jobs.append((frame, job))
            self._start_workers()
            self._cond.notify_all()

    def end_frame(self, index: int) -> None:
        """Declare that every job of frame ``index`` has been submitted."""
        with self._cond:
            state = self._frames.get(index)
            if state is None:
                return
            state.sealed = True
            self._complete_if_done(index, state)

    def abandon_frame(self, index: int) -> None:
        """Forget frame ``index`` after scheduling it failed (its queued jobs still run)."""
        with self._cond:
            state = self._frames.get(index)
            if state is not None:
                state.sealed = True
                state.files.clear()
                if state.pending == 0:
                    del self._frames[index]
                    self._cond.notify_all()

    def take_completed(self) -> list[CompletedFrame]:
        """Frames fully written since the last call, in completion order (never blocks)."""
        with self._cond:
            done, self._completed = self._completed, []
            return done

    def drain(self) -> list[Path]:
        """Wait until every queued job ran; raise the first job error. Returns files of loose jobs."""
        with self._cond:
            while (self._jobs or self._busy()) and self._error is None:
                self._cond.wait()
            self._raise_pending()
            files, self._loose_files = self._loose_files, []
            return files

    def shutdown(self) -> None:
        """Stop the worker threads once the queue is empty (does not raise job errors)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    @property
    def error(self) -> BaseException | None:
        """The first job error, if any."""
        return self._error

    # -- internals (called with the lock held unless noted) -------------------------------------
    def _busy(self) -> bool:
        return self._loose_pending > 0 or any(s.pending for s in self._frames.values())

    def _raise_pending(self) -> None:
        if self._error is not None:
            raise self._error

    def _start_workers(self) -> None:
        while len(self._threads) < self.workers:
            thread = threading.Thread(target=self._work, name=f"sdg-writer-{len(self._threads)}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _complete_if_done(self, index: int, state: _FrameState) -> None:
        if state.sealed and state.pending == 0:
            del self._frames[index]
            if self._error is None:  # a frame sealed after a job failed is dropped, never reported written
                self._completed.append(CompletedFrame(index, state.files))
            self._cond.notify_all()

    def _work(self) -> None:  # worker thread; takes the lock itself
        while True:
            with self._cond:
                while not self._jobs and not self._closed:
                    self._cond.wait()
                if not self._jobs:
                    return
                frame, job = self._jobs.popleft()
                skip = self._error is not None
            files: list[Path] = []
            error: BaseException | None = None
            if not skip:
                try:
                    result = job()
                    if isinstance(result, Path):
                        files = [result]
                    elif result is not None:
                        files = list(result)
                except BaseException as exc:  # surfaced to the caller by the next call
                    error = exc
            with self._cond:
                if error is not None and self._error is None:
                    self._error = error
                if frame is None:
                    self._loose_pending -= 1
                    self._loose_files.extend(files)
                else:
                    state = self._frames[frame]
                    state.pending -= 1
                    state.files.extend(files)
                    if self._error is not None:
                        state.files.clear()
                        if state.pending == 0 and state.sealed:
                            del self._frames[frame]
                    else:
                        self._complete_if_done(frame, state)
                self._cond.notify_all()
