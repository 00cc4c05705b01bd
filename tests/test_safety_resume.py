"""A frame is a pure function of (config, seed, frame index): a recording made in pieces, stopped and
resumed (Ctrl+C, SIGTERM, a second Ctrl+C, SIGKILL), writes the same bytes as one made in one go.

Manifest and COCO times aside (they are wall-clock times), every file is compared, hidden ones too.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safety_recordings import ALL_BASIC, dataset, differences, make_config, record

from omni.sdg_studio.backends.embedded import SUPPORTED_ANNOTATORS, EmbeddedBackend
from omni.sdg_studio.core.recorder.recording import RecordingBackend

HERE = Path(__file__).resolve().parent


def in_pieces(out: Path, frames: int, stops: list[int], **config) -> None:
    """Record ``frames`` frames, stopping after each count of ``stops`` (frames of that run), resuming."""
    for index, count in enumerate(stops):
        record(make_config(out, frames, **config), resume=index > 0, stop_after=count)
    record(make_config(out, frames, **config), resume=bool(stops))


def test_twenty_frames_in_pieces_are_byte_identical_to_one_run(tmp_path: Path):
    record(make_config(tmp_path / "whole", 20, annotators=ALL_BASIC))
    in_pieces(tmp_path / "pieces", 20, [3, 6, 5], annotators=ALL_BASIC)  # stops after frames 3, 9 and 14
    whole = dataset(tmp_path / "whole")
    assert len(whole["sdg_manifest.json"]["frames"]) == 20
    assert differences(whole, dataset(tmp_path / "pieces")) == []


@pytest.mark.parametrize("writer", ["KittiWriter", "CocoWriter", "YoloWriter", "WebDatasetWriter"])
def test_every_writer_resumes_byte_identical(tmp_path: Path, writer: str):
    record(make_config(tmp_path / "whole", 8, writer=writer))
    in_pieces(tmp_path / "pieces", 8, [3, 2], writer=writer)
    assert differences(dataset(tmp_path / "whole"), dataset(tmp_path / "pieces")) == []


def test_extending_a_finished_recording_matches_recording_all_frames_at_once(tmp_path: Path):
    """``record --frames 4`` then ``--resume --frames 7`` (the issue's 8 then 20, smaller)."""
    record(make_config(tmp_path / "whole", 7))
    record(make_config(tmp_path / "grown", 4))
    record(make_config(tmp_path / "grown", 7), resume=True)
    assert differences(dataset(tmp_path / "whole"), dataset(tmp_path / "grown")) == []


_WHOLE: dict[str, object] = {}


def whole_six(root: Path) -> dict[str, object]:
    if not _WHOLE:
        record(make_config(root / "whole6", 6, resolution=(16, 12)))
        _WHOLE.update(dataset(root / "whole6"))
    return _WHOLE


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stops=st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=3))
def test_any_interruption_points_give_the_same_bytes(tmp_path_factory: pytest.TempPathFactory, stops: list[int]):
    expected = whole_six(tmp_path_factory.getbasetemp())
    out = tmp_path_factory.mktemp("pieces")
    in_pieces(out, 6, stops, resolution=(16, 12))
    assert differences(expected, dataset(out)) == []


# ---- real signals, through the command's own handling ---------------------------------------------
def start(out: Path, frames: int, *, resume: bool = False) -> subprocess.Popen:
    script = [sys.executable, str(HERE / "safety_recordings.py"), str(out), str(frames)]
    return subprocess.Popen(
        [*script, *(["--resume"] if resume else [])], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def frames_done(out: Path) -> int:
    try:
        return len(json.loads((out / "sdg_manifest.json").read_text())["frames"])
    except (OSError, ValueError, KeyError):
        return 0


def interrupt(process: subprocess.Popen, out: Path, after: int, signals: Sequence[int]) -> int:
    """Send ``signals`` once the recording in ``out`` has ``after`` frames done; return the exit status."""
    deadline = time.monotonic() + 120
    while frames_done(out) < after and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    for number in signals:
        process.send_signal(number)
    process.communicate(timeout=120)
    return process.returncode


def test_sigint_sigterm_double_sigint_and_sigkill_then_resume_give_the_same_bytes(tmp_path: Path):
    frames = 14
    record(make_config(tmp_path / "whole", frames))
    out = tmp_path / "pieces"
    runs = [
        ([signal.SIGINT], 2, 130),
        ([signal.SIGTERM], 5, 130),
        ([signal.SIGINT, signal.SIGINT], 8, 130),
        ([signal.SIGKILL], 11, -signal.SIGKILL),
    ]
    stopped_at = []
    for index, (signals, after, status) in enumerate(runs):
        assert interrupt(start(out, frames, resume=index > 0), out, after, signals) == status
        stopped_at.append(frames_done(out))
    final = start(out, frames, resume=True)
    _, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    assert stopped_at == sorted(stopped_at) and stopped_at[-1] < frames  # each stop came mid-recording
    assert not list(out.rglob(".sdg-tmp-*"))  # the killed run's half-written files were swept on resume
    assert differences(dataset(tmp_path / "whole"), dataset(out)) == []


# ---- the Embree engine ----------------------------------------------------------------------------
EMBREE = RecordingBackend(EmbeddedBackend, SUPPORTED_ANNOTATORS)


def test_embree_frames_do_not_depend_on_the_frames_rendered_before(tmp_path: Path):
    """The issue's case, cut down (demo cameras at 640x480, seed 5): frame 1 of PalletCam once differed when
    the Embree engine kept a batch scene sized by the first camera across frames."""
    config = {"annotators": ("bounding_box_2d_tight",), "resolution": (640, 480), "seed": 5}
    record(make_config(tmp_path / "whole", 2, **config), backend=EMBREE)
    record(make_config(tmp_path / "pieces", 2, **config), backend=EMBREE, stop_after=1)
    record(make_config(tmp_path / "pieces", 2, **config), backend=EMBREE, resume=True)
    assert differences(dataset(tmp_path / "whole"), dataset(tmp_path / "pieces")) == []
