"""Which prims the rules look at, and which rules match each of them.

Rules that read only the name and the type are evaluated once per distinct (name, type) pair,
each rule over all pairs at once (``map`` of the compiled regex); rules on path, asset, folder or
material are evaluated per prim with lazily computed fields.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import PurePosixPath
from re import Pattern

from pxr import Pcp, Sdf, Tf, Usd, UsdShade

from omni.sdg_studio.core.semantics.rules import CHEAP_FIELDS, Rule, RuleSet

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


def _single_name_test(rule: Rule) -> Pattern[str] | None:
    if len(rule.matches) == 1 and not rule.unless and rule.matches[0].on == "name":
        return rule.matches[0].regex
    return None


class RuleMatcher:
    """Finds the matching rules of every prim, in precedence order."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.ranked = ruleset.ranked_rules()
        self._rank = {rule.order: index for index, rule in enumerate(self.ranked)}

    def _by_name_and_type(self, pairs: Sequence[NameType]) -> dict[NameType, list[RuleMatch]]:
        """Matches of the rules reading only name and type, per distinct (name, type)."""
        found: dict[NameType, list[RuleMatch]] = {}
        types = {t for _, t in pairs}
        for rule in self.ranked:
            if not rule.fields <= CHEAP_FIELDS:
                continue
            allowed = {t for t in types if type_passes(rule, t)}
            candidates = pairs if len(allowed) == len(types) else [p for p in pairs if p[1] in allowed]
            if not rule.matches and not rule.unless:
                for pair in candidates:
                    found.setdefault(pair, []).append((rule, {}))
                continue
            regex = _single_name_test(rule)
            if regex is not None:
                test = regex.search if rule.matches[0].kind == "contains" else regex.fullmatch
                for pair, hit in zip(candidates, map(test, [p[0] for p in candidates]), strict=True):
                    if hit is not None:
                        found.setdefault(pair, []).append((rule, hit.groupdict() if regex.groups else {}))
                continue
            for pair in candidates:
                groups = _groups(rule, {"name": pair[0], "type": pair[1]})
                if groups is not None:
                    found.setdefault(pair, []).append((rule, groups))
        return found

    def match_all(
        self, prims: Sequence[Usd.Prim], names: Sequence[str], types: Sequence[str]
    ) -> dict[int, list[RuleMatch]]:
        """Index of every matched prim -> its matching rules in precedence order."""
        pairs = list(zip(names, types, strict=True))
        by_pair = self._by_name_and_type(list(dict.fromkeys(pairs)))
        matched = {i: by_pair[pair] for i, pair in enumerate(pairs) if pair in by_pair}
        costly = [rule for rule in self.ranked if not rule.fields <= CHEAP_FIELDS]
        if not costly:
            return matched
        for index, prim in enumerate(prims):
            fields = PrimFields(prim, names[index], types[index], self.ruleset)
            extra = [
                (rule, groups)
                for rule in costly
                if type_passes(rule, types[index]) and (groups := _groups(rule, fields)) is not None
            ]
            if extra:
                combined = [*matched.get(index, []), *extra]
                matched[index] = sorted(combined, key=lambda m: self._rank[m[0].order])
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


def scope_prims(
    stage: Usd.Stage, roots: Sequence[str], include_descendants: bool, exclude: Pattern[str] | None
) -> Iterator[Usd.Prim]:
    """Prims under ``roots`` in pre-order, subtrees whose path ``exclude`` fully matches pruned."""
    prims, _ = scope_roots(stage, roots)
    for root in prims:
        if not include_descendants:
            if not root.IsPseudoRoot() and not (exclude and exclude.fullmatch(str(root.GetPath()))):
                yield root
            continue
        walk = Usd.PrimRange.Stage(stage, TRAVERSAL) if root.IsPseudoRoot() else Usd.PrimRange(root, TRAVERSAL)
        if exclude is None:
            yield from walk
            continue
        iterator = iter(walk)
        for prim in iterator:
            if exclude.fullmatch(str(prim.GetPath())):
                iterator.PruneChildren()
                continue
            yield prim
