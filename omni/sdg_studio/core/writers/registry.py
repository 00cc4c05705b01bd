"""The writer registry: writer name -> class and typed parameters, for the GUI, the CLI and configs.

Built-in: ``BasicWriter``, ``KittiWriter``, ``CocoWriter``, ``YoloWriter``, ``WebDatasetWriter``. Custom writers join by
:meth:`WriterRegistry.register` (a class taking ``output_dir`` first and typed keyword parameters,
usually a :class:`FileWriter` subclass), by a ``sdg_studio.writers`` entry point of an installed
package, or by naming them ``package.module:ClassName`` once the person running the program allowed
that module (:meth:`WriterRegistry.load_plugin`, ``record --plugin MODULE``): a config file naming a
writer never imports code by itself.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from omni.sdg_studio.core.classes import ClassTable
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.fields import did_you_mean
from omni.sdg_studio.core.writers.base import Writer
from omni.sdg_studio.core.writers.basic_writer import BasicWriter
from omni.sdg_studio.core.writers.coco_writer import CocoWriter
from omni.sdg_studio.core.writers.kitti_writer import KittiWriter
from omni.sdg_studio.core.writers.params import (
    RUN_OPTIONS,
    WriterParam,
    WriterParamError,
    describe_params,
    unknown_param,
    validate_params,
)
from omni.sdg_studio.core.writers.webdataset_writer import WebDatasetWriter
from omni.sdg_studio.core.writers.yolo_writer import YoloWriter

ENTRY_POINT_GROUP = "sdg_studio.writers"


class UnknownWriterError(SdgStudioError, ValueError):
    """No writer is registered under the requested name."""


class WriterClassError(SdgStudioError, TypeError):
    """A class offered as a writer is not one (no ``write``, wrong constructor, untyped parameters)."""


@dataclass(frozen=True)
class WriterEntry:
    """A registered writer: its name, class, one-line summary and parameters."""

    name: str
    cls: type
    summary: str
    params: tuple[WriterParam, ...]

    def param(self, name: str) -> WriterParam:
        """The parameter ``name``, or :class:`WriterParamError` suggesting the closest one."""
        for param in self.params:
            if param.name == name:
                return param
        raise unknown_param(self.name, name, [p.name for p in self.params])

    def defaults(self) -> dict[str, Any]:
        """Every parameter with its default value (what the constructor uses when it is omitted)."""
        return {p.name: p.default for p in self.params}

    def validate(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Check a parameter dict (from a config or the GUI); unknown names and wrong types are named."""
        return validate_params(self.name, self.params, values)

    def parse(self, texts: Mapping[str, str]) -> dict[str, Any]:
        """Parse ``{name: text}`` as typed on a command line or in text fields."""
        return {name: self.param(name).parse(text, self.name) for name, text in texts.items()}

    def create(
        self,
        values: Mapping[str, Any],
        *,
        output_dir: str | os.PathLike[str],
        seed: int = 0,
        classes: ClassTable | None = None,
        resume: bool = False,
        workers: int | None = None,
        max_frames_in_flight: int = 4,
    ) -> Writer:
        """Validate ``values`` and build the writer writing into ``output_dir`` (any ``output_dir`` or
        ``backend`` in ``values`` is dropped: the recorder has resolved the output location)."""
        params = self.validate(values)
        options = {
            "seed": seed,
            "classes": classes,
            "resume": resume,
            "workers": workers,
            "max_frames_in_flight": max_frames_in_flight,
        }
        accepted = inspect.signature(self.cls).parameters
        options = {k: v for k, v in options.items() if k in accepted}
        return self.cls(output_dir, **params, **options)


def _summary(cls: type) -> str:
    doc = inspect.getdoc(cls) or ""
    return doc.splitlines()[0] if doc else cls.__name__


