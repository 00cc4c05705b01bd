"""Which training class a labeled instance belongs to: its labels resolved through a :class:`ClassTable`.

An instance's labels are Replicator's ``{taxonomy: "a,b"}`` dicts (several labels comma-joined).
Its class is, for the first of ``semantic_types`` it carries, the first of its labels listed in the
table (the rule the COCO writer follows). Ids start at 1; 0 stays free for "background", as
torchvision's detection models expect. The table is fixed (labels not listed are skipped and
reported once), except with ``grow=True`` where an unlisted label is added with the next id, as
the writers do.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pxr import Usd

from omni.sdg_studio.core.classes import ClassTable, LabelClass
from omni.sdg_studio.core.colors import BACKGROUND, INVALID, UNLABELLED, stable_color
from omni.sdg_studio.core.semantics.prim_labels import prim_has_label_tokens
from omni.sdg_studio.core.semantics.schema import direct_labels

logger = logging.getLogger(__name__)

#: Label texts that name no class (Replicator's reserved ids and unmapped instances).
RESERVED_LABELS = frozenset({BACKGROUND, UNLABELLED, INVALID})


@dataclass
class TargetClasses:
    """Resolves instance labels to classes of ``table`` for ``semantic_types`` (first present wins)."""

    table: ClassTable
    semantic_types: tuple[str, ...] = ("class",)
    grow: bool = False
    #: Labels met that are not in the table (fixed tables only), for one warning each.
    skipped: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.semantic_types = tuple(self.semantic_types)
        if not self.semantic_types:
            raise ValueError("semantic_types must name at least one taxonomy")

    @classmethod
    def of_labels(cls, labels: Iterable[str], semantic_types: Sequence[str] = ("class",)) -> TargetClasses:
        """A table of ``labels`` sorted by name (ids 1, 2, ...): the same in every process and run."""
        names = sorted({name for name in labels if name and name not in RESERVED_LABELS})
        return cls.of_names(names, semantic_types)

    @classmethod
    def of_names(cls, names: Sequence[str], semantic_types: Sequence[str] = ("class",)) -> TargetClasses:
        """A table of ``names`` in the order given (ids 1, 2, ...)."""
        listed = [LabelClass(n, i, stable_color(n)) for i, n in enumerate(dict.fromkeys(names), start=1)]
        return cls(ClassTable(listed), tuple(semantic_types))

    @classmethod
    def of_rules(cls, rules_path: str | os.PathLike[str], semantic_types: Sequence[str] = ("class",)) -> TargetClasses:
        """The ``classes`` of a rules file (their ids), as the writers and visualizer use them."""
        from omni.sdg_studio.core.semantics.rules_file import load_class_table

        return cls(load_class_table(os.fspath(rules_path)), tuple(semantic_types))

    @classmethod
    def of_stage(cls, stage: Usd.Stage, semantic_types: Sequence[str] = ("class",)) -> TargetClasses:
        """Every label of ``semantic_types`` authored on ``stage`` (both schemas), sorted: a table that
        every worker opening the same stage builds identically."""
        return cls.of_labels(stage_labels(stage, semantic_types), semantic_types)

    @property
    def names(self) -> dict[int, str]:
        """Class id -> name, by id."""
        return {c.id: c.name for c in sorted(self.table.classes, key=lambda c: c.id)}

    @property
    def num_classes(self) -> int:
        """Largest id + 1: the ``num_classes`` of a torchvision detection model (0 = background)."""
        return max((c.id for c in self.table.classes), default=0) + 1

    def label_text(self, labels: Mapping[str, str] | str) -> str | None:
        """The comma-joined labels of the first of :attr:`semantic_types` present (a str is taken as is)."""
        if isinstance(labels, str):
            return labels
        for semantic_type in self.semantic_types:
            if semantic_type in labels:
                return str(labels[semantic_type])
        return None

    def resolve(self, labels: Mapping[str, str] | str) -> LabelClass | None:
        """The class of an instance carrying ``labels``, or ``None`` (reserved, unlabeled or not in the table)."""
        text = self.label_text(labels)
        if text is None:
            return None
        parts = [part.strip() for part in text.split(",") if part.strip()]
        if not parts or any(part in RESERVED_LABELS for part in parts):
            return None
        for part in parts:
            if part in self.table:
                return self.table.get(part)
        if self.grow:
            return self.table.get(parts[0])
        if text not in self.skipped:
            self.skipped.add(text)
            logger.warning("label %r is not in the class table: its instances are left out", text)
        return None


    def add_labels_of(self, instance: Mapping[str, object]) -> None:
        """Resolve every label of an ``instance_segmentation`` output, in prim-path order: with ``grow`` the
        labels met first get the lower ids, the same in every run whatever thread writes the frame."""
        info = instance.get("info")
        if not isinstance(info, Mapping):
            return
        paths, semantics = info.get("idToLabels") or {}, info.get("idToSemantics") or {}
        for key in sorted(semantics, key=lambda k: str(paths.get(k, ""))):
            if isinstance(semantics[key], Mapping):
                self.resolve(semantics[key])


def stage_labels(stage: Usd.Stage, semantic_types: Sequence[str] = ("class",)) -> list[str]:
    """Sorted labels of ``semantic_types`` authored anywhere on ``stage`` (instance proxies included)."""
    found: set[str] = set()
    for prim in Usd.PrimRange.Stage(stage, Usd.TraverseInstanceProxies()):
        if not prim_has_label_tokens(prim):
            continue
        labels = direct_labels(prim)
        for semantic_type in semantic_types:
            found.update(labels.get(semantic_type, ()))
    return sorted(found - RESERVED_LABELS)
