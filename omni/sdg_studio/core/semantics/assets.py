"""The asset files a prim comes from, read from its composition graph (Pcp prim index).

A prim's *asset chain* lists the files of the references and payloads on its composition path,
nearest first: in a vehicle whose body file references wheel files, a tire has
``(wheel.usda, body.usda)`` and the chassis ``(body.usda,)``. The nearest is the deepest reference
or payload that brings in an opinion of the prim. The stage's own layers are never an asset
(internal references count as part of the stage), nor are labels layers (``*_labels.usda``).

:func:`locate_part` answers the question the ``instances: asset`` policy asks: where must an opinion
about an instance proxy be authored so that every instance of its asset sees it, and which prim
must reference that place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pxr import Ar, Pcp, Sdf, Usd

from omni.sdg_studio.core.semantics.rules import AssetDepth

_ARCS = (Pcp.ArcTypeReference, Pcp.ArcTypePayload)
#: File name ending of labels layers: label overlays, never an asset of their own.
LABELS_SUFFIX = "_labels.usda"


def _is_labels_layer(node: Pcp.NodeRef) -> bool:
    return node.layerStack.identifier.rootLayer.identifier.endswith(LABELS_SUFFIX)


def _nearest_node(root: Pcp.NodeRef, own_arcs: bool = True) -> Pcp.NodeRef | None:
    """The deepest (then strongest) reference/payload node with opinions; without ``own_arcs`` the
    arcs the prim itself introduces (and everything below them) are left out."""
    best: Pcp.NodeRef | None = None
    best_depth = 0
    fallback: Pcp.NodeRef | None = None
    fallback_depth = 0
    stack = [(child, 0) for child in reversed(root.children)]
    while stack:
        node, depth = stack.pop()
        if node.arcType in _ARCS and (_is_labels_layer(node) or (not own_arcs and not node.IsDueToAncestor())):
            continue
        if node.arcType in _ARCS:
            depth += 1
            if node.hasSpecs and depth > best_depth:
                best, best_depth = node, depth
            if depth > fallback_depth:
                fallback, fallback_depth = node, depth
        stack.extend((child, depth) for child in reversed(node.children))
    return best or fallback


def layer_file(layer: Sdf.Layer) -> str:
    """The file a layer was read from (a package's outer file for a layer inside a ``.usdz``)."""
    path = layer.realPath or layer.identifier
    return Ar.SplitPackageRelativePathOuter(path)[0] if Ar.IsPackageRelativePath(path) else path


def asset_chain(prim: Usd.Prim) -> tuple[str, ...]:
    """Files of the references/payloads on ``prim``'s composition path, nearest first."""
    index = prim.GetPrimIndex()
    root = index.rootNode
    node = _nearest_node(root)
    out: list[str] = []
    while node is not None and node != root:
        stack = node.layerStack
        if node.arcType in _ARCS and stack != root.layerStack:
            path = layer_file(stack.identifier.rootLayer)
            if not out or out[-1] != path:
                out.append(path)
        node = node.parent
    return tuple(out)


def pick_assets(chain: Sequence[str], depths: AssetDepth) -> list[str]:
    """The assets of ``chain`` at ``depths`` (1 = nearest, -1 = outermost, ``()`` = all), in that order."""
    if not depths:
        return list(chain)
    out = []
    for depth in depths:
        index = depth - 1 if depth > 0 else len(chain) + depth
        if 0 <= index < len(chain):
            out.append(chain[index])
    return out


def asset_name(path: str) -> str:
    """The file name of an asset path (``{asset}``)."""
    return PurePosixPath(path.replace("\\", "/")).name


def asset_folder(path: str) -> str:
    """The folder name of an asset path (``{folder}``)."""
    return PurePosixPath(path.replace("\\", "/")).parent.name if path else ""


def labels_layer_path(asset: str) -> str:
    """``<asset>_labels.usda`` beside the asset file: where the asset policy writes its part labels."""
    path = Path(asset)
    return str(path.with_name(f"{path.stem}_labels.usda"))


@dataclass(frozen=True)
class PartSite:
    """Where an opinion about an instance part goes so that every instance of its asset sees it.

    ``asset`` is ``""`` when the part comes from the stage's own layers (an internal reference): the
    opinion goes into the labels target at ``path``. Otherwise it goes into the labels layer of the
    ``asset`` file at ``path``, and the stage prim ``arc_at`` must reference that layer's
    ``arc_prim`` (an arc stronger than the asset's own).
    """

    asset: str
    path: Sdf.Path
    arc_at: Sdf.Path | None = None
    arc_prim: Sdf.Path | None = None


class PartSiteError(ValueError):
    """An instance part cannot be located in a writable asset file."""


def locate_part(prim: Usd.Prim, own_arcs: bool = True) -> PartSite:
    """Where an opinion about ``prim`` (an instance proxy) must be authored.

    ``own_arcs=False`` asks where to author an arc *on* ``prim``: in the layer stack that introduces
    the prim, not in the asset the prim references itself.
    """
    root = prim.GetPrimIndex().rootNode
    node = _nearest_node(root, own_arcs)
    if node is None:
        raise PartSiteError("no reference or payload brings it in")
    path = node.path
    if node.layerStack == root.layerStack:
        return PartSite("", path)
    entry = node
    while entry.parent is not None and entry.parent.layerStack == entry.layerStack and not entry.parent.IsRootNode():
        path = entry.mapToParent.MapSourceToTarget(path)
        entry = entry.parent
        if path.isEmpty:
            raise PartSiteError("an internal reference of its asset maps it out of the asset's namespace")
    layer = entry.layerStack.identifier.rootLayer
    if layer.anonymous or Ar.IsPackageRelativePath(layer.identifier):
        raise PartSiteError(f"its asset {layer.identifier} is not a plain file beside which a labels layer can go")
    arc_at = prim.GetPath()
    for _ in range(entry.GetDepthBelowIntroduction()):
        arc_at = arc_at.GetParentPath()
    return PartSite(layer_file(layer), path, arc_at, entry.GetPathAtIntroduction())