class WriterRegistry:
    """Writer name -> :class:`WriterEntry`."""

    def __init__(self) -> None:
        self._entries: dict[str, WriterEntry] = {}
        self._entry_points_loaded = False
        self._plugins: set[str] = set()  # modules the user allowed ``module:Class`` names to import

    def register(self, cls: type, name: str | None = None, *, replace: bool = False) -> WriterEntry:
        """Register writer class ``cls`` under ``name`` (default: its ``name`` attribute or class name)."""
        name = name or getattr(cls, "name", None) or cls.__name__
        if not isinstance(name, str) or not name:
            raise ValueError(f"writer {cls!r} needs a name")
        if name in self._entries and not replace and self._entries[name].cls is not cls:
            raise ValueError(f"a writer named {name!r} is already registered ({self._entries[name].cls.__qualname__})")
        if not inspect.isclass(cls):
            raise WriterClassError(f"writer {name!r}: {cls!r} is not a class")
        missing = [attr for attr in ("annotators", "write", "finish") if not hasattr(cls, attr)]
        if missing:
            raise WriterClassError(f"writer {name!r} lacks {', '.join(missing)} (see core/writers/base.py Writer)")
        try:
            first = next(iter(inspect.signature(cls).parameters), None)
            if first != "output_dir":
                raise WriterClassError(f"the first constructor parameter must be output_dir, not {first!r}")
            params = describe_params(cls, name)
        except (TypeError, ValueError) as exc:
            raise WriterClassError(f"writer {name!r}: {exc}") from None
        entry = WriterEntry(name, cls, _summary(cls), params)
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        """Remove ``name`` (no error if it is not registered)."""
        self._entries.pop(name, None)

    def names(self) -> list[str]:
        """Registered writer names, built-ins first, then in registration order."""
        self._load_entry_points()
        return list(self._entries)

    def entries(self) -> list[WriterEntry]:
        """Every registered writer."""
        self._load_entry_points()
        return list(self._entries.values())

    def load_plugin(self, module_name: str) -> None:
        """Import ``module_name`` (from the installed packages or the current folder) and let writer names
        ``module_name:ClassName`` use it: the explicit choice a ``module:Class`` writer needs."""
        if not module_name or not all(part.isidentifier() for part in module_name.split(".")):
            raise UnknownWriterError(f"plugin {module_name!r}: expected a module name such as my_writers")
        here = os.getcwd()
        sys.path.insert(0, here)
        try:
            importlib.import_module(module_name)
        except Exception as exc:  # the plugin's own error, whatever it is: one line naming it
            raise UnknownWriterError(f"plugin {module_name}: cannot import it ({type(exc).__name__}: {exc})") from exc
        finally:
            sys.path.remove(here)
        self._plugins.add(module_name)

    def get(self, name: str) -> WriterEntry:
        """The writer ``name``; ``package.module:ClassName`` registers that class of a module allowed by
        :meth:`load_plugin` (never imports a module by itself)."""
        if name in self._entries:
            return self._entries[name]
        self._load_entry_points()
        if name in self._entries:
            return self._entries[name]
        if ":" in name:
            return self.register(self._plugin_class(name), name)
        raise UnknownWriterError(f"unknown writer '{name}'{did_you_mean(name, self._entries, list_known=True)}")

    def _plugin_class(self, reference: str) -> type:
        module_name, _, attr = reference.partition(":")
        module = sys.modules.get(module_name)
        if module_name not in self._plugins or module is None:
            raise UnknownWriterError(
                f"writer '{reference}' is code in module {module_name}, which is not loaded: a config never "
                f"imports code by itself; to allow it pass --plugin {module_name} "
                f"(Python: WRITERS.load_plugin({module_name!r})), or install it as a {ENTRY_POINT_GROUP} entry point"
            )
        cls = getattr(module, attr, None)
        if not inspect.isclass(cls):
            raise UnknownWriterError(f"writer '{reference}': {module_name} has no class {attr!r}")
        return cls

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for point in entry_points(group=ENTRY_POINT_GROUP):
            if point.name not in self._entries:
                self.register(point.load(), point.name)


#: The process-wide registry with the built-in writers.
WRITERS = WriterRegistry()
for _builtin in (BasicWriter, KittiWriter, CocoWriter, YoloWriter, WebDatasetWriter):
    WRITERS.register(_builtin)


def python_writer_names(registered: Mapping[str, object], writer_base: type) -> list[str]:
    """The names in a host registry's ``{name: class}`` map whose class is a Python writer (a ``writer_base``
    subclass), sorted; node writers (OmniGraph nodes other extensions register, e.g. ROS 2 publishers, which
    Replicator's ``WriterRegistry.get_writers()`` lists as its ``NodeWriter`` class) are left out."""
    return sorted(name for name, cls in registered.items() if isinstance(cls, type) and issubclass(cls, writer_base))


def get_writer(name: str) -> WriterEntry:
    """The :class:`WriterEntry` registered as ``name`` in :data:`WRITERS`."""
    return WRITERS.get(name)


def create_writer(
    name: str,
    output_dir: str | os.PathLike[str],
    params: Mapping[str, Any],
    *,
    seed: int = 0,
    classes: ClassTable | None = None,
    resume: bool = False,
    workers: int | None = None,
    max_frames_in_flight: int = 4,
) -> Writer:
    """Validate ``params`` for writer ``name`` and build it writing into ``output_dir``."""
    return get_writer(name).create(
        params,
        output_dir=output_dir,
        seed=seed,
        classes=classes,
        resume=resume,
        workers=workers,
        max_frames_in_flight=max_frames_in_flight,
    )


__all__ = [
    "ENTRY_POINT_GROUP",
    "RUN_OPTIONS",
    "WRITERS",
    "UnknownWriterError",
    "WriterClassError",
    "WriterEntry",
    "WriterParam",
    "WriterParamError",
    "WriterRegistry",
    "create_writer",
    "get_writer",
    "python_writer_names",
]
