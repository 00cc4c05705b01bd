"""Embedded render backend: usd-core scene extraction plus a CPU ray engine, Replicator's annotator formats."""

from omni.sdg_studio.backends.embedded.backend import SUPPORTED_ANNOTATORS, EmbeddedBackend
from omni.sdg_studio.backends.embedded.errors import EmbeddedRenderError

__all__ = ["SUPPORTED_ANNOTATORS", "EmbeddedBackend", "EmbeddedRenderError"]
