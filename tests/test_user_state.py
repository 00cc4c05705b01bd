"""User state lives in the host's data folder or the user's config folder; a failed write never stops recording."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from test_recorder_model import make_model

from omni.sdg_studio.core.recorder.job import JobState
from omni.sdg_studio.core.user_state import STATE_FOLDER, user_config_dir, user_state_dir


def test_the_hosts_data_folder_wins(tmp_path: Path):
    assert (
        user_state_dir(tmp_path / "kit-data", environ={"XDG_CONFIG_HOME": "/x"}) == tmp_path / "kit-data" / STATE_FOLDER
    )


def test_without_a_host_folder_the_users_config_folder_is_used():
    assert user_state_dir(None, environ={"XDG_CONFIG_HOME": "/cfg", "HOME": "/h"}, platform="linux") == Path(
        "/cfg/sdg_studio"
    )
    assert user_state_dir("", environ={"HOME": "/h"}, platform="linux") == Path("/h/.config/sdg_studio")
    assert user_config_dir({"APPDATA": "C:/Users/u/AppData/Roaming", "HOME": "/h"}, platform="win32") == Path(
        "C:/Users/u/AppData/Roaming"
    )


def test_an_unwritable_last_config_is_reported_and_recording_goes_on(tmp_path: Path, caplog):
    blocker = tmp_path / "read-only-install"
    blocker.write_text("a file where the config folder would be")  # writes below it fail (ENOTDIR), even as root
    model, factory = make_model(tmp_path)
    model.last_config_path = blocker / "data" / "last_config.json"
    assert model.save_last_config() is False
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            f"the recorder configuration was not remembered: cannot write {model.last_config_path}:"
            " a parent path is a file, not a folder",
        )
    ]
    assert asyncio.run(model.start_async()) is JobState.FINISHED  # Start saves it too: still one line, no failure
    assert factory.writers[0].batches == [0, 1, 2]


def test_a_writable_last_config_is_saved_and_read_back(tmp_path: Path):
    model, _ = make_model(tmp_path)
    model.set_control(frames=7)
    assert model.save_last_config() is True
    assert model.last_config_path is not None
    assert json.loads(model.last_config_path.read_text())["num_frames"] == 7
    fresh, _ = make_model(tmp_path)
    fresh.config.frames = 0
    fresh.load_config(model.last_config_path)
    assert fresh.config.frames == 7
