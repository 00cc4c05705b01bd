"""Read and validate a labeling rules file (YAML, or JSON) into a :class:`RuleSet`.

Every error is a :class:`ConfigError` naming the file, line, column and field; a bad regex also
names the rule id. See ``config/rules/warehouse.yaml`` for a commented example of every key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pxr import Sdf, Tf, Usd

from omni.sdg_studio.core.classes import ClassTable, LabelClass
from omni.sdg_studio.core.colors import BACKGROUND, BACKGROUND_COLOR, RGBA, UNLABELLED, UNLABELLED_COLOR, stable_color
from omni.sdg_studio.core.config_document import ConfigDocument, FieldPath, load_document, parse_document
from omni.sdg_studio.core.fields import FieldReader, did_you_mean
from omni.sdg_studio.core.semantics.names import NameNormalizer
from omni.sdg_studio.core.semantics.rules import (
    ALL_TAXONOMIES,
    HIERARCHIES,
    INSTANCE_POLICIES,
    LEGACY_POLICIES,
    MATCH_FIELDS,
    MATCH_KINDS,
    MODES,
    NEAREST_ASSET,
    RULE_ACTIONS,
    TEMPLATE_FIELDS,
    TEMPLATE_FILTERS,
    AssetDepth,
    Defaults,
    GlobError,
    LabelTemplate,
    Match,
    MatchKind,
    Rule,
    RuleSet,
    Scope,
    UnsafeRegexError,
    glob_to_regex,
)
from omni.sdg_studio.core.semantics.schema import label_problem, taxonomy_problem

SUPPORTED_VERSIONS = (1,)
TOP_KEYS = ("version", "defaults", "scope", "normalize", "rules", "classes")
DEFAULTS_KEYS = ("taxonomy", "mode", "ignore_case", "prim_types", "isa", "instances", "legacy", "hierarchy")
SCOPE_KEYS = ("roots", "include_descendants", "exclude")
NORMALIZE_KEYS = (
    "separators",
    "camel_case",
    "strip_prefixes",
    "strip_suffixes",
    "strip_numeric",
    "cumulative",
    "join",
    "case",
)
RULE_KEYS = (
    "id",
    "description",
    "match",
    "unless",
    "labels",
    "auto",
    "action",
    "taxonomy",
    "taxonomies",
    "priority",
    "ignore_case",
    "mode",
    "hierarchy",
    "prim_types",
    "isa",
    "asset_depth",
)
MATCH_KEYS = ("on", "ignore_case", "asset_depth", *MATCH_KINDS)
CLASS_KEYS = ("id", "color")


def load_rules(path: str | Path) -> RuleSet:
    """Read and validate the rules file at ``path``."""
    return parse_rules(load_document(path))


def load_rules_data(path: str | Path) -> tuple[Any, RuleSet]:
    """The rules file's data (for editing, with YAML's ``on: true`` keys named ``on`` again) and its rules."""
    doc = load_document(path)
    rules = parse_rules(doc)
    data = doc.data
    for rule in data.get("rules") or []:
        for key in ("match", "unless"):
            clauses = rule.get(key) if isinstance(rule, dict) else None
            for clause in clauses if isinstance(clauses, list) else [clauses]:
                if isinstance(clause, dict) and True in clause:
                    clause["on"] = clause.pop(True)
    return data, rules


def parse_rules_text(text: str, path: str | Path | None = None) -> RuleSet:
    """Validate rules given as YAML/JSON text (``path`` only names the source in errors)."""
    return parse_rules(parse_document(text, path))


def rules_from_data(data: Any, source: str | None = None) -> RuleSet:
    """Validate rules given as already-parsed data (errors name fields, without line numbers)."""
    return parse_rules(ConfigDocument(data=data, path=Path(source) if source else None))


def load_class_table(rules_path: str | Path) -> ClassTable:
    """The ``classes`` of a rules file as a :class:`ClassTable`: the ids and colors the recorder's
    writers and the visualizer use for the labels this rules file writes."""
    return load_rules(rules_path).class_table()


def dump_rules_data(data: Any) -> str:
    """YAML text for rules data (what the editor saves), keys in the order given."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)


