"""Labels for the parts of instances: how ``defaults.instances`` settles matches on instance proxies.

An instance proxy cannot be written: its opinions come from the instance's prototype. The planner
records what the rules want for each proxy (a *part*); :func:`resolve_instances` then decides, per
instance root, where those labels go:

* ``root``: on the instance root, when every matched part (and the root's own match) wants the same
  labels; otherwise a CONFLICT row names the parts and their labels and nothing is written for them.
* ``deinstance``: the instances whose parts need labels of their own get ``instanceable = false`` in
  the labels layer (DEINSTANCE rows, nested instances included) and their parts are labeled as
  ordinary prims.
* ``asset``: the part labels go into ``<asset>_labels.usda`` beside the asset file that defines the
  part (the asset is never touched) and every instance references that layer (REFERENCE rows), so
  each instance shows the part labels and stays instanced. Parts of prototypes defined in the stage
  itself (internal references) are labeled at their prototype prim.

With ``deinstance`` and ``asset``, an instance whose rendered parts all want the same labels is still
labeled on its root: nothing needs to be expanded or referenced for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pxr import Pcp, Sdf, Usd

from omni.sdg_studio.core.semantics.assets import PartSite, PartSiteError, labels_layer_path, layer_file, locate_part
from omni.sdg_studio.core.semantics.matching import TRAVERSAL, is_gprim_type
from omni.sdg_studio.core.semantics.plan_rows import Action, Intent, PlanRow, intent_row
from omni.sdg_studio.core.semantics.prim_labels import dedupe, instance_root
from omni.sdg_studio.core.semantics.schema import labels_attr_name

if TYPE_CHECKING:
    from omni.sdg_studio.core.semantics.plan import Planner

#: Parts listed in a CONFLICT message before "and N more".
_SHOWN_PARTS = 6


def resolve_instances(planner: Planner) -> None:
    """Move, expand or relocate the intents recorded on instance proxies, per ``defaults.instances``."""
    parts = {path: prim for path, prim in planner.parts.items() if planner.intents.get(path)}
    if not parts:
        return
    roots: dict[Sdf.Path, Usd.Prim] = {}
    by_root: dict[Sdf.Path, list[Sdf.Path]] = {}
    root_of_parent: dict[Sdf.Path, Usd.Prim | None] = {}
    for path, prim in parts.items():
        parent = path.GetParentPath()
        if parent not in root_of_parent:
            root_of_parent[parent] = instance_root(prim)
        root = root_of_parent[parent]
        if root is None:
            planner.intents.pop(path, None)
            planner.note(
                PlanRow(str(path), prim.GetTypeName(), "", Action.WARN, "", message="no writable instance root")
            )
            continue
        roots[root.GetPath()] = root
        by_root.setdefault(root.GetPath(), []).append(path)
    assets = _AssetWrites(planner)
    for root_path, part_paths in by_root.items():
        _resolve_instance(planner, roots[root_path], part_paths, assets)
    assets.finish()


def _wants(planner: Planner, parts: Iterable[Sdf.Path]) -> dict[str, dict[Sdf.Path, Intent]]:
    out: dict[str, dict[Sdf.Path, Intent]] = {}
    for part in parts:
        for taxonomy, intent in planner.intents.get(part, {}).items():
            out.setdefault(taxonomy, {})[part] = intent
    return out


def _resolve_instance(planner: Planner, root: Usd.Prim, parts: list[Sdf.Path], assets: _AssetWrites) -> None:
    root_path = root.GetPath()
    wants = _wants(planner, parts)
    own = planner.intents.get(root_path, {})
    disagree = {
        taxonomy
        for taxonomy, by_part in wants.items()
        if len({i.want for i in by_part.values()} | ({own[taxonomy].want} if taxonomy in own else set())) > 1
    }
    policy = planner.defaults.instances
    if policy == "root":
        for taxonomy in wants:
            if taxonomy in disagree:
                _conflict(planner, root, taxonomy, wants[taxonomy], own.get(taxonomy))
            else:
                _redirect(planner, root, taxonomy, wants[taxonomy])
        return
    if not disagree and _root_is_enough(root, wants):
        for taxonomy in wants:
            _redirect(planner, root, taxonomy, wants[taxonomy])
        return
    if policy == "deinstance":
        _deinstance(planner, root, parts)
    else:
        for part in parts:
            assets.add(part, planner.parts[part])


def _root_is_enough(root: Usd.Prim, wants: dict[str, dict[Sdf.Path, Intent]]) -> bool:
    """Whether every rendered part of the instance gets the same labels, so labeling the root is exact."""
    gprims = [p.GetPath() for p in Usd.PrimRange(root, TRAVERSAL) if p != root and is_gprim_type(p.GetTypeName())]
    for by_part in wants.values():
        wanting = list(by_part)
        if not all(any(gprim.HasPrefix(part) for part in wanting) for gprim in gprims):
            return False
    return True


def _drop(planner: Planner, taxonomy: str, by_part: dict[Sdf.Path, Intent]) -> None:
    for part in by_part:
        intents = planner.intents.get(part)
        if intents is not None:
            intents.pop(taxonomy, None)
            if not intents:
                del planner.intents[part]


def _redirect(planner: Planner, root: Usd.Prim, taxonomy: str, by_part: dict[Sdf.Path, Intent]) -> None:
    """Write the parts' (identical) wish on the instance root; each part gets a REDIRECT row."""
    root_path = root.GetPath()
    sources = tuple(dict.fromkeys(s for part, i in by_part.items() for s in (i.sources or (str(part),))))
    best = min(by_part.values(), key=lambda i: i.rank)
    _drop(planner, taxonomy, by_part)
    state = planner.record(root, root_path)
    own = planner.intents.get(root_path, {}).get(taxonomy)
    if own is not None and own.want == best.want:
        planner.intents[root_path][taxonomy] = replace(own, sources=tuple(dict.fromkeys([*own.sources, *sources])))
    else:
        planner.place(root_path, taxonomy, replace(best, sources=sources), state)


