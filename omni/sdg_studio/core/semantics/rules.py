"""The labeling rules, as validated data: defaults, scope, name normalization, rules, classes.

``rules_file.py`` builds a :class:`RuleSet` from YAML/JSON; ``plan.py`` evaluates it on a stage.
Matching is exact and documented: ``regex`` is ``re.fullmatch`` on the chosen field (refused when
it can backtrack catastrophically), ``glob`` is a full match with fnmatch's syntax where ``*``,
``?`` and ``[...]`` stay inside one path segment and ``**`` crosses ``/``, ``contains`` is a
substring test. ``ignore_case`` applies to all three.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from omni.sdg_studio.core.classes import ClassTable, LabelClass
from omni.sdg_studio.core.semantics.names import NameNormalizer
from omni.sdg_studio.core.semantics.regex_guard import regex_problem

Mode = Literal["add", "replace", "skip"]
Hierarchy = Literal["all", "topmost", "leaf"]
InstancePolicy = Literal["root", "deinstance", "asset", "skip", "error"]
LegacyPolicy = Literal["upgrade", "keep", "fail"]
MatchField = Literal["name", "path", "type", "asset", "folder", "material"]
MatchKind = Literal["glob", "regex", "contains"]
RuleAction = Literal["label", "exclude", "remove"]

MODES: tuple[Mode, ...] = ("add", "replace", "skip")
HIERARCHIES: tuple[Hierarchy, ...] = ("all", "topmost", "leaf")
INSTANCE_POLICIES: tuple[InstancePolicy, ...] = ("root", "deinstance", "asset", "skip", "error")
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


class GlobError(ValueError):
    """A glob pattern is malformed (an unclosed or empty ``[...]`` class, a reversed range)."""


def _glob_class(pattern: str, start: int) -> tuple[str, int]:
    """The regex of the ``[...]`` class opening at ``start`` and the index after it (fnmatch's syntax:
    ``[!...]`` negates, a ``]`` right after ``[`` or ``[!`` is literal, ``a-z`` is a range). A class never
    matches ``/``, as in a path glob."""
    i = start + 1
    negate = i < len(pattern) and pattern[i] == "!"
    if negate:
        i += 1
    body_start = i
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    end = pattern.find("]", i)
    if end < 0:
        raise GlobError(f"unclosed '[' at character {start + 1} (a literal bracket is [[])")
    body = pattern[body_start:end]
    parts: list[str] = []
    slash = False
    k = 0
    while k < len(body):
        if k + 2 < len(body) and body[k + 1] == "-":
            low, high = body[k], body[k + 2]
            if low > high:
                raise GlobError(f"empty range '{low}-{high}' in the class at character {start + 1}")
            parts.append(f"{re.escape(low)}-{re.escape(high)}")
            slash = slash or low <= "/" <= high
            k += 3
        else:
            parts.append(re.escape(body[k]))
            slash = slash or body[k] == "/"
            k += 1
    items = "".join(parts)
    if negate:
        return f"[^/{items}]", end + 1
    return (f"(?!/)[{items}]" if slash else f"[{items}]"), end + 1


def glob_to_regex(pattern: str) -> str:
    """A glob as a regex for ``re.fullmatch``, raising :class:`GlobError` when it is malformed.

    ``*`` / ``?`` / ``[abc]`` / ``[!abc]`` / ``[a-z]`` stay within one path segment (they never match
    ``/``); ``**`` crosses segments, and ``/**/`` also matches a single ``/`` (``/World/**/Lid`` matches
    ``/World/Lid``). On a name (no ``/``) this is exactly :func:`fnmatch.fnmatchcase`.
    """
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            at_start = i == 0 or pattern[i - 1] == "/"
            if at_start and pattern.startswith("**/", i):  # "/**/" or a leading "**/": zero or more segments
                out.append("(?:.*/)?")
                i += 3
            else:
                out.append(".*")
                i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            regex, i = _glob_class(pattern, i)
            out.append(regex)
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


def split_path_glob(pattern: str) -> tuple[str, str] | None:
    """A path glob as (parent pattern, last-segment pattern) when its last segment stays within a name.

    ``/World/**/SM_*`` -> (``/World/**``, ``SM_*``): a prim matches when its parent path matches the
    first and its name the second, so the name half can be tested once per distinct name. ``None``
    when the last segment holds ``**`` or a class holds ``/``.
    """
    depth, cut = 0, -1
    for index, char in enumerate(pattern):
        if char == "[":
            depth = 1
        elif char == "]" and depth:
            depth = 0
        elif char == "/" and not depth:
            cut = index
    if cut < 0 or "**" in pattern[cut + 1 :]:
        return None
    return pattern[:cut], pattern[cut + 1 :]


def parent_glob_regex(parent: str) -> str:
    """The regex a prim's parent path must fullmatch for the parent half of :func:`split_path_glob`.

    The root's children have the parent ``""``; a trailing ``/**`` (from ``/**/``) also matches the
    folder itself.
    """
    if parent == "**":
        return ".*"
    if parent.endswith("/**"):
        return glob_to_regex(parent[:-3]) + "(?:/.*)?"
    return glob_to_regex(parent)


class UnsafeRegexError(ValueError):
    """A rule regex could backtrack catastrophically (see ``regex_guard``)."""


#: Which assets on a prim's composition path a clause sees: 1 = the nearest reference/payload, 2 = the
#: one that brought that one in, ..., -1 = the outermost. ``()`` = any of them.
AssetDepth = tuple[int, ...]
NEAREST_ASSET: AssetDepth = (1,)


@dataclass(frozen=True)
class Match:
    """One test on one field of a prim."""

    on: MatchField
    kind: MatchKind
    pattern: str
    ignore_case: bool
    regex: re.Pattern[str] = field(compare=False, repr=False)
    asset_depth: AssetDepth = NEAREST_ASSET
    #: For a path glob whose last segment stays within a name: (parent regex, name regex).
    split: tuple[re.Pattern[str], re.Pattern[str]] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def build(
        cls, on: MatchField, kind: MatchKind, pattern: str, ignore_case: bool, asset_depth: AssetDepth = NEAREST_ASSET
    ) -> Match:
        """Compile ``pattern``; raises ``re.error`` (bad regex), :class:`GlobError` (malformed glob) or
        :class:`UnsafeRegexError` (a regex that can backtrack catastrophically)."""
        if kind == "regex":
            problem = regex_problem(pattern)
            if problem:
                raise UnsafeRegexError(problem)
        source = {"regex": pattern, "glob": glob_to_regex(pattern), "contains": re.escape(pattern)}[kind]
        flags = re.IGNORECASE if ignore_case else 0
        split = None
        halves = split_path_glob(pattern) if kind == "glob" and on == "path" else None
        if halves is not None:
            split = (re.compile(parent_glob_regex(halves[0]), flags), re.compile(glob_to_regex(halves[1]), flags))
        return cls(on, kind, pattern, ignore_case, re.compile(source, flags), asset_depth, split)

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
    #: Which assets ``{asset}`` / ``{folder}`` name when no asset clause of the rule matched one.
    asset_depth: AssetDepth = NEAREST_ASSET

    @cached_property
    def fields(self) -> frozenset[str]:
        """Every prim field the rule's matches read."""
        return frozenset(m.on for m in (*self.matches, *self.unless))

    @cached_property
    def template_fields(self) -> frozenset[str]:
        """Every field (or regex group) the rule's label templates use."""
        return frozenset(name for _, templates in self.labels for t in templates for name in t.fields)

    @cached_property
    def labels_per_name(self) -> bool:
        """Whether the rendered labels depend only on the prim's name and type (and the regex groups of
        clauses on them), so one rendering serves every prim with that (name, type)."""
        return self.fields <= CHEAP_FIELDS and self.template_fields - {"name", "norm", "type"} <= self.group_names

    @cached_property
    def group_names(self) -> frozenset[str]:
        return frozenset(
            name for m in (*self.matches, *self.unless) if m.kind == "regex" for name in m.regex.groupindex
        )

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
