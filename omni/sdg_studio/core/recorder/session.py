"""What a recording job drives: a capture session that records one frame (one step, every render product).

Two shapes, one per host: :class:`CaptureSession` is synchronous (the embedded backend, the CLI and
Python) and :class:`AsyncCaptureSession` awaits Kit's event loop (Replicator's ``step_async``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from omni.sdg_studio.core.atomic import WriteError, write_error_reason


class CaptureSession(Protocol):
    """Records frames synchronously."""

    def open(self) -> None:
        """Set everything up (writer, render products); called once before the first frame."""
        ...

    def capture(self, index: int) -> list[Path]:
        """Record frame ``index`` on every render product; return the files it writes (maybe still queued)."""
        ...

    def completed(self) -> dict[int, list[Path]]:
        """Frames whose files are all on disk since the last call (frame -> files)."""
        ...

    def pause(self) -> None:
        """The job paused (e.g. pause the timeline)."""
        ...

    def resume(self) -> None:
        """The job resumed."""
        ...

    def close(self, ok: bool) -> list[Path]:
        """Flush and tear down; ``ok`` is False after a failure. Return end-of-run files."""
        ...


@runtime_checkable
class AsyncCaptureSession(Protocol):
    """Records frames on an event loop."""

    async def open_async(self) -> None:
        """Set everything up; called once before the first frame."""
        ...

    async def capture_async(self, index: int) -> list[Path]:
        """Record frame ``index`` on every render product; return the files it writes, if known."""
        ...

    def completed(self) -> dict[int, list[Path]]:
        """Frames whose files are all on disk since the last call (frame -> files)."""
        ...

    def pause(self) -> None:
        """The job paused."""
        ...

    def resume(self) -> None:
        """The job resumed."""
        ...

    async def idle_async(self) -> None:
        """Wait a moment while paused (one app update inside Kit)."""
        ...

    async def close_async(self, ok: bool) -> list[Path]:
        """Flush and tear down; ``ok`` is False after a failure. Return end-of-run files."""
        ...


def write_error_message(exc: OSError, output_dir: Path) -> str:
    """A one-line explanation of a write failure (full disk, read-only, no permission, ...)."""
    file = exc.path if isinstance(exc, WriteError) else exc.filename
    where = f" ({file})" if file else ""
    return f"writing to {output_dir} failed: {write_error_reason(exc)}{where}"
