"""The labeling rules, as validated data: defaults, scope, name normalization, rules, classes.

``rules_file.py`` builds a :class:`RuleSet` from YAML/JSON; ``plan.py`` evaluates it on a stage.
Matching is exact and documented: ``regex`` is ``re.fullmatch`` on the chosen field, ``glob``
is a full match where ``*`` and ``?`` stay inside one path segment and ``**`` crosses ``/``,
``contains`` is a substring test. ``ignore_case`` applies to all three.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from omni.sdg_studio.core.classes import ClassTable, LabelClass
from omni.sdg_studio.core.semantics.names import NameNormalizer

Mode = Literal["add", "replace", "skip"]
Hierarchy = Literal["all", "topmost", "leaf"]
InstancePolicy = Literal["root", "skip", "error"]
LegacyPolicy = Literal["upgrade", "keep", "fail"]
MatchField = Literal["name", "path", "type", "asset", "folder", "material"]
MatchKind = Literal["glob", "regex", "contains"]
RuleAction = Literal["label", "exclude", "remove"]

MODES: tuple[Mode, ...] = ("add", "replace", "skip")
HIERARCHIES: tuple[Hierarchy, ...] = ("all", "topmost", "leaf")
INSTANCE_POLICIES: tuple[InstancePolicy, ...] = ("root", "skip", "error")
LEGACY_POLICIES: tuple[LegacyPolicy, ...] = ("upgrade", "keep", "fail")
MATCH_FIELDS: tuple[MatchField, ...] = ("name", "path", "type", "asset", "folder", "material")
MATCH_KINDS: tuple[MatchKind, ...] = ("glob", "regex", "contains")
RULE_ACTIONS: tuple[RuleAction, ...] = ("label", "exclude", "remove")
#: Fields read from the prim itself; a rule using only these can be cached per (name, type).
CHEAP_FIELDS = frozenset({"name", "type"})
#: Fields every label template may use (besides the named groups of the rule's regexes).
TEMPLATE_FIELDS = ("name", "norm", "parent", "path", "type", "asset", "folder", "material")
TEMPLATE_FILTERS = ("lower", "upper", "snake", "norm")
#: ``remove`` rules with this taxonomy remove every taxonomy on the prim.
ALL_TAXONOMIES = "*"


def glob_to_regex(pattern: str) -> str:
    """``*``/``?`` within one path segment, ``**`` across segments, everything else literal."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Match:
    """One test on one field of a prim."""

    on: MatchField
    kind: MatchKind
    pattern: str
    ignore_case: bool
    regex: re.Pattern[str] = field(compare=False, repr=False)

    @classmethod
    def build(cls, on: MatchField, kind: MatchKind, pattern: str, ignore_case: bool) -> Match:
        """Compile ``pattern``; raises ``re.error`` for a bad regex."""
        source = {"regex": pattern, "glob": glob_to_regex(pattern), "contains": re.escape(pattern)}[kind]
        return cls(on, kind, pattern, ignore_case, re.compile(source, re.IGNORECASE if ignore_case else 0))

    def test(self, value: str) -> re.Match[str] | None:
        """The match object when ``value`` passes, else ``None``."""
        if self.kind == "contains":
            return self.regex.search(value)
        return self.regex.fullmatch(value)

    def describe(self) -> str:
        return f"{self.on} {self.kind} {self.pattern!r}"


#: ``{{`` / ``}}`` (literal braces), ``{field|filter|...}``, or a stray brace.
_TEMPLATE_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)((?:\|[A-Za-z_]+)*)\}|[{}]")


