"""Synthetic Data Recorder in Kit: the RecorderModel on Replicator, the window's buttons and "Record N Frames".

Written like Isaac Sim's own recorder tests (isaacsim.replicator.synthetic_recorder tests: 5 frames at 512x512,
file counts per extension, timeline state after the run). They run inside Kit through omni.kit.test (see
``__init__.py``), not in the pytest suite.
"""

import shutil
import tempfile
from pathlib import Path

import omni.kit.app
import omni.kit.test
import omni.kit.ui_test as ui_test
import omni.timeline
import omni.ui as ui
import omni.usd

from omni.sdg_studio.core.recorder.config import BASIC_WRITER_FLAGS, OutputPolicy
from omni.sdg_studio.core.recorder.job import JobState
from omni.sdg_studio.core.recorder.model import RecorderModel
from omni.sdg_studio.core.recorder.output_policy import OutputFolderError
from omni.sdg_studio.core.render_backend import RenderProduct
from omni.sdg_studio.kit.extension import MENU_GROUP, MENU_ROOT, RECORDER
from omni.sdg_studio.kit.recorder_setup import make_recorder_model
from omni.sdg_studio.kit.recorder_window import RecorderWindow

NUM_FRAMES = 5
CAMERA = "/OmniverseKit_Persp"
EXTENSION_ID = "omni.sdg_studio"
START_BUTTON = f"{RECORDER}//Frame/**/Button[*].text=='Start'"
MAX_UPDATES = 600
#: A cube and a sphere, labeled (UsdSemantics LabelsAPI) when {labels} is filled in.
SCENE = """#usda 1.0
(
    defaultPrim = "World"
    upAxis = "Z"
)
def Xform "World"
{{
    def Cube "Cube" ({api})
    {{
        {cube}
    }}
    def Sphere "Sphere" ({api})
    {{
        double3 xformOp:translate = (1, 1, 0)
        uniform token[] xformOpOrder = ["xformOp:translate"]
        {sphere}
    }}
}}
"""


def count(folder: Path, suffix: str) -> int:
    return sum(1 for _ in folder.rglob(f"*{suffix}"))


