"""Ray engines behind one interface: Embree (default) and the numpy rasterizer (fallback, oracle)."""

from __future__ import annotations

from omni.sdg_studio.backends.embedded.engines.base import Hits, RayEngine, TriangleSoup, WorldMesh
from omni.sdg_studio.backends.embedded.engines.raster import RasterEngine
from omni.sdg_studio.backends.embedded.errors import EmbeddedRenderError, warn

ENGINES = ("auto", "embree", "numpy")


def make_engine(name: str = "auto", threads: int | None = None) -> RayEngine:
    """The engine called ``name``; ``auto`` is Embree, or the rasterizer with a one-line notice."""
    if name not in ENGINES:
        raise EmbeddedRenderError(f"engine {name!r}: unknown, expected one of {', '.join(ENGINES)}")
    if name == "numpy":
        return RasterEngine()
    try:
        from omni.sdg_studio.backends.embedded.engines.embree import EmbreeEngine
    except ImportError as exc:
        if name == "embree":
            raise EmbeddedRenderError(f"engine 'embree': embreex cannot be loaded ({exc})") from None
        warn(f"embreex cannot be loaded ({exc}); using the numpy rasterizer (slower)")
        return RasterEngine()
    return EmbreeEngine(threads)


__all__ = ["ENGINES", "Hits", "RasterEngine", "RayEngine", "TriangleSoup", "WorldMesh", "make_engine"]
