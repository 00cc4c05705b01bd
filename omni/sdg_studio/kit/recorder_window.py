"""The "SDG Studio Synthetic Data Recorder" window: a thin omni.ui view of the extension's :class:`RecorderModel`.

Laid out like Isaac Sim's recorder (Render Products, Writer, Output, Config, Control) plus what SDG Studio adds:
any registered writer with typed parameter fields, the output-folder policy, a Randomization section (load / save
a scenario file, preview frame N on the open stage, cleared when the window closes), a progress bar with fps and
ETA, and a question before recording when the pre-record check finds something that would come out empty. The model and
its recording belong to :class:`RecorderHost` (the extension), so closing this window stops nothing and loses
nothing; every decision is the model's, this module builds widgets and forwards edits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import omni.ui as ui
import omni.usd
from omni.kit.menu.utils import MenuHelperWindow
from omni.kit.viewport.utility import get_active_viewport

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.config import BASIC_WRITER, BASIC_WRITER_FLAGS, OutputPolicy
from omni.sdg_studio.core.recorder.job import JobState
from omni.sdg_studio.kit.names import ISSUES_DIALOG_TITLE
from omni.sdg_studio.kit.recorder_host import RecorderHost

logger = logging.getLogger(__name__)

ROW = 22
LABEL_WIDTH = 130
POLICIES = [policy.value for policy in OutputPolicy]


class RecorderWindow(MenuHelperWindow):
    """Render products, writer, output, config files, control and the Start/Pause buttons."""

    def __init__(self, title: str, host: RecorderHost) -> None:
        super().__init__(title, width=520, height=760)
        self.host = host
        self.model = host.model
        self.config_dir = str(self.model.last_config_path.parent) if self.model.last_config_path else str(Path.cwd())
        self._issues_window: ui.Window | None = None
        self._alive = True
        self._build()
        self._unsubscribe = self.model.subscribe(self._show_state)
        self._show_state()

    def destroy(self) -> None:
        """Stop showing the model and take a preview off the stage; a recording goes on (the extension owns it)."""
        self._alive = False
        self._unsubscribe()
        self.model.clear_preview()
        if self._issues_window is not None:
            self._issues_window.destroy()
            self._issues_window = None
        super().destroy()

    # -- layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        with self.frame, ui.ScrollingFrame(), ui.VStack(spacing=6):
            with ui.CollapsableFrame("Render Products", height=0):
                self._rp_frame = ui.Frame(build_fn=self._build_render_products)
            with ui.CollapsableFrame("Writer", height=0):
                self._writer_frame = ui.Frame(build_fn=self._build_writer)
            with ui.CollapsableFrame("Output", height=0):
                self._output_frame = ui.Frame(build_fn=self._build_output)
            with ui.CollapsableFrame("Config", height=0, collapsed=True):
                self._config_frame = ui.Frame(build_fn=self._build_config)
            with ui.CollapsableFrame("Control", height=0):
                self._control_frame = ui.Frame(build_fn=self._build_control)
            with ui.CollapsableFrame("Randomization", height=0):
                self._randomization_frame = ui.Frame(build_fn=self._build_randomization)
            self._build_run_controls()

    def _rebuild_all(self) -> None:
        frames = (self._rp_frame, self._writer_frame, self._output_frame, self._config_frame, self._control_frame)
        for frame in (*frames, self._randomization_frame):
            frame.rebuild()

    def _guard(self, action: Callable[[], object]) -> None:
        """Run a model edit; show a refused edit in the message line instead of raising into omni.ui."""
        try:
            action()
        except SdgStudioError as exc:
            self._message.text = str(exc)
            logger.warning("[SDG Studio] %s", exc)

    def _build_render_products(self) -> None:
        names = self.model.render_product_names()
        with ui.VStack(spacing=4):
            with ui.HStack(height=ROW, spacing=4):
                ui.Label("Camera Path", width=220, tooltip="Camera prim rendered by this render product")
                ui.Label("X", width=60, tooltip="Width in pixels")
                ui.Label("Y", width=60, tooltip="Height in pixels")
                ui.Label("Name", tooltip="Render product name (optional; folder name of its files)")
            for index, product in enumerate(self.model.render_products):
                with ui.HStack(height=ROW, spacing=4):
                    path = ui.StringField(width=220)
                    path.model.set_value(product.camera)
                    path.model.add_end_edit_fn(
                        lambda m, i=index: self._edit_rp(
                            lambda: self.model.update_render_product(i, camera=m.as_string)
                        )
                    )
                    width = ui.IntField(width=60)
                    width.model.set_value(product.width)
                    width.model.add_end_edit_fn(
                        lambda m, i=index: self._edit_rp(lambda: self.model.update_render_product(i, width=m.as_int))
                    )
                    height = ui.IntField(width=60)
                    height.model.set_value(product.height)
                    height.model.add_end_edit_fn(
                        lambda m, i=index: self._edit_rp(lambda: self.model.update_render_product(i, height=m.as_int))
                    )
                    name = ui.StringField(tooltip=f"written as '{names[index]}'")
                    name.model.set_value(product.name or "")
                    name.model.add_end_edit_fn(
                        lambda m, i=index: self._edit_rp(lambda: self.model.update_render_product(i, name=m.as_string))
                    )
                    ui.Button("X", width=24, tooltip="Remove entry", clicked_fn=lambda i=index: self._remove_rp(i))
            ui.Button(
                "Add New Render Product Entry",
                height=ROW,
                tooltip="Adds the selected cameras, or the active viewport camera when none is selected",
                clicked_fn=self._add_cameras,
            )

    def _edit_rp(self, edit: Callable[[], None]) -> None:
        """Apply a table edit (a refused one shows its reason), then redraw the table with the model's rows."""
        self._guard(edit)
        self._rp_frame.rebuild()

    def _remove_rp(self, index: int) -> None:
        self._edit_rp(lambda: self.model.remove_render_product(index))

    def _add_cameras(self) -> None:
        context = omni.usd.get_context()
        selected = context.get_selection().get_selected_prim_paths()
        viewport = get_active_viewport()
        active = str(viewport.get_active_camera()) if viewport is not None else None
        self.model.add_cameras(selected, active)
        self._rp_frame.rebuild()

    def _build_writer(self) -> None:
        names = self.model.writer_names()
        current = self.model.config.writer_name
        if current not in names:
            names.append(current)
        with ui.VStack(spacing=4):
            with ui.HStack(height=ROW, spacing=4):
                ui.Label(
                    "Writer", width=LABEL_WIDTH, tooltip="BasicWriter, KittiWriter, CocoWriter or a registered writer"
                )
                combo = ui.ComboBox(names.index(current), *names)
                combo.model.add_item_changed_fn(
                    lambda m, _: self._set_writer(names[m.get_item_value_model().get_value_as_int()])
                )
            if current == BASIC_WRITER:
                for flag in BASIC_WRITER_FLAGS:
                    with ui.HStack(height=ROW, spacing=4):
                        ui.Label(flag, width=300)
                        box = ui.CheckBox(width=16)
                        box.model.set_value(self.model.basic_flags[flag])
                        box.model.add_value_changed_fn(lambda m, f=flag: self.model.set_flag(f, m.as_bool))
                with ui.HStack(height=ROW, spacing=4):
                    ui.Button("Select All", clicked_fn=lambda: self._and_rebuild(self.model.select_all))
                    ui.Button("Toggle All", clicked_fn=lambda: self._and_rebuild(self.model.toggle_all))
            for spec in self.model.param_specs():
                with ui.HStack(height=ROW, spacing=4):
                    ui.Label(spec.name, width=LABEL_WIDTH + 90, tooltip=spec.help or spec.kind)
                    field = ui.StringField(tooltip=f"{spec.kind}; empty = default ({spec.default!r})")
                    field.model.set_value(self.model.param_text(spec.name))
                    field.model.add_end_edit_fn(
                        lambda m, n=spec.name: self._guard(lambda: self.model.set_param(n, m.as_string))
                    )

    def _set_writer(self, name: str) -> None:
        self.model.set_writer(name)
        self._writer_frame.rebuild()

    def _and_rebuild(self, action: Callable[[], None]) -> None:
        action()
        self._writer_frame.rebuild()

    def _build_output(self) -> None:
        output = self.model.config.output
        with ui.VStack(spacing=4):
            with ui.HStack(height=ROW, spacing=4):
                ui.Label("Working Directory", width=LABEL_WIDTH, tooltip="Empty = the current directory")
                working = ui.StringField()
                working.model.set_value(output.working_dir)
                working.model.add_end_edit_fn(lambda m: self.model.set_output(working_dir=m.as_string))
            with ui.HStack(height=ROW, spacing=4):
                ui.Label("Folder", width=LABEL_WIDTH, tooltip="Output folder under the working directory")
                folder = ui.StringField()
                folder.model.set_value(output.folder)
                folder.model.add_end_edit_fn(lambda m: self.model.set_output(folder=m.as_string))
            with ui.HStack(height=ROW, spacing=4):
                ui.Label(
                    "If not empty",
                    width=LABEL_WIDTH,
                    tooltip="refuse: stop; overwrite: empty it first; increment: _0001, _0002...; timestamp",
                )
                combo = ui.ComboBox(POLICIES.index(output.policy.value), *POLICIES)
                combo.model.add_item_changed_fn(
                    lambda m, _: self.model.set_output(
                        policy=OutputPolicy(POLICIES[m.get_item_value_model().get_value_as_int()])
                    )
                )

    def _build_config(self) -> None:
        with ui.VStack(spacing=4):
            with ui.HStack(height=ROW, spacing=4):
                ui.Label("Config Directory", width=LABEL_WIDTH)
                folder = ui.StringField()
                folder.model.set_value(self.config_dir)
                folder.model.add_value_changed_fn(lambda m: setattr(self, "config_dir", m.as_string))
            with ui.HStack(height=ROW, spacing=4):
                name = ui.StringField(tooltip="Isaac Sim recorder JSON or offline-generation YAML / JSON")
                name.model.set_value(self.model.config.config_file)
                name.model.add_value_changed_fn(lambda m: setattr(self.model.config, "config_file", m.as_string))
                ui.Button("Load", width=60, clicked_fn=self._load_config)
                ui.Button("Save", width=60, clicked_fn=self._save_config)

    def _config_path(self) -> Path:
        return Path(self.config_dir) / self.model.config.config_file

    def _load_config(self) -> None:
        path = self._config_path()
        self._guard(lambda: self.model.load_config(path))
        self._rebuild_all()

    def _save_config(self) -> None:
        self._guard(lambda: self.model.save_config(self._config_path()))

    def _build_control(self) -> None:
        config = self.model.config
        with ui.VStack(spacing=4):
            with ui.HStack(height=ROW, spacing=4):
                ui.Label("Number of frames", width=LABEL_WIDTH, tooltip="0 = record until stopped")
                frames = ui.IntField(width=80)
                frames.model.set_value(config.frames)
                frames.model.add_end_edit_fn(lambda m: self._guard(lambda: self.model.set_control(frames=m.as_int)))
                ui.Label("RTSubframes", width=90, tooltip="Extra rendered frames per capture (fewer artifacts)")
                subframes = ui.IntField(width=80)
                subframes.model.set_value(config.rt_subframes)
                subframes.model.add_end_edit_fn(
                    lambda m: self._guard(lambda: self.model.set_control(rt_subframes=m.as_int))
                )
            with ui.HStack(height=ROW, spacing=4):
                ui.Label(
                    "Control Timeline", width=LABEL_WIDTH, tooltip="Play / pause / stop the timeline with the recorder"
                )
                timeline = ui.CheckBox(width=16)
                timeline.model.set_value(config.control_timeline)
                timeline.model.add_value_changed_fn(lambda m: self.model.set_control(control_timeline=m.as_bool))

    def _build_randomization(self) -> None:
        scenario = self.model.scenario
        with ui.VStack(spacing=4):
            with ui.HStack(height=ROW, spacing=4):
                ui.Label("Scenario File", width=LABEL_WIDTH, tooltip="YAML / JSON scenario (docs/randomization.md)")
                path = ui.StringField(tooltip="Path of the scenario file to load, or to save the scenario to")
                path.model.set_value(str(scenario.path) if scenario is not None and scenario.path is not None else "")
                ui.Button("Load", width=60, clicked_fn=lambda: self._scenario_action(self.model.load_scenario, path))
                ui.Button("Save", width=60, clicked_fn=lambda: self._scenario_action(self.model.save_scenario, path))
                ui.Button(
                    "Clear", width=60, clicked_fn=lambda: self._and_rebuild_randomization(self.model.clear_scenario)
                )
            ui.Label(
                self.model.scenario_text(),
                height=ROW,
                tooltip="Applied before every recorded frame, with the camera jitter of the config if any",
            )
            with ui.HStack(height=ROW, spacing=4):
                ui.Label("Preview frame", width=LABEL_WIDTH, tooltip="Show this frame's variation on the open stage")
                frame = ui.IntField(width=80)
                frame.model.set_value(self.model.preview_frame)
                ui.Button(
                    "Preview", width=80, clicked_fn=lambda: self._guard(lambda: self.model.preview(frame.model.as_int))
                )
                ui.Button("Clear Preview", width=110, clicked_fn=self.model.clear_preview)

    def _scenario_action(self, action: Callable[[Path], object], path: ui.StringField) -> None:
        text = path.model.as_string.strip()
        if not text:
            self._message.text = "type the path of a scenario file"
            return
        self._and_rebuild_randomization(lambda: action(Path(text)))

    def _and_rebuild_randomization(self, action: Callable[[], object]) -> None:
        self._guard(action)
        self._randomization_frame.rebuild()

    def _build_run_controls(self) -> None:
        with ui.HStack(height=ROW + 4, spacing=4):
            self._start_button = ui.Button("Start", clicked_fn=self._on_start_stop, tooltip="Start / stop recording")
            self._pause_button = ui.Button("Pause", clicked_fn=self._on_pause_resume, tooltip="Pause / resume")
        self._progress = ui.ProgressBar(height=ROW)
        self._progress_label = ui.Label("", height=ROW)
        self._message = ui.Label("", word_wrap=True, height=ROW)

    # -- state -------------------------------------------------------------------------------------
    def _show_state(self) -> None:
        buttons = self.model.buttons()
        self._start_button.text = buttons.start_stop
        self._pause_button.text = buttons.pause_resume
        self._pause_button.enabled = buttons.pause_enabled
        self._progress.model.set_value(self.model.progress_fraction)
        self._progress_label.text = self.model.progress_text
        self._message.text = self.model.message

    def _on_start_stop(self) -> None:
        if self.model.running:
            self.model.stop()
        else:
            self._start(confirmed=False)

    def _on_pause_resume(self) -> None:
        self._guard(self.model.resume if self.model.state is JobState.PAUSED else self.model.pause)

    def _start(self, confirmed: bool) -> None:
        task = self.host.start(confirmed)  # kept and reported by the extension's TaskKeeper
        task.add_done_callback(lambda _: self._after_start())

    def _after_start(self) -> None:
        if not self._alive:
            return
        self._show_state()
        if self.model.pending_issues:
            self._ask_about_issues()

    def _ask_about_issues(self) -> None:
        """A small window listing what would come out empty, with Record anyway / Cancel."""
        if self._issues_window is not None:
            self._issues_window.destroy()
        window = ui.Window(ISSUES_DIALOG_TITLE, width=520, height=240)
        with window.frame, ui.VStack(spacing=6):
            for issue in self.model.pending_issues:
                ui.Label(f"- {issue}", word_wrap=True)
            with ui.HStack(height=ROW, spacing=6):
                ui.Button("Record anyway", clicked_fn=lambda: self._answer(True))
                ui.Button("Cancel", clicked_fn=lambda: self._answer(False))
        self._issues_window = window

    def _answer(self, record: bool) -> None:
        if self._issues_window is not None:
            self._issues_window.visible = False
        if record:
            self._start(confirmed=True)
