"""Errors of the embedded backend (notices go through ``logging``, logger ``omni.sdg_studio.backends.embedded``)."""

from __future__ import annotations

from omni.sdg_studio.core.errors import SdgStudioError


class EmbeddedRenderError(SdgStudioError):
    """A render request cannot be honoured (bad camera, resolution, annotator); the message says why."""
