"""Which prims the rules look at, and which rules match each of them.

Rules that read only the name and the type are evaluated once per distinct (name, type) pair,
each rule over all pairs at once (``map`` of the compiled regex); rules on path, asset, folder or
material are evaluated per prim with lazily computed fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any, Union

from pxr import Pcp, Sdf, Tf, Usd, UsdShade

from omni.sdg_studio.core.semantics.rules import CHEAP_FIELDS, Match, Rule, RuleSet, glob_to_regex

#: Prims the rules see: active, loaded, defined, not abstract, including instance proxies.
TRAVERSAL = Usd.TraverseInstanceProxies(Usd.PrimDefaultPredicate)
_GPRIM = Tf.Type.FindByName("UsdGeomGprim")

RuleMatch = tuple[Rule, dict[str, str]]
NameType = tuple[str, str]


def referenced_asset(prim: Usd.Prim) -> str:
    """Layer path of the strongest reference/payload arc that leaves the stage's own layers."""
    own = {layer.identifier for layer in prim.GetStage().GetLayerStack()}
    for arc in Usd.PrimCompositionQuery(prim).GetCompositionArcs():
        if arc.GetArcType() not in (Pcp.ArcTypeReference, Pcp.ArcTypePayload):
            continue
        layer = arc.GetTargetLayer()
        if layer is not None and layer.identifier not in own:
            return layer.realPath or layer.identifier
    return ""


def bound_material_name(prim: Usd.Prim) -> str:
    material, _ = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial()
    return material.GetPrim().GetName() if material else ""


class PrimFields:
    """Lazily computed match and template fields of one prim."""

    def __init__(self, prim: Usd.Prim, name: str, type_name: str, ruleset: RuleSet) -> None:
        self.prim, self.ruleset = prim, ruleset
        self._values: dict[str, str] = {"name": name, "type": type_name}

    def get(self, key: str) -> str:
        found = self._values.get(key)
        if found is None:
            found = self._values[key] = self._compute(key)
        return found

    def _compute(self, key: str) -> str:
        prim = self.prim
        if key == "path":
            return str(prim.GetPath())
        if key == "parent":
            return prim.GetPath().GetParentPath().name
        if key == "norm":
            return self.ruleset.normalizer.normalize(self.get("name"))
        if key == "asset":
            return PurePosixPath(referenced_asset(prim).replace("\\", "/")).name
        if key == "folder":
            asset = referenced_asset(prim).replace("\\", "/")
            return PurePosixPath(asset).parent.name if asset else ""
        if key == "material":
            return bound_material_name(prim)
        raise KeyError(key)


def _isa(type_name: str, bases: Sequence[str]) -> bool:
    prim_type = Usd.SchemaRegistry.GetTypeFromName(type_name)
    return any(prim_type.IsA(Usd.SchemaRegistry.GetTypeFromName(base)) for base in bases)


def is_gprim_type(type_name: str) -> bool:
    """Whether prims of ``type_name`` are renderable geometry (``UsdGeomGprim``)."""
    return bool(type_name) and Usd.SchemaRegistry.GetTypeFromName(type_name).IsA(_GPRIM)


def type_passes(rule: Rule, type_name: str) -> bool:
    """The rule's ``prim_types`` (exact) and ``isa`` (schema inheritance) filters."""
    return (not rule.prim_types or type_name in rule.prim_types) and (not rule.isa or _isa(type_name, rule.isa))


def _groups(rule: Rule, value_of: Mapping[str, str] | PrimFields) -> dict[str, str] | None:
    """The rule's regex groups when all its clauses hold and no ``unless`` does, else ``None``."""
    get = value_of.get
    groups: dict[str, str] = {}
    for match in rule.matches:
        found = match.test(get(match.on) or "")
        if found is None:
            return None
        groups.update(found.groupdict())
    if any(m.test(get(m.on) or "") is not None for m in rule.unless):
        return None
    return groups


