"""Replicator annotators of one render product, attached for the Annotator Visualizer and released on close.

A chosen camera gets its own render product (``rep.create.render_product(..., force_new=True)``), destroyed
when the selection changes or the window closes; the active viewport's render product is borrowed and
never destroyed. Calls follow Isaac Sim's image capture helper and recorder (see ``typings/``).
"""

from __future__ import annotations

import logging
from typing import Any

import omni.replicator.core as rep
from omni.kit.viewport.utility import get_active_viewport

from omni.sdg_studio.core.visualize.model import Attachment
from omni.sdg_studio.core.visualize.tiles import Unreadable

#: Annotators whose init params take ``semanticTypes`` and ``colorize`` (raw ids: our colors are stable).
_SEMANTIC = ("semantic_segmentation",)
_INSTANCE = ("instance_segmentation", "instance_id_segmentation")
_BOXES = ("bounding_box_2d_tight", "bounding_box_2d_loose", "bounding_box_3d")
RENDER_PRODUCT_NAME = "SdgStudioVisualizer"

logger = logging.getLogger(__name__)


def viewport_render_product() -> str | None:
    """The active viewport's render product path (made absolute, as omni.syntheticdata's visualizer does)."""
    viewport = get_active_viewport()
    if viewport is None or not viewport.render_product_path:
        return None
    path = viewport.render_product_path
    return path if path.startswith("/") else f"/Render/RenderProduct_{path}"


def init_params(name: str, taxonomy: str) -> dict[str, Any] | None:
    """Replicator init params for ``name``: raw ids (colorize off) and the taxonomy shown."""
    if name in _SEMANTIC:
        return {"colorize": False, "semanticTypes": [taxonomy]}
    if name in _INSTANCE:
        return {"colorize": False}
    if name in _BOXES:
        return {"semanticTypes": [taxonomy]}
    return None


class AnnotatorSource:
    """Keeps annotators attached to the render product an :class:`Attachment` describes."""

    def __init__(self) -> None:
        self._attachment: Attachment | None = None
        self._render_product: rep.RenderProduct | None = None
        self._annotators: dict[str, rep.Annotator] = {}
        self.problem = ""

    @property
    def attached(self) -> bool:
        return bool(self._annotators)

    def sync(self, attachment: Attachment, taxonomy: str = "class") -> bool:
        """Attach what ``attachment`` lists (re-attaching only when it changed); False when it cannot."""
        if attachment == self._attachment and self._annotators:
            return True
        self.release()
        self.problem = ""
        if attachment.camera is None:
            target: str | rep.RenderProduct | None = viewport_render_product()
            if target is None:
                self.problem = "no active viewport to preview; pick a camera"
                return False
        else:
            self._render_product = rep.create.render_product(
                attachment.camera, attachment.resolution, force_new=True, name=RENDER_PRODUCT_NAME
            )
            target = self._render_product
        for name in attachment.annotators:
            annotator = rep.AnnotatorRegistry.get_annotator(name, init_params=init_params(name, taxonomy))
            annotator.attach(target)
            self._annotators[name] = annotator
        self._attachment = attachment
        return True

    def fetch(self) -> dict[str, Any]:
        """The latest data of every attached annotator; one that fails is returned as :class:`Unreadable`."""
        frame: dict[str, Any] = {}
        for name, annotator in self._annotators.items():
            try:
                frame[name] = annotator.get_data()
            except Exception as exc:  # Replicator raises plain exceptions for unready or failed annotators
                frame[name] = Unreadable(f"{name}: get_data failed ({type(exc).__name__}: {exc})")
        return frame

    def release(self) -> None:
        """Detach every annotator and destroy the render product this source created."""
        for name, annotator in self._annotators.items():
            try:
                annotator.detach()
            except Exception as exc:  # keep releasing the others; report what failed
                logger.warning("[SDG Studio] visualizer: detaching %s failed: %s", name, exc)
        self._annotators = {}
        if self._render_product is not None:
            self._render_product.destroy()
            self._render_product = None
        self._attachment = None
