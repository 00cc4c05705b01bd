"""Compare two recorded datasets byte for byte: every file, and the manifests but for their run-time fields."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from omni.sdg_studio.core.recorder.merge import CONFIG_LOCATION_FIELDS, RUN_FIELDS
from omni.sdg_studio.core.recorder.output_policy import MANIFEST_NAME

#: The manifest fields a merged dataset may differ in from a single run (docs/scale_out.md): when and how
#: the runs went, and where they wrote. The frames' file lists and the end files are compared.
MERGE_RUN_FIELDS = tuple(
    name for name in RUN_FIELDS if name not in ("state", "message", "frames", "frames_done", "end_files")
)


def file_digests(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones included) but the manifest -> its SHA-256."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST_NAME
    }


def manifest_without_run_fields(folder: Path) -> dict[str, Any]:
    """The manifest of ``folder`` without the fields a merge may change."""
    data = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    for name in MERGE_RUN_FIELDS:
        data.pop(name)
    for path in CONFIG_LOCATION_FIELDS:
        node = data["config"]
        for key in path[:-1]:
            node = node[key]
        node.pop(path[-1], None)
    return data


def assert_same_dataset(single: Path, merged: Path) -> int:
    """Assert ``merged`` holds the files of ``single`` byte for byte and the same manifest but its run-time
    fields; return the number of files compared."""
    expected, found = file_digests(single), file_digests(merged)
    assert sorted(found) == sorted(expected), (sorted(set(expected) - set(found)), sorted(set(found) - set(expected)))
    differing = [name for name in expected if expected[name] != found[name]]
    assert not differing, f"files differ: {differing}"
    assert manifest_without_run_fields(merged) == manifest_without_run_fields(single)
    return len(expected)