#: Fields read as whole columns (one ``map`` of the regex per rule); others come from :class:`PrimFields`.
COLUMN_FIELDS = frozenset({"name", "type", "path"})
Hits = dict[int, dict[str, str]]
Column = Union[Sequence[str], "PathColumn"]  # Union: this alias is evaluated at runtime


def _filter(hits: Hits, match: Match, column: Column, keep: bool) -> Hits:
    """Rows of ``hits`` whose ``column`` value passes (``keep``) or fails ``match``, groups merged."""
    test = match.regex.search if match.kind == "contains" else match.regex.fullmatch
    rows = list(hits)
    out: Hits = {}
    values = column.take(rows) if isinstance(column, PathColumn) else [column[r] for r in rows]
    for row, found in zip(rows, map(test, values), strict=True):
        if (found is not None) != keep:
            continue
        groups = hits[row]
        out[row] = {**groups, **found.groupdict()} if keep and found is not None and match.regex.groups else groups
    return out


def evaluate(rule: Rule, rows: Sequence[int], column: Callable[[str], Column]) -> Hits:
    """The ``rows`` (indexes into the columns) a rule's clauses match, with their regex groups."""
    hits: Hits = {row: {} for row in rows}
    for match in rule.matches:
        hits = _filter(hits, match, column(match.on), keep=True)
    for match in rule.unless:
        hits = _filter(hits, match, column(match.on), keep=False)
    return hits


class PathColumn:
    """Prim path strings, computed only for the rows a path clause actually tests."""

    def __init__(self, prims: Sequence[Usd.Prim]) -> None:
        self.prims = prims
        self._cache: dict[int, str] = {}

    def take(self, rows: Sequence[int]) -> list[str]:
        """The paths of ``rows``; missing ones are computed in one pass."""
        missing = [r for r in rows if r not in self._cache]
        if missing:
            prims = self.prims
            self._cache.update(zip(missing, map(str, map(Usd.Prim.GetPath, [prims[r] for r in missing])), strict=True))
        cache = self._cache
        return [cache[r] for r in rows]


class RuleMatcher:
    """Finds the matching rules of every prim, in precedence order."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.ranked = ruleset.ranked_rules()
        self._rank = {rule.order: index for index, rule in enumerate(self.ranked)}

    def match_all(
        self, prims: Sequence[Usd.Prim], names: Sequence[str], types: Sequence[str]
    ) -> dict[int, list[RuleMatch]]:
        """Index of every matched prim -> its matching rules in precedence order.

        Rules on name and type are evaluated once per distinct (name, type); rules on the path
        over the path column; rules on asset, folder or material per prim.
        """
        pairs = list(zip(names, types, strict=True))
        distinct = list(dict.fromkeys(pairs))
        distinct_columns = {"name": [p[0] for p in distinct], "type": [p[1] for p in distinct]}
        paths = PathColumn(prims)

        def prim_column(name: str) -> Column:
            return {"name": names, "type": types, "path": paths}[name]

        by_pair: dict[NameType, list[RuleMatch]] = {}
        matched: dict[int, list[RuleMatch]] = {}
        distinct_types = set(types)
        for rule in self.ranked:
            allowed = {t for t in distinct_types if type_passes(rule, t)}
            if not allowed:
                continue
            if rule.fields <= CHEAP_FIELDS:
                rows = [i for i, p in enumerate(distinct) if p[1] in allowed]
                for row, groups in evaluate(rule, rows, distinct_columns.__getitem__).items():
                    by_pair.setdefault(distinct[row], []).append((rule, groups))
            elif rule.fields <= COLUMN_FIELDS:
                rows = [i for i, t in enumerate(types) if t in allowed]
                for row, groups in evaluate(rule, rows, prim_column).items():
                    matched.setdefault(row, []).append((rule, groups))
            else:
                for row in (i for i, t in enumerate(types) if t in allowed):
                    groups = _groups(rule, PrimFields(prims[row], names[row], types[row], self.ruleset))
                    if groups is not None:
                        matched.setdefault(row, []).append((rule, groups))
        if not matched:
            return {i: by_pair[pair] for i, pair in enumerate(pairs) if pair in by_pair}
        for i, pair in enumerate(pairs):
            shared = by_pair.get(pair)
            if shared is None:
                continue
            own = matched.get(i)
            matched[i] = shared if own is None else sorted([*shared, *own], key=lambda m: self._rank[m[0].order])
        return matched


def scope_roots(stage: Usd.Stage, roots: Sequence[str]) -> tuple[list[Usd.Prim], list[str]]:
    """Existing root prims (roots nested in other roots dropped) and the roots that are missing."""
    kept: list[Sdf.Path] = []
    for path in sorted({Sdf.Path(r) for r in roots}):
        if not any(path.HasPrefix(k) for k in kept):
            kept.append(path)
    prims, missing = [], []
    for path in kept:
        prim = stage.GetPrimAtPath(path)
        if prim:
            prims.append(prim)
        else:
            missing.append(str(path))
    return prims, missing


class ExcludeFilter:
    """The scope's excluded subtrees: path globs, fully matched (``**`` crosses ``/``)."""

    def __init__(self, patterns: Sequence[str], ignore_case: bool) -> None:
        source = "|".join(f"(?:{glob_to_regex(p.rstrip('/') or '/')})" for p in patterns)
        self.regex = re.compile(source, re.IGNORECASE if ignore_case else 0)
        deep = any("**" in p for p in patterns)
        #: Deepest path a pattern can match (elements), or ``None`` when a ``**`` reaches any depth.
        self.max_depth = None if deep else max(p.rstrip("/").count("/") for p in patterns)

    def matches(self, prim: Usd.Prim) -> bool:
        return self.regex.fullmatch(str(prim.GetPath())) is not None


