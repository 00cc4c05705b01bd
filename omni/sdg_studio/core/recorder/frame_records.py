"""``sdg_randomization.jsonl``: what the randomization drew for each finished frame, one JSON line per frame.

A line is appended once a frame's files are on disk and before the manifest lists the frame as done, so
at any moment, a killed run included, every frame the manifest lists has its line; the file may also
hold lines of frames the manifest does not list yet, and a last line cut short by the kill. A resumed run
keeps exactly the lines of the frames the manifest lists, in frame order (:meth:`FrameRecordsFile.keep`,
remaking a line that is missing), and a run that finished frames out of order puts the lines in frame
order at its end (:meth:`FrameRecordsFile.finish`): the file ends byte for byte as one uninterrupted run
writes it. Each line is ``FrameRecord.to_json()`` (compact JSON).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import BinaryIO

from omni.sdg_studio.core.atomic import atomic_write
from omni.sdg_studio.core.randomize.record import FrameRecord

RECORDS_NAME = "sdg_randomization.jsonl"


def record_line(record: FrameRecord) -> str:
    """One frame's line (compact JSON, newline-terminated)."""
    return json.dumps(record.to_json(), separators=(",", ":")) + "\n"


class FrameRecordsFile:
    """The per-frame record file of one recording."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._last = -1  # highest frame written since the file was last put in order
        self._in_order = True

    def append(self, record: FrameRecord) -> None:
        """Add a finished frame's line (one write of the whole line)."""
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(record_line(record))
        if record.frame <= self._last:
            self._in_order = False
        self._last = max(self._last, record.frame)

    def keep(self, frames: Collection[int], make: Callable[[int], FrameRecord]) -> list[int]:
        """Keep the lines of ``frames`` only, in frame order, remaking missing ones with ``make(frame)``;
        rewrite the file atomically (only if that changes it) and return the frames whose line was remade."""
        lines = self._read()
        remade = [frame for frame in sorted(frames) if frame not in lines]
        for frame in remade:
            lines[frame] = record_line(make(frame))
        kept = [lines[frame] for frame in sorted(frames)]
        if not self.path.is_file() or "".join(kept).encode("utf-8") != self.path.read_bytes():
            self._write(kept)
        self._last, self._in_order = max(frames, default=-1), True
        return remade

    def finish(self) -> None:
        """Put the lines in frame order, one per frame, if frames finished out of order."""
        if self._in_order:
            return
        lines = self._read()
        self._write(lines[frame] for frame in sorted(lines))
        self._in_order = True

    def _read(self) -> dict[int, str]:
        """Frame -> its line (the last one of a frame wins); lines cut short or unreadable are skipped."""
        lines: dict[int, str] = {}
        try:
            with open(self.path, encoding="utf-8") as handle:
                for text in handle:
                    frame = _frame_of(text)
                    if frame is not None:
                        lines[frame] = text
        except FileNotFoundError:
            pass
        return lines

    def _write(self, lines: Iterable[str]) -> None:
        def fill(handle: BinaryIO) -> None:
            for line in lines:
                handle.write(line.encode("utf-8"))

        atomic_write(self.path, fill, durable=True)


def _frame_of(text: str) -> int | None:
    """The frame of a complete record line, else None."""
    if not text.endswith("\n"):
        return None
    try:
        frame = json.loads(text)["frame"]
    except (ValueError, KeyError, TypeError):
        return None
    return frame if isinstance(frame, int) and not isinstance(frame, bool) else None
