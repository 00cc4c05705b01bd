import numpy as np
import pytest
import visualize_samples as samples

from omni.sdg_studio.core.visualize.model import STALL_FRAMES, VisualizerModel, VisualizerState
from omni.sdg_studio.core.visualize.tiles import TileStatus


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _model(**kwargs) -> tuple[VisualizerModel, FakeClock]:
    clock = FakeClock()
    return VisualizerModel(clock=clock, **kwargs), clock


def test_refresh_is_throttled_to_the_rate():
    model, clock = _model(refresh_hz=4.0)
    assert model.due()  # first frame is requested
    model.submit(samples.frame())
    assert not model.due()
    clock.now += 0.2
    assert not model.due()
    clock.now += 0.06
    assert model.due()


def test_zero_rate_and_pause_refresh_only_on_request():
    model, clock = _model(refresh_hz=0.0)
    model.submit(samples.frame())
    clock.now += 100
    assert not model.due()
    model.request_refresh()
    assert model.due()
    model.set_refresh_hz(10)
    model.submit(samples.frame())
    model.set_paused(True)
    clock.now += 100
    assert not model.due() and model.state is VisualizerState.PAUSED
    model.request_refresh()
    assert model.due()
    with pytest.raises(ValueError, match=r"0\.\.60"):
        model.set_refresh_hz(500)


def test_first_empty_frames_wait_then_go_live():
    model, _ = _model(selected=["rgb", "semantic_segmentation"])
    empty = {"rgb": np.zeros((0,), np.uint8), "semantic_segmentation": None}
    model.submit(empty)
    model.submit(empty)
    assert model.state is VisualizerState.WAITING and model.empty_frames == 2
    assert all(t.status is TileStatus.WAITING for t in model.tiles)
    assert "waiting for the first rendered frame (2)" in model.status
    model.submit(samples.frame())
    assert model.state is VisualizerState.LIVE and model.last_frame is not None
    assert all(t.status is TileStatus.OK for t in model.tiles)


def test_a_stalled_preview_says_what_to_do():
    model, _ = _model(selected=["rgb"])
    for _ in range(STALL_FRAMES):
        model.submit({"rgb": None})
    assert "still no data" in model.status and "Play" in model.status


def test_a_momentarily_empty_tile_keeps_its_last_image():
    model, _ = _model(selected=["rgb", "distance_to_image_plane"])
    model.submit(samples.frame())
    before = model.tiles[1].image
    frame = samples.frame()
    frame["distance_to_image_plane"] = np.zeros((0,), np.float32)
    model.submit(frame)
    assert model.tiles[1].image is before and model.state is VisualizerState.LIVE


def test_selection_keeps_replicator_order_and_attaches_helpers():
    model, _ = _model(selected=["bounding_box_3d"])
    assert model.attachment.annotators == ("bounding_box_3d", "rgb", "camera_params")
    model.set_annotator("rgb", True)
    model.set_annotator("occlusion", True)
    assert model.selected == ["rgb", "bounding_box_3d", "occlusion"]
    assert "instance_segmentation" in model.attachment.annotators
    model.set_annotator("bounding_box_3d", False)
    assert "camera_params" not in model.attachment.annotators
    with pytest.raises(ValueError, match="unknown annotator"):
        model.set_annotator("lidar", True)


def test_camera_choice_resets_the_preview_and_must_exist():
    model, _ = _model()
    model.set_cameras(["/World/Cam1", "/World/Cam2"])
    model.submit(samples.frame())
    changes = []
    model.subscribe(lambda: changes.append(model.camera))
    model.select_camera("/World/Cam2")
    assert model.tiles == [] and model.state is VisualizerState.IDLE and changes == ["/World/Cam2"]
    assert model.attachment.camera == "/World/Cam2" and model.due()
    with pytest.raises(ValueError, match="not a camera"):
        model.select_camera("/World/Light")
    model.set_cameras(["/World/Cam1"])
    assert model.camera is None, "a camera that disappeared falls back to the active viewport"


def test_image_fills_the_window_and_changes_with_options():
    model, _ = _model(selected=["rgb", "distance_to_image_plane", "semantic_segmentation"])
    placeholder = model.image(400, 300)
    assert placeholder.shape[2] == 4
    model.submit(samples.frame())
    wide = model.image(800, 400)
    assert wide.shape[1] <= 800 and wide.shape[0] <= 400 + 120
    assert model.image(800, 400) is wide  # cached while nothing changes
    model.set_options(segmentation_over_rgb=True)
    assert model.image(800, 400) is not wide
    seg = model.tiles[2].image
    assert tuple(seg[0, 0, :3]) == tuple(samples.frame()["rgb"][0, 0, :3])


def test_unsubscribe_stops_notifications():
    model, _ = _model()
    calls = []
    unsubscribe = model.subscribe(lambda: calls.append(1))
    model.set_refresh_hz(2)
    unsubscribe()
    model.set_refresh_hz(3)
    assert calls == [1]


def test_stage_cameras_lists_the_sample_scene_cameras(sample_scene):
    from omni.sdg_studio.core.stage_io import open_stage
    from omni.sdg_studio.core.visualize.cameras import stage_cameras

    cameras = stage_cameras(open_stage(sample_scene))
    assert cameras == ["/World/Cameras/TopCam", "/World/Cameras/DriverCam", "/World/Cameras/PalletCam"]


def test_refresh_follows_the_timeline_and_a_requested_refresh_retries_until_data_arrives():
    model, clock = _model(refresh_hz=10.0, selected=["rgb"])
    model.submit(samples.frame())
    clock.now += 1
    assert model.due(playing=True) and not model.due(playing=False)
    model.request_refresh()
    model.submit({"rgb": None})  # the first render after Refresh is still empty
    assert model.due(playing=False), "keeps asking while the frames are empty"
    model.submit(samples.frame())
    assert not model.due(playing=False)