def parse_rules(doc: ConfigDocument) -> RuleSet:
    """Validate a parsed document into a :class:`RuleSet`."""
    read = FieldReader(doc)
    data = doc.data
    if not isinstance(data, Mapping):
        raise read.error((), "a rules file is a mapping with 'version' and 'rules' (and optional defaults, scope, ...)")
    read.check_keys((), data, TOP_KEYS)
    if "version" not in data:
        raise read.error((), f"missing 'version' (supported: {', '.join(map(str, SUPPORTED_VERSIONS))})")
    version = data["version"]
    if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        raise read.error(("version",), f"unsupported version {version!r} (supported: {SUPPORTED_VERSIONS})")
    defaults = _parse_defaults(read, read.as_mapping(("defaults",), data.get("defaults"), optional=True))
    scope = _parse_scope(read, read.as_mapping(("scope",), data.get("scope"), optional=True))
    normalizer = _parse_normalize(
        read, read.as_mapping(("normalize",), data.get("normalize"), optional=True), defaults.ignore_case
    )
    rules_data = data.get("rules", [])
    if not isinstance(rules_data, list):
        raise read.error(("rules",), "'rules' must be a list of rules")
    rules = [_parse_rule(read, index, item, defaults) for index, item in enumerate(rules_data)]
    seen: dict[str, int] = {}
    for index, rule in enumerate(rules):
        if rule.id in seen:
            raise read.error(("rules", index, "id"), f"duplicate rule id '{rule.id}' (also rules[{seen[rule.id]}])")
        seen[rule.id] = index
    classes = _parse_classes(read, data.get("classes"))
    return RuleSet(
        version=int(version),
        defaults=defaults,
        scope=scope,
        normalizer=normalizer,
        rules=tuple(rules),
        classes=tuple(classes),
        source=str(doc.path) if doc.path else None,
    )


# --- typed readers of rules values ---------------------------------------------------------------


def _strings(read: FieldReader, path: FieldPath, value: Any) -> tuple[str, ...]:
    """A label or a list of them (every list of strings in a rules file may be a lone string)."""
    return tuple(read.as_strings(path, value, allow_single=True))


def _taxonomy(read: FieldReader, path: FieldPath, value: Any) -> str:
    taxonomy = read.as_str(path, value)
    problem = taxonomy_problem(taxonomy)
    if problem:
        raise read.error(path, problem)
    return taxonomy


def _known_schema_types() -> list[str]:
    typed = Tf.Type.FindByName("UsdTyped")
    names = (Usd.SchemaRegistry.GetSchemaTypeName(t) for t in typed.GetAllDerivedTypes())
    return sorted(n for n in names if n)


def _schema_types(read: FieldReader, path: FieldPath, value: Any) -> tuple[str, ...]:
    names = _strings(read, path, value)
    for index, name in enumerate(names):
        if Usd.SchemaRegistry.GetTypeFromName(name) == Tf.Type.Unknown:
            hint = did_you_mean(name, _known_schema_types())
            raise read.error((*path, index), f"unknown schema type '{name}'{hint}")
    return names


# --- sections ------------------------------------------------------------------------------------


def _parse_defaults(read: FieldReader, value: Any) -> Defaults:
    data = read.as_mapping(("defaults",), value, optional=True)
    read.check_keys(("defaults",), data, DEFAULTS_KEYS)
    base = Defaults()
    at = ("defaults",)
    return Defaults(
        taxonomy=_taxonomy(read, (*at, "taxonomy"), data.get("taxonomy", base.taxonomy)),
        mode=read.as_choice((*at, "mode"), data.get("mode", base.mode), MODES),
        ignore_case=read.as_bool((*at, "ignore_case"), data.get("ignore_case", base.ignore_case)),
        prim_types=_strings(read, (*at, "prim_types"), data.get("prim_types", [])),
        isa=_schema_types(read, (*at, "isa"), data.get("isa", [])),
        instances=read.as_choice((*at, "instances"), data.get("instances", base.instances), INSTANCE_POLICIES),
        legacy=read.as_choice((*at, "legacy"), data.get("legacy", base.legacy), LEGACY_POLICIES),
        hierarchy=read.as_choice((*at, "hierarchy"), data.get("hierarchy", base.hierarchy), HIERARCHIES),
    )


def _prim_path(read: FieldReader, path: FieldPath, value: Any) -> str:
    text = read.as_str(path, value)
    if not Sdf.Path.IsValidPathString(text) or not (
        Sdf.Path(text).IsAbsolutePath() and Sdf.Path(text).IsAbsoluteRootOrPrimPath()
    ):
        raise read.error(path, f"{text!r} is not an absolute prim path (like /World/Props)")
    return text


