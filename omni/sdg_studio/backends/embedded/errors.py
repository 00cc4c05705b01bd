"""Errors and warnings of the embedded backend."""

from __future__ import annotations

import warnings

from omni.sdg_studio.core.errors import SdgStudioError


class EmbeddedRenderError(SdgStudioError):
    """A render request cannot be honoured (bad camera, resolution, annotator); the message says why."""


class RenderWarning(UserWarning):
    """Something was skipped or guessed while rendering (bad mesh, unsupported prim, no labels)."""


def warn(message: str) -> None:
    """Emit a :class:`RenderWarning` (the CLI prints it as one line)."""
    warnings.warn(message, RenderWarning, stacklevel=3)
