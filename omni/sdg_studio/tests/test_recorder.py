"""Synthetic Data Recorder in Kit: the recorder on Replicator, the window's buttons, "Record N Frames", and what
stops a recording (Stop while paused, a closing stage) whether or not the window is open.

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
import omni.replicator.core as rep
import omni.timeline
import omni.usd

from omni.sdg_studio.core.recorder.config import BASIC_WRITER_FLAGS, OutputPolicy, RecorderConfig
from omni.sdg_studio.core.recorder.job import JobState
from omni.sdg_studio.core.recorder.model import RecorderModel
from omni.sdg_studio.core.recorder.output_policy import OutputFolderError
from omni.sdg_studio.core.render_backend import RenderProduct
from omni.sdg_studio.kit.names import MENU_ROOT, RECORD_N_FRAMES_MENU, RECORDER_TITLE
from omni.sdg_studio.kit.recorder_host import RecorderHost, replicator_writer_names
from omni.sdg_studio.kit.recorder_window import RecorderWindow
from omni.sdg_studio.tests.kit_ui import close_panels, open_panel, running_extension, updates

NUM_FRAMES = 5
CAMERA = "/OmniverseKit_Persp"
START_BUTTON = f"{RECORDER_TITLE}//Frame/**/Button[*].text=='Start'"
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


class InitParamsWriter(rep.Writer):
    """A writer whose parameters are on ``__init__``, as Isaac Sim's getting-started example declares them."""

    def __init__(self, threshold: float = 0.5, classes: int = 3) -> None:
        self.annotators = []

    def write(self, data: dict) -> None: ...