class TestRecorder(omni.kit.test.AsyncTestCase):
    async def setUp(self) -> None:
        await omni.kit.app.get_app().next_update_async()
        await omni.usd.get_context().new_stage_async()
        await omni.kit.app.get_app().next_update_async()
        self.out_root = Path(tempfile.mkdtemp(prefix="sdg_recorder_test_"))

    async def tearDown(self) -> None:
        timeline = omni.timeline.get_timeline_interface()
        if timeline.is_playing():
            timeline.stop()
            timeline.commit()
        await omni.kit.app.get_app().next_update_async()
        while omni.usd.get_context().get_stage_loading_status()[2] > 0:
            await omni.kit.app.get_app().next_update_async()
        shutil.rmtree(self.out_root, ignore_errors=True)

    async def add_labeled_prims(self, labeled: bool = True) -> None:
        """Open a stage with a cube and a sphere, labeled 'cube' / 'sphere' in the class taxonomy if ``labeled``."""
        api = 'prepend apiSchemas = ["SemanticsLabelsAPI:class"]' if labeled else ""
        text = SCENE.format(
            api=api,
            cube='token[] semantics:labels:class = ["cube"]' if labeled else "",
            sphere='token[] semantics:labels:class = ["sphere"]' if labeled else "",
        )
        path = self.out_root / "scene.usda"
        path.write_text(text)
        opened, error = await omni.usd.get_context().open_stage_async(str(path))
        self.assertTrue(opened, error)
        await omni.kit.app.get_app().next_update_async()

    def model(self, folder: str, **flags: bool) -> RecorderModel:
        model = make_recorder_model(EXTENSION_ID)
        model.last_config_path = self.out_root / "last_config.json"
        model.config.render_products = [RenderProduct(CAMERA, 512, 512)]
        model.config.basic_writer_params = {flag: flags.get(flag, False) for flag in BASIC_WRITER_FLAGS}
        model.set_output(working_dir=str(self.out_root), folder=folder)
        model.set_control(frames=NUM_FRAMES, rt_subframes=0)
        return model

    async def record(self, play_timeline: bool, control_timeline: bool) -> None:
        await self.add_labeled_prims()
        model = self.model(f"play_{play_timeline}_control_{control_timeline}", rgb=True)
        model.set_control(control_timeline=control_timeline)
        timeline = omni.timeline.get_timeline_interface()
        if play_timeline:
            timeline.play()
            await omni.kit.app.get_app().next_update_async()
        self.assertEqual(timeline.is_playing(), play_timeline)
        state = await model.start_async()
        await omni.kit.app.get_app().next_update_async()
        self.assertIs(state, JobState.FINISHED, model.message)
        assert model.output_dir is not None
        self.assertEqual(count(model.output_dir, ".png"), NUM_FRAMES)
        manifest = (model.output_dir / "sdg_manifest.json").read_text()
        self.assertIn('"frames_done": 5', manifest)
        if control_timeline:
            self.assertFalse(timeline.is_playing(), "the recorder must stop the timeline it controls")
        elif play_timeline:
            self.assertTrue(timeline.is_playing(), "a timeline the recorder does not control keeps playing")
            self.assertGreater(timeline.get_current_time(), 0.0)

    async def test_record_timeline_stopped_not_controlled(self) -> None:
        await self.record(play_timeline=False, control_timeline=False)

    async def test_record_timeline_stopped_controlled(self) -> None:
        await self.record(play_timeline=False, control_timeline=True)

    async def test_record_timeline_playing_not_controlled(self) -> None:
        await self.record(play_timeline=True, control_timeline=False)

    async def test_record_timeline_playing_controlled(self) -> None:
        await self.record(play_timeline=True, control_timeline=True)

    async def test_depth_only_writes_npy_and_no_png(self) -> None:
        await self.add_labeled_prims()
        model = self.model("depth", distance_to_camera=True)
        self.assertIs(await model.start_async(), JobState.FINISHED, model.message)
        assert model.output_dir is not None
        self.assertEqual(count(model.output_dir, ".npy"), NUM_FRAMES)
        self.assertEqual(count(model.output_dir, ".png"), 0)

    async def test_unlabeled_stage_asks_before_recording(self) -> None:
        await self.add_labeled_prims(labeled=False)
        model = self.model("unlabeled", rgb=True, semantic_segmentation=True)
        self.assertIs(await model.start_async(), JobState.IDLE)
        self.assertTrue(any("semantic labels" in str(issue) for issue in model.pending_issues))
        self.assertFalse((self.out_root / "unlabeled").exists(), "nothing may be written before the answer")
        self.assertIs(await model.start_async(confirmed=True), JobState.FINISHED, model.message)

    async def test_output_policy(self) -> None:
        await self.add_labeled_prims()
        model = self.model("policy", rgb=True)
        await model.start_async()
        with self.assertRaises(OutputFolderError):
            await model.start_async()
        model.set_output(policy=OutputPolicy.INCREMENT)
        self.assertIs(await model.start_async(), JobState.FINISHED)
        self.assertEqual(model.output_dir, self.out_root / "policy_0001")

    async def test_window_start_button_records(self) -> None:
        await self.add_labeled_prims()
        await ui_test.menu_click(f"{MENU_GROUP}/{RECORDER}")
        await ui_test.human_delay()
        window = ui.Workspace.get_window(RECORDER)
        self.assertIsInstance(window, RecorderWindow, "the menu entry must open the recorder window")
        assert isinstance(window, RecorderWindow)
        model = window.model
        model.config.render_products = [RenderProduct(CAMERA, 256, 256)]
        model.config.basic_writer_params = {flag: flag == "rgb" for flag in BASIC_WRITER_FLAGS}
        model.set_output(working_dir=str(self.out_root), folder="window", policy=OutputPolicy.INCREMENT)
        model.set_control(frames=NUM_FRAMES)
        start = ui_test.find(START_BUTTON)
        self.assertIsNotNone(start, f"no button at {START_BUTTON}")
        assert start is not None
        await start.click()
        saw_stop = False
        for _ in range(MAX_UPDATES):
            await omni.kit.app.get_app().next_update_async()
            saw_stop = saw_stop or start.widget.text == "Stop"
            if model.state.ended:
                break
        self.assertTrue(saw_stop, "the Start button must read Stop while recording")
        self.assertIs(model.state, JobState.FINISHED, model.message)
        await omni.kit.app.get_app().next_update_async()
        self.assertEqual(start.widget.text, "Start")
        assert model.output_dir is not None
        self.assertEqual(count(model.output_dir, ".png"), NUM_FRAMES)

    async def test_record_n_frames_menu_uses_the_last_config(self) -> None:
        await self.add_labeled_prims()
        await ui_test.menu_click(f"{MENU_GROUP}/{RECORDER}")
        await ui_test.human_delay()
        window = ui.Workspace.get_window(RECORDER)
        assert isinstance(window, RecorderWindow)
        model = window.model
        model.config.render_products = [RenderProduct(CAMERA, 128, 128)]
        model.config.basic_writer_params = {flag: flag == "rgb" for flag in BASIC_WRITER_FLAGS}
        model.set_output(working_dir=str(self.out_root), folder="menu", policy=OutputPolicy.INCREMENT)
        model.set_control(frames=3)
        model.save_last_config()
        model.set_control(frames=50)  # not saved: the menu entry records the last saved config
        await ui_test.menu_click(f"{MENU_ROOT}/SDG Studio/Record N Frames")
        for _ in range(MAX_UPDATES):
            await omni.kit.app.get_app().next_update_async()
            if model.state.ended:
                break
        self.assertIs(model.state, JobState.FINISHED, model.message)
        assert model.output_dir is not None
        self.assertEqual(count(model.output_dir, ".png"), 3)
