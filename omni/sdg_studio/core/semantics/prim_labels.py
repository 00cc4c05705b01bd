"""The labels one prim carries now (its own opinions, both schemas), as the planner needs them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pxr import Usd

from omni.sdg_studio.core.semantics.schema import (
    LABELS_API_PREFIX,
    LEGACY_API_PREFIX,
    LegacySemantics,
    labels_api_labels,
    labels_attr_name,
    legacy_attr_names,
    legacy_semantics,
)


def dedupe(labels: Iterable[str]) -> tuple[str, ...]:
    """``labels`` in order, duplicates dropped."""
    return tuple(dict.fromkeys(labels))


def has_label_tokens(tokens: Sequence[str]) -> bool:
    """True when applied-schema ``tokens`` include either label schema."""
    return any(t.startswith((LABELS_API_PREFIX, LEGACY_API_PREFIX)) for t in tokens)


def prim_has_label_tokens(prim: Usd.Prim) -> bool:
    """True when ``prim`` applies either label schema (detected on plain usd-core too)."""
    return has_label_tokens(prim.GetPrimTypeInfo().GetAppliedAPISchemas())


def instance_root(prim: Usd.Prim) -> Usd.Prim | None:
    """The nearest writable instance prim above an instance proxy (``None`` if there is none)."""
    current = prim.GetParent()
    while current and (current.IsInstanceProxy() or not current.IsInstance()):
        current = current.GetParent()
    return current if current and current.IsInstance() else None


@dataclass(frozen=True)
class PrimLabels:
    """A prim's own labels: ``LabelsAPI`` per taxonomy, legacy instances, time-sampled attributes."""

    path: str
    type_name: str
    labels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    legacy: tuple[LegacySemantics, ...] = ()
    time_sampled: frozenset[str] = frozenset()
    legacy_time_sampled: frozenset[str] = frozenset()

    @classmethod
    def read(cls, prim: Usd.Prim) -> PrimLabels:
        labels = labels_api_labels(prim)
        legacy = tuple(legacy_semantics(prim))
        sampled = frozenset(t for t in labels if prim.GetAttribute(labels_attr_name(t)).GetNumTimeSamples() > 0)
        legacy_sampled = frozenset(
            item.instance
            for item in legacy
            if any(prim.GetAttribute(name).GetNumTimeSamples() > 0 for name in legacy_attr_names(item.instance))
        )
        return cls(str(prim.GetPath()), prim.GetTypeName(), labels, legacy, sampled, legacy_sampled)

    def combined(self) -> Mapping[str, tuple[str, ...]]:
        """Both schemas merged per taxonomy (legacy type is the taxonomy), like ``direct_labels``."""
        cached = self.__dict__.get("_combined")  # computed once: the planner asks often
        if cached is None:
            out = {tax: list(labels) for tax, labels in self.labels.items()}
            for item in self.legacy:
                if item.semantic_type and item.semantic_data:
                    bucket = out.setdefault(item.semantic_type, [])
                    if item.semantic_data not in bucket:
                        bucket.append(item.semantic_data)
            cached = self.__dict__["_combined"] = {tax: tuple(labels) for tax, labels in out.items()}
        return cached

    def taxonomies(self) -> set[str]:
        """Taxonomies present in either schema (a legacy instance with an empty label counts)."""
        return {*self.labels, *(item.semantic_type for item in self.legacy if item.semantic_type)}