class TestRecorder(omni.kit.test.AsyncTestCase):
    async def setUp(self) -> None:
        await omni.kit.app.get_app().next_update_async()
        await omni.usd.get_context().new_stage_async()
        await omni.kit.app.get_app().next_update_async()
        self.out_root = Path(tempfile.mkdtemp(prefix="sdg_recorder_test_"))
        extension = running_extension()
        # A recorder of its own per test (the extension's one is used by the window tests, restored afterwards).
        self.host = RecorderHost(extension.recorder.line, extension.tasks)
        self.host.model.last_config_path = self.out_root / "state" / "last_config.json"
        self.shared = extension.recorder.model
        self.shared_config, self.shared_path = self.shared.config.copy(), self.shared.last_config_path
        self.shared.last_config_path = self.out_root / "shared_state" / "last_config.json"

    async def tearDown(self) -> None:
        self.host.destroy()
        self.shared.config, self.shared.last_config_path = self.shared_config, self.shared_path
        await close_panels()
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

    def configure(self, model: RecorderModel, folder: str, frames: int = NUM_FRAMES, **flags: bool) -> RecorderModel:
        model.config = RecorderConfig()
        model.config.render_products = [RenderProduct(CAMERA, 512, 512)]
        model.config.basic_writer_params = {flag: flags.get(flag, False) for flag in BASIC_WRITER_FLAGS}
        model.set_output(working_dir=str(self.out_root), folder=folder)
        model.set_control(frames=frames, rt_subframes=0)
        return model

    async def wait_until(self, condition, what: str) -> None:
        for _ in range(MAX_UPDATES):
            if condition():
                return
            await omni.kit.app.get_app().next_update_async()
        self.fail(f"not {what} after {MAX_UPDATES} updates")

    async def record(self, play_timeline: bool, control_timeline: bool) -> None:
        await self.add_labeled_prims()
        model = self.configure(self.host.model, f"play_{play_timeline}_control_{control_timeline}", rgb=True)
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
        model = self.configure(self.host.model, "depth", distance_to_camera=True)
        self.assertIs(await model.start_async(), JobState.FINISHED, model.message)
        assert model.output_dir is not None
        self.assertEqual(count(model.output_dir, ".npy"), NUM_FRAMES)
        self.assertEqual(count(model.output_dir, ".png"), 0)

    async def test_unlabeled_stage_asks_before_recording(self) -> None:
        await self.add_labeled_prims(labeled=False)
        model = self.configure(self.host.model, "unlabeled", rgb=True, semantic_segmentation=True)
        self.assertIs(await model.start_async(), JobState.IDLE)
        self.assertTrue(any("semantic labels" in str(issue) for issue in model.pending_issues))
        self.assertFalse((self.out_root / "unlabeled").exists(), "nothing may be written before the answer")
        self.assertIs(await model.start_async(confirmed=True), JobState.FINISHED, model.message)

    async def test_output_policy(self) -> None:
        await self.add_labeled_prims()
        model = self.configure(self.host.model, "policy", rgb=True)
        await model.start_async()
        with self.assertRaises(OutputFolderError):
            await model.start_async()
        model.set_output(policy=OutputPolicy.INCREMENT)
        self.assertIs(await model.start_async(), JobState.FINISHED)
        self.assertEqual(model.output_dir, self.out_root / "policy_0001")

    async def test_an_unwritable_last_config_does_not_stop_a_recording(self) -> None:
        await self.add_labeled_prims()
        blocker = self.out_root / "read_only_install"
        blocker.write_text("a file where the state folder would be")
        model = self.configure(self.host.model, "unwritable", rgb=True)
        model.last_config_path = blocker / "data" / "last_config.json"
        self.assertIs(await model.start_async(), JobState.FINISHED, model.message)

    async def test_stop_while_paused_with_rt_subframes_ends_the_recording(self) -> None:
        await self.add_labeled_prims()
        model = self.configure(self.host.model, "paused_stop", frames=0, rgb=True)
        model.set_control(rt_subframes=2)
        task = self.host.start(confirmed=True)
        await self.wait_until(lambda: model.progress is not None and model.progress.done >= 2, "recording")
        model.pause()
        await updates(5)
        model.stop()
        await self.wait_until(lambda: task.done(), "stopped")
        self.assertIs(model.state, JobState.STOPPED, model.message)

    async def test_a_closing_stage_stops_the_recording_at_once(self) -> None:
        await self.add_labeled_prims()
        model = self.configure(self.host.model, "stage_close", frames=0, rgb=True)
        task = self.host.start(confirmed=True)
        await self.wait_until(lambda: model.progress is not None and model.progress.done >= 2, "recording")
        session = self.host.session
        assert session is not None
        omni.usd.get_context().close_stage()
        await updates(3)
        self.assertTrue(session.aborted, "the recorder must tear down when the stage closes")
        await self.wait_until(lambda: task.done(), "stopped")
        self.assertTrue(model.state.ended, model.message)

    async def test_typed_fields_come_from_a_writers_init_and_node_writers_are_not_listed(self) -> None:
        rep.writers.register_writer(InitParamsWriter)
        rep.writers.register_node_writer(
            name="SdgStudioTestNodeWriter",
            node_type_id="omni.sdg_studio.test.NoSuchNode",
            annotators=["rgb"],
            category="omni.sdg_studio.tests",
        )
        try:
            specs = {spec.name: (spec.kind, spec.default) for spec in self.host.param_specs("InitParamsWriter")}
            self.assertEqual(specs, {"threshold": ("float", 0.5), "classes": ("int", 3)})
            names = replicator_writer_names()
            self.assertIn("InitParamsWriter", names)
            self.assertIn("SdgStudioTestNodeWriter", rep.WriterRegistry.get_writers())
            self.assertNotIn("SdgStudioTestNodeWriter", names)
        finally:
            rep.writers.unregister_writer("InitParamsWriter")
            rep.writers.unregister_writer("SdgStudioTestNodeWriter")

    async def test_window_start_button_records(self) -> None:
        await self.add_labeled_prims()
        window = await open_panel(RECORDER_TITLE)
        self.assertIsInstance(window, RecorderWindow, "the menu entry must open the recorder window")
        assert isinstance(window, RecorderWindow)
        model = self.configure(window.model, "window", rgb=True)
        model.config.render_products = [RenderProduct(CAMERA, 256, 256)]
        model.set_output(policy=OutputPolicy.INCREMENT)
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

    async def test_closing_the_window_does_not_stop_a_recording(self) -> None:
        await self.add_labeled_prims()
        window = await open_panel(RECORDER_TITLE)
        assert isinstance(window, RecorderWindow)
        model = self.configure(window.model, "closed_window", frames=30, rgb=True)
        model.config.render_products = [RenderProduct(CAMERA, 128, 128)]
        task = window.host.start(confirmed=True)
        await self.wait_until(lambda: model.state is JobState.RUNNING, "recording")
        await close_panels()
        await self.wait_until(lambda: task.done(), "finished")
        self.assertIs(model.state, JobState.FINISHED, model.message)
        assert model.output_dir is not None
        self.assertEqual(count(model.output_dir, ".png"), 30)

    async def test_record_n_frames_menu_uses_the_last_config(self) -> None:
        await self.add_labeled_prims()
        model = self.configure(self.shared, "menu", frames=3, rgb=True)
        model.config.render_products = [RenderProduct(CAMERA, 128, 128)]
        model.set_output(policy=OutputPolicy.INCREMENT)
        self.assertTrue(model.save_last_config())
        model.set_control(frames=50)  # not saved: the menu entry records the last saved config
        await ui_test.menu_click(f"{MENU_ROOT}/SDG Studio/{RECORD_N_FRAMES_MENU}")
        await self.wait_until(lambda: model.state.ended, "recorded")
        self.assertIs(model.state, JobState.FINISHED, model.message)
        assert model.output_dir is not None
        self.assertEqual(count(model.output_dir, ".png"), 3)