def _describe(root: Sdf.Path, intent: Intent, part: Sdf.Path | None) -> str:
    where = part.MakeRelativePath(root) if part is not None else "(root)"
    what = f"remove {list(intent.remove)}" if intent.remove is not None else list(intent.labels)
    return f"{where} {what} (rule '{intent.rule.id}')"


def _conflict(
    planner: Planner, root: Usd.Prim, taxonomy: str, by_part: dict[Sdf.Path, Intent], own: Intent | None
) -> None:
    """A CONFLICT row on the root; the parts' labels are not written (the root keeps its own match)."""
    root_path = root.GetPath()
    described = [_describe(root_path, own, None)] if own is not None else []
    described += [_describe(root_path, intent, part) for part, intent in by_part.items()]
    shown = "; ".join(described[:_SHOWN_PARTS]) + (
        f"; and {len(described) - _SHOWN_PARTS} more" if len(described) > _SHOWN_PARTS else ""
    )
    rule_ids = ",".join(dict.fromkeys(i.rule.id for i in by_part.values()))
    message = (
        f"parts of this instance want different '{taxonomy}' labels: {shown}; the parts are not labeled "
        "(instances: root can only label the whole instance; deinstance or asset give each part its own labels)"
    )
    _drop(planner, taxonomy, by_part)
    planner.note(PlanRow(str(root_path), root.GetTypeName(), rule_ids, Action.CONFLICT, taxonomy, message=message))


def _deinstance(planner: Planner, root: Usd.Prim, parts: list[Sdf.Path]) -> None:
    """DEINSTANCE rows for the root and every nested instance above a part; the parts keep their intents."""
    expanded: dict[Sdf.Path, Usd.Prim] = {root.GetPath(): root}
    for part in parts:
        current = planner.parts[part].GetParent()
        while current and current.GetPath() != root.GetPath():
            if current.IsInstance():
                expanded.setdefault(current.GetPath(), current)
            current = current.GetParent()
    count = len(parts)
    for path in sorted(expanded):
        prim = expanded[path]
        message = f"instanceable = false: {count} part(s) of {root.GetPath()} get labels of their own"
        planner.extra_rows.append(PlanRow(str(path), prim.GetTypeName(), "", Action.DEINSTANCE, "", message=message))


@dataclass
class _Site:
    """The intents gathered for one spec of an asset labels layer."""

    layer: str
    path: Sdf.Path
    parts: list[Sdf.Path] = field(default_factory=list)
    wants: dict[str, dict[Sdf.Path, Intent]] = field(default_factory=dict)


