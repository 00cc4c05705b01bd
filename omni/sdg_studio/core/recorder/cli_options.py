"""Apply ``sdg-studio record`` options on top of a config (the command line wins over the file)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from omni.sdg_studio.core.errors import InvalidValue, SdgStudioError
from omni.sdg_studio.core.randomize.source import load_scenario_source
from omni.sdg_studio.core.recorder.config import BASIC_WRITER, BASIC_WRITER_FLAGS, OutputPolicy, RecorderConfig
from omni.sdg_studio.core.render_backend import RenderProduct

_CAMERA = re.compile(r"^(?P<path>/[^:]*|auto)(?::(?P<w>\d+)[xX](?P<h>\d+))?(?::(?P<name>[A-Za-z0-9_.-]+))?$")


class OptionError(SdgStudioError):
    """A command-line option has a bad value; the message names the option."""


@contextmanager
def _option(option: str) -> Iterator[None]:
    """An :class:`InvalidValue` raised inside becomes an :class:`OptionError` naming ``option``."""
    try:
        yield
    except InvalidValue as exc:
        raise OptionError(f"{option}: {exc.problem}") from None


def parse_camera(spec: str, default_resolution: tuple[int, int]) -> RenderProduct:
    """``PATH[:WxH[:name]]`` -> :class:`RenderProduct` (resolution defaults to ``default_resolution``)."""
    match = _CAMERA.match(spec.strip())
    if not match or match.group("path") in ("", "/"):
        raise OptionError(f"--camera '{spec}': expected PATH[:WIDTHxHEIGHT[:name]], e.g. /World/Cam:640x480:front")
    width, height = (int(match.group("w")), int(match.group("h"))) if match.group("w") else default_resolution
    try:
        return RenderProduct(match.group("path"), width, height, match.group("name"))
    except InvalidValue as exc:
        raise OptionError(f"--camera '{spec}': {exc}") from None


@dataclass
class RecordOptions:
    """What the command line sets; ``None`` / empty = keep the config's value."""

    cameras: list[str] = field(default_factory=list)
    frames: int | None = None
    writer: str | None = None
    annotators: str | None = None
    out: Path | None = None
    policy: OutputPolicy | None = None
    seed: int | None = None
    classes: Path | None = None
    resolution: tuple[int, int] | None = None
    scenario: Path | None = None

    def apply(self, config: RecorderConfig) -> list[str]:
        """Change ``config`` in place; return notes about values the options made irrelevant."""
        notes: list[str] = []
        if self.resolution is not None:  # every render product's size, unless --camera PATH:WxH gives its own
            config.resolution = self.resolution
            width, height = self.resolution
            config.render_products = [replace(p, width=width, height=height) for p in config.render_products]
        if self.cameras:
            config.render_products = [parse_camera(spec, config.resolution) for spec in self.cameras]
        if self.frames is not None:
            with _option(f"--frames {self.frames}"):
                config.frames = self.frames
        if self.writer is not None and self.writer != config.writer_name:
            if config.writer_params:
                notes.append(
                    f"--writer {self.writer}: dropped the {config.writer_name} parameters of the config "
                    f"({', '.join(sorted(config.writer_params))})"
                )
            config.writer_name = self.writer
            config.custom_writer_name = self.writer if self.writer != BASIC_WRITER else config.custom_writer_name
            config.writer_params = {}
        if self.annotators is not None:
            self._apply_annotators(config)
        if self.out is not None:
            config.output.working_dir = ""
            config.output.folder = str(self.out)
        if self.policy is not None:
            config.output.policy = self.policy
        if self.classes is not None:
            config.classes = str(self.classes)
        if self.scenario is not None:
            if not self.scenario.is_file():
                raise OptionError(f"--scenario {self.scenario}: no such file")
            source = load_scenario_source(self.scenario)
            if config.randomization is not None and config.randomization != source:
                notes.append(f"--scenario {self.scenario}: replaces the config's {config.randomization.describe()}")
            config.randomization = source
        if self.seed is not None:
            with _option(f"--seed {self.seed}"):
                config.seed = self.seed
        return notes

    def _apply_annotators(self, config: RecorderConfig) -> None:
        assert self.annotators is not None
        if config.writer_name != BASIC_WRITER:
            raise OptionError(
                f"--annotators: {config.writer_name} writes a fixed set of annotators; "
                "--annotators chooses BasicWriter's"
            )
        names = [n.strip() for n in self.annotators.split(",") if n.strip()]
        unknown = [n for n in names if n not in BASIC_WRITER_FLAGS]
        if unknown:
            raise OptionError(
                f"--annotators: unknown {', '.join(repr(n) for n in unknown)}; "
                f"BasicWriter's are: {', '.join(BASIC_WRITER_FLAGS)}"
            )
        if not names:
            raise OptionError("--annotators: name at least one annotator, e.g. rgb")
        config.basic_writer_params = {flag: flag in names for flag in BASIC_WRITER_FLAGS}