def _parse_scope(read: FieldReader, value: Any) -> Scope:
    data = read.as_mapping(("scope",), value, optional=True)
    read.check_keys(("scope",), data, SCOPE_KEYS)
    at = ("scope",)
    roots = _strings(read, (*at, "roots"), data.get("roots", ["/"]))
    for index, root in enumerate(roots):
        _prim_path(read, (*at, "roots", index), root)
    exclude = _strings(read, (*at, "exclude"), data.get("exclude", []))
    for index, pattern in enumerate(exclude):
        if not pattern.startswith("/"):
            raise read.error(
                (*at, "exclude", index), f"exclude pattern {pattern!r} must be a path glob starting with '/'"
            )
        try:
            glob_to_regex(pattern)
        except GlobError as exc:
            raise read.error((*at, "exclude", index), f"exclude pattern {pattern!r}: {exc}") from None
    include = read.as_bool((*at, "include_descendants"), data.get("include_descendants", True))
    return Scope(roots=roots, include_descendants=include, exclude=exclude)


def _parse_normalize(read: FieldReader, value: Any, ignore_case: bool) -> NameNormalizer:
    data = read.as_mapping(("normalize",), value, optional=True)
    read.check_keys(("normalize",), data, NORMALIZE_KEYS)
    at = ("normalize",)
    base = NameNormalizer()
    flag = lambda key: read.as_bool((*at, key), data.get(key, getattr(base, key)))  # noqa: E731
    separators = _strings(read, (*at, "separators"), data.get("separators", list(base.separators)))
    if any(not s for s in separators):
        raise read.error((*at, "separators"), "separators must be non-empty strings")
    return NameNormalizer(
        separators=separators,
        camel_case=flag("camel_case"),
        strip_prefixes=_strings(read, (*at, "strip_prefixes"), data.get("strip_prefixes", [])),
        strip_suffixes=_strings(read, (*at, "strip_suffixes"), data.get("strip_suffixes", [])),
        strip_numeric=flag("strip_numeric"),
        cumulative=flag("cumulative"),
        ignore_case=ignore_case,
        join=read.as_str((*at, "join"), data.get("join", base.join)),
        case=read.as_choice((*at, "case"), data.get("case", base.case), ("keep", "lower", "upper")),
    )


def _asset_depth(read: FieldReader, path: FieldPath, value: Any) -> AssetDepth:
    """``1`` (nearest asset), ``2`` (the one around it), ``-1`` (outermost), a list of those, or ``all``."""
    if value == "all":
        return ()
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, int) and not isinstance(v, bool) and v != 0 for v in items):
        raise read.error(
            path, f"asset_depth is 1 (nearest asset), 2, ... or -1 (outermost), a list of them, or all; got {value!r}"
        )
    return tuple(dict.fromkeys(items))


def _parse_match(
    read: FieldReader, path: FieldPath, rule_id: str, value: Any, ignore_case: bool, asset_depth: AssetDepth
) -> Match:
    if isinstance(value, str):  # shorthand: a glob on the name
        value = {"glob": value}
    if not isinstance(value, Mapping):
        raise read.error(path, "a match is a mapping like {glob: '*Pallet*'} or {regex: 'SM_(?P<obj>.+)', on: name}")
    # YAML 1.1 reads a bare `on` key as the boolean true.
    value = {("on" if key is True else key): item for key, item in value.items()}
    read.check_keys(path, value, MATCH_KEYS)
    kinds: list[MatchKind] = [k for k in MATCH_KINDS if k in value]
    if len(kinds) != 1:
        raise read.error(path, f"a match needs exactly one of {', '.join(MATCH_KINDS)} (got {len(kinds)})")
    kind = kinds[0]
    pattern = read.as_str((*path, kind), value[kind])
    on = read.as_choice((*path, "on"), value.get("on", "name"), MATCH_FIELDS)
    case = read.as_bool((*path, "ignore_case"), value.get("ignore_case", ignore_case))
    depth = _asset_depth(read, (*path, "asset_depth"), value["asset_depth"]) if "asset_depth" in value else asset_depth
    if "asset_depth" in value and on not in ("asset", "folder"):
        raise read.error((*path, "asset_depth"), f"rule '{rule_id}': asset_depth is for on: asset or on: folder")
    try:
        return Match.build(on, kind, pattern, case, depth)
    except re.error as exc:
        raise read.error((*path, kind), f"rule '{rule_id}': invalid regex {pattern!r}: {exc}") from None
    except UnsafeRegexError as exc:
        raise read.error((*path, kind), f"rule '{rule_id}': regex {pattern!r} refused: {exc}") from None
    except GlobError as exc:
        raise read.error((*path, kind), f"rule '{rule_id}': malformed glob {pattern!r}: {exc}") from None