@dataclass(frozen=True)
class LabelTemplate:
    """A label with ``{field}`` / ``{field|filter|...}`` parts; ``{{`` and ``}}`` are literal braces."""

    text: str
    parts: tuple[str | tuple[str, tuple[str, ...]], ...] = field(compare=False, repr=False)

    @classmethod
    def parse(cls, text: str) -> LabelTemplate:
        """Split ``text`` into literals and fields; raises ``ValueError`` for a stray brace."""
        parts: list[str | tuple[str, tuple[str, ...]]] = []
        literal, position = "", 0
        for found in _TEMPLATE_TOKEN.finditer(text):
            literal += text[position : found.start()]
            position = found.end()
            token = found.group()
            if token in ("{{", "}}"):
                literal += token[0]
            elif found.group(1):
                if literal:
                    parts.append(literal)
                literal = ""
                parts.append((found.group(1), tuple(f for f in found.group(2).split("|") if f)))
            else:
                raise ValueError(
                    f"stray {token!r} at character {found.start() + 1}; fields look like {{name}} or "
                    "{name|lower}, literal braces are {{ and }}"
                )
        literal += text[position:]
        if literal:
            parts.append(literal)
        return cls(text, tuple(parts))

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(p[0] for p in self.parts if isinstance(p, tuple))

    @property
    def filters(self) -> tuple[str, ...]:
        return tuple(f for p in self.parts if isinstance(p, tuple) for f in p[1])

    def render(self, lookup: Callable[[str], str], normalizer: NameNormalizer) -> str:
        """The label for one prim; ``lookup`` returns a field or regex group value."""
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = lookup(part[0]) or ""
            for name in part[1]:
                value = apply_filter(name, value, normalizer)
            out.append(value)
        return "".join(out)


def apply_filter(name: str, value: str, normalizer: NameNormalizer) -> str:
    """One template filter: ``lower``, ``upper``, ``snake`` (``CardBox`` -> ``card_box``) or ``norm``."""
    if name == "lower":
        return value.lower()
    if name == "upper":
        return value.upper()
    if name == "snake":
        return "_".join(normalizer.tokens(value)).lower()
    if name == "norm":
        return normalizer.normalize(value)
    raise ValueError(f"unknown filter {name!r}")


@dataclass(frozen=True)
class Rule:
    """One rule: what it matches, what it does, and how it meets labels already there."""

    id: str
    order: int
    action: RuleAction = "label"
    matches: tuple[Match, ...] = ()
    unless: tuple[Match, ...] = ()
    labels: tuple[tuple[str, tuple[LabelTemplate, ...]], ...] = ()
    remove_taxonomies: tuple[str, ...] = ()
    priority: int = 0
    mode: Mode = "add"
    hierarchy: Hierarchy = "all"
    prim_types: tuple[str, ...] = ()
    isa: tuple[str, ...] = ()

    @property
    def fields(self) -> frozenset[str]:
        """Every prim field the rule's matches read."""
        return frozenset(m.on for m in (*self.matches, *self.unless))

    @property
    def taxonomies(self) -> tuple[str, ...]:
        """Taxonomies this rule decides (``*`` for a remove-all rule)."""
        if self.action == "remove":
            return self.remove_taxonomies
        return tuple(tax for tax, _ in self.labels)


@dataclass(frozen=True)
class Defaults:
    """Values every rule inherits unless it sets its own."""

    taxonomy: str = "class"
    mode: Mode = "add"
    ignore_case: bool = True
    prim_types: tuple[str, ...] = ()
    isa: tuple[str, ...] = ()
    instances: InstancePolicy = "root"
    legacy: LegacyPolicy = "upgrade"
    hierarchy: Hierarchy = "all"


@dataclass(frozen=True)
class Scope:
    """Which prims the rules look at: subtrees under ``roots`` minus excluded subtrees (path globs)."""

    roots: tuple[str, ...] = ("/",)
    include_descendants: bool = True
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSet:
    """A validated rules file."""

    version: int = 1
    defaults: Defaults = field(default_factory=Defaults)
    scope: Scope = field(default_factory=Scope)
    normalizer: NameNormalizer = field(default_factory=NameNormalizer)
    rules: tuple[Rule, ...] = ()
    classes: tuple[LabelClass, ...] = ()
    source: str | None = None

    def class_table(self) -> ClassTable:
        """The ``classes`` allow-list as the shared :class:`ClassTable` (same ids and colors everywhere)."""
        return ClassTable(list(self.classes))

    def ranked_rules(self) -> tuple[Rule, ...]:
        """Rules in precedence order: higher ``priority`` first, ties to the earlier rule in the file."""
        return tuple(sorted(self.rules, key=lambda r: (-r.priority, r.order)))
