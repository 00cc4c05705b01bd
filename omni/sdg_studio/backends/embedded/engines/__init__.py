"""Ray engines behind one interface: Embree (default) and the numpy rasterizer (fallback, oracle)."""

from __future__ import annotations

import logging

from omni.sdg_studio.backends.embedded.engines.base import Hits, Pixels, RayEngine, TriangleSoup, WorldMesh
from omni.sdg_studio.backends.embedded.engines.raster import RasterEngine
from omni.sdg_studio.backends.embedded.errors import EmbeddedRenderError

ENGINES = ("auto", "embree", "numpy")
logger = logging.getLogger(__name__)


def make_engine(name: str = "auto") -> RayEngine:
    """The engine called ``name``; ``auto`` is Embree, or the rasterizer with a one-line notice."""
    if not isinstance(name, str) or name not in ENGINES:
        raise EmbeddedRenderError(f"engine {name!r}: unknown, expected one of {', '.join(ENGINES)}")
    if name == "numpy":
        return RasterEngine()
    try:
        from omni.sdg_studio.backends.embedded.engines.embree import EmbreeEngine
    except ImportError as exc:
        if name == "embree":
            raise EmbeddedRenderError(f"engine 'embree': embreex cannot be loaded ({exc})") from None
        logger.warning("embreex cannot be loaded (%s); using the numpy rasterizer (slower)", exc)
        return RasterEngine()
    return EmbreeEngine()


__all__ = ["ENGINES", "Hits", "Pixels", "RasterEngine", "RayEngine", "TriangleSoup", "WorldMesh", "make_engine"]
