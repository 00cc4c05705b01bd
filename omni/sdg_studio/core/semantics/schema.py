"""Read semantic labels from both schemas Isaac Sim knows.

* UsdSemantics ``LabelsAPI`` (multiple-apply, instance name = taxonomy):
  ``token[] semantics:labels:<taxonomy>``, applied token ``SemanticsLabelsAPI:<taxonomy>``.
* Legacy ``SemanticsAPI`` (multiple-apply, any instance name):
  ``string semantic:<instance>:params:semanticType`` / ``semanticData``, applied token
  ``SemanticsAPI:<instance>``. usd-core does not register it, so it is detected through
  ``GetPrimTypeInfo().GetAppliedAPISchemas()`` (``GetAppliedSchemas()`` omits it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pxr import Usd, UsdSemantics

LABELS_API_PREFIX = "SemanticsLabelsAPI:"
LEGACY_API_PREFIX = "SemanticsAPI:"
LEGACY_ATTR_PREFIX = "semantic:"
LEGACY_TYPE_SUFFIX = ":params:semanticType"
LEGACY_DATA_SUFFIX = ":params:semanticData"

Labels = dict[str, tuple[str, ...]]

#: A taxonomy is an applied-schema instance name and the ``class`` in Replicator's ``class:label`` tokens.
TAXONOMY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Characters that break Replicator's label parsing (space-separated ``type:label`` tokens, comma lists).
_BAD_LABEL_CHARS = re.compile(r"[\s:,]")
#: Control characters (NUL, escape, DEL, C1): invisible in every viewer, and NUL ends C strings.
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def labels_attr_name(taxonomy: str) -> str:
    """``semantics:labels:<taxonomy>``, the ``token[]`` attribute of ``LabelsAPI``."""
    return f"semantics:labels:{taxonomy}"


def labels_api_token(taxonomy: str) -> str:
    """``SemanticsLabelsAPI:<taxonomy>``, the applied-schema token of ``LabelsAPI``."""
    return LABELS_API_PREFIX + taxonomy


def taxonomy_problem(taxonomy: str) -> str | None:
    """Why ``taxonomy`` cannot be written, or ``None`` when it is valid."""
    if not TAXONOMY_PATTERN.fullmatch(taxonomy):
        return (
            f"taxonomy {taxonomy!r} must start with a letter or '_' and hold only letters, digits and '_' "
            "(':' and spaces break Replicator's 'type:label' tokens)"
        )
    return None


def label_problem(label: str) -> str | None:
    """Why ``label`` cannot be written, or ``None`` when it is valid."""
    if not label:
        return "label is empty"
    control = _CONTROL_CHARS.search(label)
    if control:
        return f"label {label!r} contains the control character U+{ord(control.group()):04X}"
    bad = _BAD_LABEL_CHARS.search(label)
    if bad:
        what = "whitespace" if bad.group().isspace() else repr(bad.group())
        return f"label {label!r} contains {what} (spaces, ':' and ',' break Replicator's label parsing)"
    return None


@dataclass(frozen=True)
class LegacySemantics:
    """One legacy ``SemanticsAPI`` instance on a prim: its instance name, type (taxonomy) and data (label)."""

    instance: str
    semantic_type: str
    semantic_data: str


def legacy_attr_names(instance: str) -> tuple[str, str]:
    """The (semanticType, semanticData) attribute names of a legacy instance."""
    base = f"{LEGACY_ATTR_PREFIX}{instance}"
    return base + LEGACY_TYPE_SUFFIX, base + LEGACY_DATA_SUFFIX


def legacy_instances(prim: Usd.Prim) -> list[str]:
    """Names of the legacy ``SemanticsAPI`` instances applied to ``prim``.

    An instance exists when its ``SemanticsAPI:<instance>`` token is applied (as Isaac Sim's editor
    and recorder see it); ``GetPrimTypeInfo().GetAppliedAPISchemas()`` lists it even though usd-core
    does not register the schema. Stray ``semantic:*`` attributes without the token are no label.
    """
    return [
        token[len(LEGACY_API_PREFIX) :]
        for token in prim.GetPrimTypeInfo().GetAppliedAPISchemas()
        if token.startswith(LEGACY_API_PREFIX)
    ]


def legacy_semantics(prim: Usd.Prim, time: Usd.TimeCode | float | None = None) -> list[LegacySemantics]:
    """Every legacy instance on ``prim`` with its type and data ("" where unauthored)."""
    code = Usd.TimeCode.Default() if time is None else Usd.TimeCode(time)
    out = []
    for instance in legacy_instances(prim):
        type_name, data_name = legacy_attr_names(instance)
        type_attr, data_attr = prim.GetAttribute(type_name), prim.GetAttribute(data_name)
        semantic_type = (type_attr.Get(code) if type_attr else None) or ""
        semantic_data = (data_attr.Get(code) if data_attr else None) or ""
        out.append(LegacySemantics(instance, str(semantic_type), str(semantic_data)))
    return out


def labels_api_labels(prim: Usd.Prim, time: Usd.TimeCode | float | None = None) -> Labels:
    """Direct ``LabelsAPI`` labels of ``prim`` per taxonomy, in authored order, duplicates dropped."""
    code = Usd.TimeCode.Default() if time is None else Usd.TimeCode(time)
    out: Labels = {}
    for taxonomy in UsdSemantics.LabelsAPI.GetDirectTaxonomies(prim):
        attr = UsdSemantics.LabelsAPI(prim, taxonomy).GetLabelsAttr()
        value = attr.Get(code) if attr else None
        out[taxonomy] = tuple(dict.fromkeys(str(v) for v in (value or ())))
    return out


def direct_labels(prim: Usd.Prim, time: Usd.TimeCode | float | None = None) -> Labels:
    """Labels authored on ``prim`` itself, both schemas merged (legacy type becomes the taxonomy)."""
    out = {tax: list(labels) for tax, labels in labels_api_labels(prim, time).items()}
    for legacy in legacy_semantics(prim, time):
        if legacy.semantic_type and legacy.semantic_data:
            bucket = out.setdefault(legacy.semantic_type, [])
            if legacy.semantic_data not in bucket:
                bucket.append(legacy.semantic_data)
    return {tax: tuple(labels) for tax, labels in out.items()}


def inherited_labels(prim: Usd.Prim, time: Usd.TimeCode | float | None = None) -> Labels:
    """Labels of ``prim`` and all its ancestors, ancestors first, per taxonomy (as annotators merge them)."""
    chain = []
    current = prim
    while current and current.GetPath() != current.GetPath().absoluteRootPath:
        chain.append(current)
        current = current.GetParent()
    merged: dict[str, list[str]] = {}
    for ancestor in reversed(chain):
        for taxonomy, labels in direct_labels(ancestor, time).items():
            bucket = merged.setdefault(taxonomy, [])
            bucket.extend(label for label in labels if label not in bucket)
    return {tax: tuple(labels) for tax, labels in merged.items() if labels}
