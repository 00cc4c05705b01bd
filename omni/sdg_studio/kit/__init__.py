"""Kit layer: the extension entry point, menus and omni.ui windows (imported only inside Kit)."""

from omni.sdg_studio.kit.extension import SdgStudioExtension

__all__ = ["SdgStudioExtension"]
