"""Annotator Visualizer in Kit, on the shipped sample scene: opens from the menu, previews a camera on Refresh
and while playing, and releases its annotators and render product when hidden or when the stage closes.

These run inside Kit through omni.kit.test (see ``__init__.py``), not in the pytest suite.
"""

import omni.kit.app
import omni.kit.test
import omni.kit.ui_test as ui_test
import omni.timeline
import omni.usd

from omni.sdg_studio.core.visualize.model import VisualizerState
from omni.sdg_studio.core.visualize.tiles import TileStatus
from omni.sdg_studio.kit.names import VISUALIZER_TITLE
from omni.sdg_studio.kit.visualizer_window import REFRESH, VisualizerWindow
from omni.sdg_studio.resources import SAMPLE_SCENE
from omni.sdg_studio.tests.kit_ui import close_panels, open_panel, running_extension, updates

#: The sample warehouse's overhead camera: crates, pallets, a forklift and cones in view, all labelled.
CAMERA = "/World/Cameras/TopCam"
REFRESH_BUTTON = f"{VISUALIZER_TITLE}//Frame/**/Button[*].text=='{REFRESH}'"
MAX_UPDATES = 120


class TestAnnotatorVisualizer(omni.kit.test.AsyncTestCase):
    async def setUp(self) -> None:
        await omni.kit.app.get_app().next_update_async()
        opened, error = await omni.usd.get_context().open_stage_async(str(SAMPLE_SCENE))
        self.assertTrue(opened, error)
        await omni.kit.app.get_app().next_update_async()

    async def tearDown(self) -> None:
        await close_panels()
        running_extension().visualizer.select_camera(None)
        timeline = omni.timeline.get_timeline_interface()
        if timeline.is_playing():
            timeline.stop()
            timeline.commit()
            await omni.kit.app.get_app().next_update_async()
        omni.usd.get_context().close_stage()
        await omni.kit.app.get_app().next_update_async()
        while omni.usd.get_context().get_stage_loading_status()[2] > 0:
            await omni.kit.app.get_app().next_update_async()

    async def _open(self) -> VisualizerWindow:
        window = await open_panel(VISUALIZER_TITLE)
        self.assertIsInstance(window, VisualizerWindow, "the menu entry must open the visualizer window")
        assert isinstance(window, VisualizerWindow)
        window.scan_cameras()
        return window

    async def _refresh_until_live(self, window: VisualizerWindow) -> None:
        refresh = ui_test.find(REFRESH_BUTTON)
        self.assertIsNotNone(refresh, f"no button at {REFRESH_BUTTON}")
        assert refresh is not None
        await refresh.click()
        for _ in range(MAX_UPDATES):
            await omni.kit.app.get_app().next_update_async()
            if window.model.state is VisualizerState.LIVE:
                return
        self.fail(f"no data after {MAX_UPDATES} updates: {window.model.status}")

    async def test_refresh_previews_the_chosen_camera_with_labels(self) -> None:
        window = await self._open()
        self.assertIn(CAMERA, window.model.cameras)
        window.model.select_camera(CAMERA)
        await self._refresh_until_live(window)
        self.assertTrue(window.source.attached)
        tiles = {tile.name: tile for tile in window.model.tiles}
        self.assertEqual(tiles["rgb"].status, TileStatus.OK, tiles["rgb"].note)
        self.assertLessEqual(
            {"crate", "pallet", "forklift"}, {entry.label for entry in tiles["semantic_segmentation"].legend}
        )
        self.assertTrue(tiles["bounding_box_2d_tight"].note.endswith("boxes"), tiles["bounding_box_2d_tight"].note)

    async def test_first_frames_wait_instead_of_failing(self) -> None:
        window = await self._open()
        window.model.select_camera(CAMERA)
        await self._refresh_until_live(window)
        self.assertFalse(any(tile.status is TileStatus.ERROR for tile in window.model.tiles), window.model.status)

    async def test_playing_refreshes_at_the_set_rate(self) -> None:
        window = await self._open()
        window.model.select_camera(CAMERA)
        await self._refresh_until_live(window)
        received = window.model.frames_received
        window.model.set_refresh_hz(60)
        timeline = omni.timeline.get_timeline_interface()
        timeline.play()
        timeline.commit()
        for _ in range(30):
            await omni.kit.app.get_app().next_update_async()
        self.assertGreater(window.model.frames_received, received + 1, "no refresh while the timeline plays")

    async def test_hiding_the_window_releases_annotators(self) -> None:
        window = await self._open()
        window.model.select_camera(CAMERA)
        await self._refresh_until_live(window)
        window.visible = False
        await updates(3)
        self.assertFalse(window.source.attached, "annotators still attached after the window closed")
        reopened = await self._open()
        self.assertIs(reopened.model, window.model, "the visualizer model outlives its window")
        self.assertEqual(reopened.model.camera, CAMERA, "the chosen camera is kept while the window is closed")

    async def test_stage_close_clears_the_preview(self) -> None:
        window = await self._open()
        window.model.select_camera(CAMERA)
        await self._refresh_until_live(window)
        omni.usd.get_context().close_stage()
        for _ in range(3):
            await omni.kit.app.get_app().next_update_async()
        self.assertFalse(window.source.attached)
        self.assertEqual(window.model.tiles, [])
        self.assertEqual(window.model.cameras, [])
