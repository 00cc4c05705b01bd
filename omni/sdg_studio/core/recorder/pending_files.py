"""``.sdg_pending_frames.jsonl``: the files of frames captured but not yet listed by a saved manifest.

The manifest is saved every ``manifest_interval`` seconds, so a killed run can leave complete files of
frames that the manifest never listed. Resuming re-records the frames it still needs (the files are
overwritten), but a resume with a smaller ``--frames`` (e.g. after an endless run) would keep the others
as strays: files a dataset reader finds but the manifest does not know. This journal holds one line per
captured frame (its index and the files its writer scheduled) until a saved manifest lists the frame;
resuming deletes the unlisted frames' files (never a file a listed frame or the end files own) before
anything is recorded. A run that ends with every captured frame listed leaves no journal behind.
"""

from __future__ import annotations

import json
from pathlib import Path

from omni.sdg_studio.core.atomic import atomic_write_text
from omni.sdg_studio.core.recorder.manifest import Manifest

PENDING_NAME = ".sdg_pending_frames.jsonl"


class PendingFrameFiles:
    """The journal of one recording's folder (see the module docstring)."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.path = manifest.output_dir / PENDING_NAME
        self._pending: dict[int, list[str]] = {}

    def add(self, index: int, files: list[Path]) -> None:
        """Journal frame ``index`` as captured, with the files its writer scheduled (one appended line), named
        as the manifest names them: hidden bookkeeping files (e.g. a COCO journal other frames share) left out."""
        names = self.manifest.relative(files)
        self._pending[index] = names
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(_line(index, names))

    def listed(self) -> None:
        """Forget the frames the manifest (just saved) lists; rewrite or remove the journal to match."""
        before = len(self._pending)
        self._pending = {i: names for i, names in self._pending.items() if i not in self.manifest.frames}
        if not self._pending:
            self.path.unlink(missing_ok=True)
        elif len(self._pending) != before:
            atomic_write_text(self.path, "".join(_line(i, names) for i, names in self._pending.items()))

    def sweep(self) -> list[Path]:
        """Delete the files of journaled frames the manifest does not list (a killed run's strays), except
        files a listed frame or the end files own; remove the journal; return the deleted files."""
        manifest = self.manifest
        owned = {name for names in manifest.frames.values() for name in names} | set(manifest.end_files)
        root = manifest.output_dir.resolve()
        removed = []
        for index, names in _read(self.path).items():
            if index in manifest.frames:
                continue
            for name in names:
                file = manifest.output_dir / name
                inside = file.resolve().is_relative_to(root)  # the journal is data: never outside the folder
                if inside and name not in owned and file.is_file():
                    file.unlink()
                    removed.append(file)
        self.path.unlink(missing_ok=True)
        self._pending = {}
        return removed


def _line(index: int, names: list[str]) -> str:
    return json.dumps({"frame": index, "files": names}, separators=(",", ":")) + "\n"


def _read(path: Path) -> dict[int, list[str]]:
    """Frame -> its files; a last line cut short by a kill is skipped."""
    entries: dict[int, list[str]] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return entries
    for line in text.splitlines():
        try:
            entry = json.loads(line)
            entries[int(entry["frame"])] = [str(name) for name in entry["files"]]
        except (ValueError, KeyError, TypeError):
            continue
    return entries