def _parse_matches(
    read: FieldReader, path: FieldPath, rule_id: str, value: Any, ignore_case: bool, asset_depth: AssetDepth
) -> tuple[Match, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    at = (lambda i: (*path, i)) if isinstance(value, list) else (lambda i: path)
    return tuple(_parse_match(read, at(i), rule_id, item, ignore_case, asset_depth) for i, item in enumerate(items))


def _parse_labels(
    read: FieldReader, path: FieldPath, rule_id: str, value: Any, taxonomy: str, groups: set[str]
) -> tuple[tuple[str, tuple[LabelTemplate, ...]], ...]:
    if isinstance(value, (str, list)):  # shorthand: labels of the default taxonomy
        value = {taxonomy: value}
    if not isinstance(value, Mapping) or not value:
        raise read.error(path, "labels map a taxonomy to a label or a list of labels, e.g. {class: pallet}")
    out = []
    for tax, labels in value.items():
        _taxonomy(read, (*path, tax), tax)
        texts = _strings(read, (*path, tax), labels)
        if not texts:
            raise read.error((*path, tax), "at least one label is needed (use action: remove to remove labels)")
        templates = []
        for text in texts:
            try:
                template = LabelTemplate.parse(text.strip())
            except ValueError as exc:
                raise read.error((*path, tax), f"rule '{rule_id}': label {text!r}: {exc}") from None
            for name in template.fields:
                if name not in TEMPLATE_FIELDS and name not in groups:
                    known = ", ".join([*TEMPLATE_FIELDS, *sorted(groups)])
                    raise read.error((*path, tax), f"rule '{rule_id}': unknown field {{{name}}} (known: {known})")
            for name in template.filters:
                if name not in TEMPLATE_FILTERS:
                    raise read.error(
                        (*path, tax), f"rule '{rule_id}': unknown filter |{name} (known: {', '.join(TEMPLATE_FILTERS)})"
                    )
            if not template.fields:
                problem = label_problem(template.text)
                if problem:
                    raise read.error((*path, tax), f"rule '{rule_id}': {problem}")
            templates.append(template)
        out.append((str(tax), tuple(templates)))
    return tuple(out)


def _parse_rule(read: FieldReader, index: int, data: Any, defaults: Defaults) -> Rule:
    at: FieldPath = ("rules", index)
    if not isinstance(data, Mapping):
        raise read.error(at, "each rule is a mapping with at least an 'id'")
    read.check_keys(at, data, RULE_KEYS)
    if "id" not in data:
        raise read.error(at, "rule without 'id' (ids name rules in previews and errors)")
    rule_id = read.as_str((*at, "id"), data["id"])
    if not rule_id.strip():
        raise read.error((*at, "id"), "rule id is empty")
    ignore_case = read.as_bool((*at, "ignore_case"), data.get("ignore_case", defaults.ignore_case))
    asset_depth = (
        _asset_depth(read, (*at, "asset_depth"), data["asset_depth"]) if "asset_depth" in data else NEAREST_ASSET
    )
    matches = _parse_matches(read, (*at, "match"), rule_id, data.get("match"), ignore_case, asset_depth)
    unless = _parse_matches(read, (*at, "unless"), rule_id, data.get("unless"), ignore_case, asset_depth)
    groups = {name for m in matches if m.kind == "regex" for name in m.regex.groupindex}
    taxonomy = _taxonomy(read, (*at, "taxonomy"), data.get("taxonomy", defaults.taxonomy))
    auto = read.as_bool((*at, "auto"), data.get("auto", False))
    action = read.as_choice((*at, "action"), data.get("action", "label"), RULE_ACTIONS)
    labels: tuple[tuple[str, tuple[LabelTemplate, ...]], ...] = ()
    remove: tuple[str, ...] = ()
    if action == "label":
        if auto == ("labels" in data):
            raise read.error(at, f"rule '{rule_id}' needs either 'labels' or 'auto: true' (one of them)")
        raw = {taxonomy: "{norm}"} if auto else data["labels"]
        labels = _parse_labels(read, (*at, "labels"), rule_id, raw, taxonomy, groups)
    elif action == "remove":
        if auto:
            raise read.error((*at, "auto"), "'auto' only makes sense with action: label")
        if "labels" in data:
            labels = _parse_labels(read, (*at, "labels"), rule_id, data["labels"], taxonomy, set())
            if any(not t.parts or t.fields for _, ts in labels for t in ts):
                raise read.error((*at, "labels"), f"rule '{rule_id}': labels to remove must be plain labels")
            remove = tuple(tax for tax, _ in labels)
        else:
            remove = _strings(read, (*at, "taxonomies"), data.get("taxonomies", [taxonomy]))
            for i, tax in enumerate(remove):
                if tax != ALL_TAXONOMIES:
                    _taxonomy(read, (*at, "taxonomies", i), tax)
    elif "labels" in data or auto:
        raise read.error(at, f"rule '{rule_id}': an exclude rule takes no labels")
    if "taxonomies" in data and (action != "remove" or "labels" in data):
        raise read.error((*at, "taxonomies"), "'taxonomies' is for remove rules without 'labels'")
    return Rule(
        id=rule_id,
        order=index,
        action=action,
        matches=matches,
        unless=unless,
        labels=labels,
        remove_taxonomies=remove,
        priority=read.as_int((*at, "priority"), data.get("priority", 0)),
        mode=read.as_choice((*at, "mode"), data.get("mode", defaults.mode), MODES),
        hierarchy=read.as_choice((*at, "hierarchy"), data.get("hierarchy", defaults.hierarchy), HIERARCHIES),
        prim_types=_strings(read, (*at, "prim_types"), data["prim_types"])
        if "prim_types" in data
        else defaults.prim_types,
        isa=_schema_types(read, (*at, "isa"), data["isa"]) if "isa" in data else defaults.isa,
        asset_depth=asset_depth,
    )


def _color(read: FieldReader, path: FieldPath, value: Any) -> RGBA:
    if (
        not isinstance(value, list)
        or len(value) not in (3, 4)
        or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value)
    ):
        raise read.error(path, f"a color is [r, g, b] or [r, g, b, a] with integers 0-255, got {value!r}")
    rgba = (value[0], value[1], value[2], value[3] if len(value) == 4 else 255)
    if rgba in (BACKGROUND_COLOR, UNLABELLED_COLOR):
        raise read.error(path, f"{list(rgba)} is reserved for {BACKGROUND if rgba == BACKGROUND_COLOR else UNLABELLED}")
    return rgba