def _subtree(prim: Usd.Prim) -> Usd.PrimRange:
    return Usd.PrimRange.Stage(prim.GetStage(), TRAVERSAL) if prim.IsPseudoRoot() else Usd.PrimRange(prim, TRAVERSAL)


def _below(prim: Usd.Prim) -> Any:
    """``prim``'s descendants in pre-order (USD iterates; Python only hands them on), as a ``Usd.PrimRange``
    iterator (``PruneChildren()`` skips the last prim's descendants)."""
    walk = iter(_subtree(prim))
    if not prim.IsPseudoRoot():
        next(walk)
    return walk


def _collect_excluding(
    prim: Usd.Prim, depth: int, scope_exclude: ExcludeFilter, limit: int, out: list[Usd.Prim]
) -> None:
    """Append ``prim``'s descendants, testing ``scope_exclude`` only down to depth ``limit``."""
    for child in prim.GetFilteredChildren(TRAVERSAL):
        if scope_exclude.matches(child):
            continue
        out.append(child)
        if depth + 1 < limit:
            _collect_excluding(child, depth + 1, scope_exclude, limit, out)
        else:  # below the deepest pattern nothing else can be excluded
            out.extend(_below(child))


def scope_prims(
    stage: Usd.Stage, roots: Sequence[str], include_descendants: bool, scope_exclude: ExcludeFilter | None
) -> list[Usd.Prim]:
    """Prims under ``roots`` in pre-order, minus the subtrees whose path ``scope_exclude`` matches.

    Patterns without ``**`` are only tested down to their own depth; below, USD iterates alone.
    """
    prims, _ = scope_roots(stage, roots)
    out: list[Usd.Prim] = []
    for root in prims:
        if scope_exclude is not None and not root.IsPseudoRoot() and scope_exclude.matches(root):
            continue
        if not root.IsPseudoRoot():
            out.append(root)
        if not include_descendants:
            continue
        if scope_exclude is None:
            out.extend(_below(root))
        elif scope_exclude.max_depth is None:
            iterator = _below(root)
            for prim in iterator:
                if scope_exclude.matches(prim):
                    iterator.PruneChildren()
                else:
                    out.append(prim)
        else:
            _collect_excluding(root, root.GetPath().pathElementCount, scope_exclude, scope_exclude.max_depth, out)
    return out