class _AssetWrites:
    """Part labels gathered per spec of an asset labels layer, and the arcs that bring those layers in."""

    def __init__(self, planner: Planner) -> None:
        self.planner = planner
        self.sites: dict[tuple[str, Sdf.Path], _Site] = {}
        self.arcs: dict[tuple[str, Sdf.Path, tuple[str, str]], PlanRow] = {}

    def add(self, part: Sdf.Path, prim: Usd.Prim) -> None:
        planner = self.planner
        intents = planner.intents.pop(part, {})
        try:
            site = locate_part(prim)
            if site.asset:
                self._arc(site)
        except PartSiteError as exc:
            message = f"cannot be labeled in its asset: {exc}; use instances: deinstance for it"
            planner.note(PlanRow(str(part), prim.GetTypeName(), "", Action.WARN, "", message=message))
            return
        if not site.asset:  # a prototype in the stage's own layers: label it there, every instance follows
            target = planner.stage.GetPrimAtPath(site.path)
            state = planner.record(target, site.path) if target else None
            for taxonomy, intent in intents.items():
                sources = intent.sources or (str(part),)
                current = planner.intents.get(site.path, {}).get(taxonomy)
                if current is not None and current.want != intent.want:
                    self._site(("", site.path)).wants.setdefault(taxonomy, {})[part] = intent
                    continue
                planner.place(
                    site.path,
                    taxonomy,
                    replace(intent, sources=(*(current.sources if current else ()), *sources)),
                    state,
                )
            return
        entry = self._site((labels_layer_path(site.asset), site.path))
        entry.parts.append(part)
        for taxonomy, intent in intents.items():
            entry.wants.setdefault(taxonomy, {})[part] = intent

    def _site(self, key: tuple[str, Sdf.Path]) -> _Site:
        found = self.sites.get(key)
        if found is None:
            found = self.sites[key] = _Site(key[0], key[1])
        return found

    def _arc(self, site: PartSite) -> None:
        """REFERENCE rows so that the prim introducing ``site``'s asset references its labels layer."""
        assert site.arc_at is not None and site.arc_prim is not None
        labels_file = labels_layer_path(site.asset)
        stage = self.planner.stage
        holder = stage.GetPrimAtPath(site.arc_at)
        if not holder:
            raise PartSiteError(f"{site.arc_at} is not on the stage")
        if _has_arc(holder, labels_file):
            return
        arc = (labels_file, str(site.arc_prim))
        where = locate_part(holder, own_arcs=False) if holder.IsInstanceProxy() else PartSite("", site.arc_at)
        layer = labels_layer_path(where.asset) if where.asset else ""
        key = (layer, where.path, arc)
        if key not in self.arcs:
            message = f"references @{Path(arc[0]).name}@<{arc[1]}> (the part labels of {Path(site.asset).name})"
            row = PlanRow(
                str(where.path),
                holder.GetTypeName(),
                "",
                Action.REFERENCE,
                "",
                layer=layer,
                arc=arc,
                prim=str(site.arc_at),
                message=message,
            )
            self.arcs[key] = row
            if where.asset:
                self._arc(where)

    def finish(self) -> None:
        """Rows for each asset spec (or a CONFLICT when instances want different labels for one part)."""
        planner = self.planner
        for site in self.sites.values():
            for taxonomy, by_part in site.wants.items():
                wants = {i.want for i in by_part.values()}
                if len(wants) > 1 or not site.layer:
                    described = [
                        _describe(Sdf.Path.absoluteRootPath, i, p) for p, i in list(by_part.items())[:_SHOWN_PARTS]
                    ]
                    message = (
                        f"instances of one asset want different '{taxonomy}' labels for this part: "
                        f"{'; '.join(described)}; an asset labels layer holds one set per part, so none is written"
                    )
                    rule_ids = ",".join(dict.fromkeys(i.rule.id for i in by_part.values()))
                    planner.extra_rows.append(
                        PlanRow(
                            str(site.path), "", rule_ids, Action.CONFLICT, taxonomy, layer=site.layer, message=message
                        )
                    )
                    continue
                self._rows(site, taxonomy, by_part)
        planner.extra_rows.extend(self.arcs.values())

    def _rows(self, site: _Site, taxonomy: str, by_part: dict[Sdf.Path, Intent]) -> None:
        planner = self.planner
        representative = next(iter(by_part))
        state = planner.state_of(representative)
        intent = min(by_part.values(), key=lambda i: i.rank)
        current = {tax: tuple(labels) for tax, labels in state.labels.items()}
        held = site_labels(site.layer, site.path, taxonomy)
        if held is not None:  # the labels layer already speaks for this part (its arc may still be missing)
            current[taxonomy] = held
        row = intent_row(state, taxonomy, intent, current, ())
        if row is None:
            return
        sources = [str(p) for p in by_part]
        planner.extra_rows.append(
            replace(
                row,
                path=str(site.path),
                layer=site.layer,
                prim=str(representative),
                source_path=sources[0],
                message=f"every instance of the asset ({len(sources)} matched here)",
            )
        )
        if row.writes:
            for part in by_part:
                planner.asset_changes.setdefault(part, {})[taxonomy] = (row.before, row.after)


_ARCS = (Pcp.ArcTypeReference, Pcp.ArcTypePayload)


def site_labels(labels_file: str, path: Sdf.Path, taxonomy: str) -> tuple[str, ...] | None:
    """The labels an asset labels layer authors for one part (``None`` when it authors none): what every
    instance shows once it references the layer, whatever the asset itself says."""
    layer = Sdf.Layer.Find(labels_file) or (Sdf.Layer.FindOrOpen(labels_file) if Path(labels_file).exists() else None)
    attr = layer.GetAttributeAtPath(path.AppendProperty(labels_attr_name(taxonomy))) if layer is not None else None
    if attr is None or not attr.HasDefaultValue() or not attr.default:
        return None
    return dedupe(str(label) for label in attr.default)


def _has_arc(prim: Usd.Prim, labels_file: str) -> bool:
    """Whether ``prim`` already references (or payloads) ``labels_file`` itself."""
    stack = list(prim.GetPrimIndex().rootNode.children)
    while stack:
        node = stack.pop()
        direct = node.arcType in _ARCS and not node.IsDueToAncestor()
        if direct and layer_file(node.layerStack.identifier.rootLayer) == labels_file:
            return True
        stack.extend(node.children)
    return False