def _parse_classes(read: FieldReader, value: Any) -> list[LabelClass]:
    data = read.as_mapping(("classes",), value, optional=True)
    listed: list[tuple[str, int | None, RGBA | None]] = []
    for name, spec in data.items():
        at = ("classes", name)
        problem = label_problem(str(name))
        if problem:
            raise read.error(at, problem)
        if name in (BACKGROUND, UNLABELLED):
            raise read.error(at, f"{name} is a reserved class name")
        spec = read.as_mapping(at, spec, optional=True)
        read.check_keys(at, spec, CLASS_KEYS)
        class_id = read.as_int((*at, "id"), spec["id"]) if "id" in spec else None
        if class_id is not None and class_id < 1:
            raise read.error((*at, "id"), f"class ids start at 1, got {class_id}")
        color = _color(read, (*at, "color"), spec["color"]) if "color" in spec else None
        listed.append((str(name), class_id, color))
    taken: dict[int, str] = {}
    for name, class_id, _ in listed:
        if class_id is not None:
            if class_id in taken:
                raise read.error(("classes", name, "id"), f"id {class_id} is already used by class '{taken[class_id]}'")
            taken[class_id] = name
    out, next_id = [], 1
    for name, class_id, color in listed:
        if class_id is None:
            while next_id in taken:
                next_id += 1
            class_id = next_id
            taken[class_id] = name
        out.append(LabelClass(name, class_id, color or stable_color(name)))
    return out
