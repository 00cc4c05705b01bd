"""Semantic ids, instance ids and labeled objects of an extracted scene, for one set of taxonomies.

Replicator's rules, as this backend applies them:

* A pixel's semantic labels are the labels of its gprim and all its ancestors (both schemas),
  filtered to the requested taxonomies and comma-joined per taxonomy. Semantic ids: 0 is
  BACKGROUND, 1 is UNLABELLED, labeled classes follow in order of first appearance.
* A *labeled object* (instance_segmentation instance, one bounding box) is a prim carrying labels
  of the requested taxonomies, with all its descendants. A pixel belongs to the lowest labeled
  prim above (or at) its gprim; a labeled prim with labeled descendants also gets its own box,
  whose ``occlusionRatio`` is -1 (as Replicator's bounding-box nodes document).
* Each instance of a ``PointInstancer`` is its own object (key: path and instance index).
* instance_id_segmentation ids are per rendered gprim occurrence: geometry index + 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from omni.sdg_studio.backends.embedded.scene import LabelNode, SceneGeometry
from omni.sdg_studio.core.colors import (
    BACKGROUND,
    BACKGROUND_ID,
    FIRST_LABELED_ID,
    UNLABELLED,
    UNLABELLED_ID,
    stable_color,
)

LabelKey = tuple[tuple[str, str], ...]
ObjectKey = tuple[str, int]


@dataclass
class LabeledObject:
    """A labeled prim with its descendants: one instance / bounding box."""

    key: ObjectKey
    path: str
    labels: dict[str, str]
    #: Geometry indices of every rendered gprim under the prim.
    geometries: list[int] = field(default_factory=list)
    has_labeled_descendants: bool = False
    #: Index into the label table (bounding boxes' ``semanticId``).
    label_index: int = 0
    #: instance_segmentation id.
    instance_id: int = 0

    @cached_property
    def color(self) -> tuple[int, int, int, int]:
        """Stable display color of the instance (path and point-instance index)."""
        return stable_color(f"{self.path}#{self.key[1]}")


def _filtered(nodes: Sequence[LabelNode], taxonomies: Sequence[str]) -> dict[str, str]:
    """Merged labels of ``nodes`` (ancestors first) per requested taxonomy, comma-joined."""
    merged: dict[str, list[str]] = {}
    for node in nodes:
        for taxonomy in taxonomies:
            for label in node.labels.get(taxonomy, ()):
                bucket = merged.setdefault(taxonomy, [])
                if label not in bucket:
                    bucket.append(label)
    return {t: ",".join(merged[t]) for t in taxonomies if merged.get(t)}


def _object_key(node: LabelNode, geometry: SceneGeometry) -> ObjectKey:
    if geometry.instance is not None:
        instancer, index = geometry.instance
        if node.path == instancer or node.path.startswith(instancer + "/") or node.path == geometry.path:
            return (node.path, index)
    return (node.path, -1)


@dataclass(frozen=True)
class CoverageUnits:
    """Labeled geometries grouped by the objects holding them: where any geometry of a unit covers a pixel,
    every object of the unit covers it (nested labeled prims make units smaller than objects)."""

    #: Unit of every geometry, -1 for unlabeled ones (G,).
    of_geometry: np.ndarray
    #: Sorted geometry indices of every unit.
    members: tuple[np.ndarray, ...]
    #: One geometry of every unit (its objects are the unit's).
    first: np.ndarray


class LabelTables:
    """Id tables of one scene for one set of taxonomies."""

    def __init__(self, geometries: Sequence[SceneGeometry], taxonomies: Sequence[str]) -> None:
        self.taxonomies = tuple(taxonomies)
        self.label_keys: list[LabelKey] = []
        self._label_index: dict[LabelKey, int] = {}
        self.objects: list[LabeledObject] = []
        self._object_index: dict[ObjectKey, int] = {}
        count = len(geometries)
        #: Lookups indexed by geometry index + 1 (slot 0 is background / miss).
        self.semantic_lut = np.zeros(count + 1, np.uint32)
        self.instance_lut = np.zeros(count + 1, np.uint32)
        self.object_of_geometry = np.full(count, -1, np.int64)
        for g, geometry in enumerate(geometries):
            chain = geometry.label_chain
            labeled = [i for i, node in enumerate(chain) if _filtered([node], self.taxonomies)]
            lowest = -1
            for rank, i in enumerate(labeled):
                node = chain[i]
                lowest = self._object(
                    _object_key(node, geometry), node.path, _filtered(chain[: i + 1], self.taxonomies)
                )
                self.objects[lowest].geometries.append(g)
                if rank < len(labeled) - 1:
                    self.objects[lowest].has_labeled_descendants = True
            if lowest < 0:
                self.semantic_lut[g + 1] = UNLABELLED_ID
                self.instance_lut[g + 1] = UNLABELLED_ID
            else:
                obj = self.objects[lowest]
                self.semantic_lut[g + 1] = FIRST_LABELED_ID + obj.label_index
                self.instance_lut[g + 1] = obj.instance_id
                self.object_of_geometry[g] = lowest

    def _label(self, labels: dict[str, str]) -> int:
        key: LabelKey = tuple(sorted(labels.items()))
        if key not in self._label_index:
            self._label_index[key] = len(self.label_keys)
            self.label_keys.append(key)
        return self._label_index[key]

    def _object(self, key: ObjectKey, path: str, labels: dict[str, str]) -> int:
        index = self._object_index.get(key)
        if index is None:
            index = len(self.objects)
            self._object_index[key] = index
            self.objects.append(
                LabeledObject(key, path, labels, label_index=self._label(labels), instance_id=FIRST_LABELED_ID + index)
            )
        return index

    @cached_property
    def memberships(self) -> tuple[np.ndarray, np.ndarray]:
        """(object index, geometry index) of every geometry in every object, as two arrays."""
        owner = [i for i, o in enumerate(self.objects) for _ in o.geometries]
        member = [g for o in self.objects for g in o.geometries]
        return np.asarray(owner, np.int64), np.asarray(member, np.int64)

    @cached_property
    def membership_keys(self) -> np.ndarray:
        """Sorted ``geometry * len(objects) + object`` of every membership (for "does it own this geometry")."""
        owner, member = self.memberships
        return np.sort(member * max(len(self.objects), 1) + owner)

    @cached_property
    def _objects_by_geometry(self) -> tuple[np.ndarray, np.ndarray]:
        """Objects holding each geometry: ``objects[starts[g]:starts[g + 1]]``."""
        owner, member = self.memberships
        order = np.argsort(member, kind="stable")
        starts = np.searchsorted(member[order], np.arange(len(self.object_of_geometry) + 1))
        return starts, owner[order]

    @cached_property
    def units(self) -> CoverageUnits:
        """The labeled geometries grouped by the set of objects holding them."""
        starts, objects = self._objects_by_geometry
        unit_of: dict[bytes, int] = {}
        of_geometry = np.full(len(self.object_of_geometry), -1, np.int64)
        members: list[list[int]] = []
        for g in np.flatnonzero(np.diff(starts) > 0).tolist():
            key = objects[starts[g] : starts[g + 1]].tobytes()
            unit = unit_of.setdefault(key, len(members))
            if unit == len(members):
                members.append([])
            members[unit].append(g)
            of_geometry[g] = unit
        first = np.array([m[0] for m in members], np.int64)
        return CoverageUnits(of_geometry, tuple(np.array(m, np.int64) for m in members), first)

    def objects_of(self, geometry: np.ndarray, item: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every (object, item) where the object holds ``geometry[i]`` (items repeated per object)."""
        starts, objects = self._objects_by_geometry
        sizes = starts[geometry + 1] - starts[geometry]
        first = np.repeat(starts[geometry] - np.cumsum(sizes) + sizes, sizes)
        return objects[first + np.arange(int(sizes.sum()))], np.repeat(item, sizes)

    @property
    def has_labels(self) -> bool:
        return bool(self.objects)

    def semantic_labels(self, semantic_id: int) -> dict[str, str]:
        """``{taxonomy: labels}`` of a semantic id (BACKGROUND / UNLABELLED under ``class``)."""
        if semantic_id == BACKGROUND_ID:
            return {"class": BACKGROUND}
        if semantic_id == UNLABELLED_ID:
            return {"class": UNLABELLED}
        return dict(self.label_keys[semantic_id - FIRST_LABELED_ID])

    def display_name(self, semantic_id: int) -> str:
        """One string naming a semantic id (the label, or ``taxonomy:label`` pairs for several taxonomies)."""
        labels = self.semantic_labels(semantic_id)
        if len(labels) == 1:
            return next(iter(labels.values()))
        return ";".join(f"{k}:{v}" for k, v in sorted(labels.items()))
