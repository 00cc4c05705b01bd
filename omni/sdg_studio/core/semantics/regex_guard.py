"""Refuse rule regexes that can backtrack catastrophically, before they meet a prim name.

Python's ``re`` backtracks, so ``(a+)+`` on a 41-character name or ``(.|.)*!`` on a path runs for
minutes. Like the RE2-compatible "safe regex" checkers, :func:`regex_problem` inspects the parsed
pattern and rejects the shapes that cause it:

* an unbounded repeat whose body holds another unbounded repeat that can match the body's first
  character (``(a+)+``, ``(\\w+\\s?)*``; ``(?:_\\d+)*`` is fine: every round starts with ``_``);
* an unbounded repeat over alternatives that can start with the same character, or match nothing
  (``(.|.)*``, ``(a|ab)+``, ``(a|)*``);
* more than three unbounded repeats in a row that can all match one character (``.*.*.*.*x``).

The check is conservative (a few harmless patterns are refused); the error says how to rewrite.
Google's ``re2`` would avoid the check but does not install into every Python the core runs in
(Kit's embedded Python included), so the standard library's parser is used.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from typing import Any

# The parser is private API with the same shape in 3.10 (sre_parse) and 3.11+ (re._parser).
_parser: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")
_MAXREPEAT = _parser.MAXREPEAT
#: Unbounded repeats in a row that may all match one character before the pattern is refused.
MAX_OVERLAPPING_RUN = 3
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")

Ranges = tuple[tuple[int, int], ...]
_ANY: Ranges = ((0, sys.maxunicode),)
_CATEGORIES: dict[str, Ranges] = {
    "CATEGORY_DIGIT": ((48, 57),),
    "CATEGORY_SPACE": ((9, 13), (32, 32)),
    "CATEGORY_WORD": ((48, 57), (65, 90), (95, 95), (97, 122), (128, sys.maxunicode)),
}


def _op(op: Any) -> str:
    return str(op)


def _cased(code: int) -> Ranges:
    char = chr(code)
    return tuple((ord(c), ord(c)) for c in {char, char.lower(), char.upper()} if len(c) == 1)


def _class_ranges(items: Any) -> Ranges:
    """Characters an ``IN`` class can match (categories approximated, negation = anything)."""
    out: list[tuple[int, int]] = []
    for op, value in items:
        name = _op(op)
        if name == "NEGATE":
            return _ANY
        if name == "LITERAL":
            out.extend(_cased(value))
        elif name == "RANGE":
            out.append((value[0], value[1]))
            out.extend(r for c in (value[0], value[1]) for r in _cased(c))
        elif name == "CATEGORY":
            out.extend(_CATEGORIES.get(_op(value), _ANY))
        else:
            return _ANY
    return tuple(out)


def _overlap(a: Ranges, b: Ranges) -> bool:
    return any(lo1 <= hi2 and lo2 <= hi1 for lo1, hi1 in a for lo2, hi2 in b)


def _first(items: Any) -> tuple[Ranges, bool]:
    """(characters the sequence can start with, whether it can match the empty string)."""
    first: list[tuple[int, int]] = []
    for op, value in items:
        chars, empty = _item_first(_op(op), value)
        first.extend(chars)
        if not empty:
            return tuple(first), False
    return tuple(first), True


def _item_first(name: str, value: Any) -> tuple[Ranges, bool]:
    if name == "LITERAL":
        return _cased(value), False
    if name in ("NOT_LITERAL", "ANY"):
        return _ANY, False
    if name == "IN":
        return _class_ranges(value), False
    if name in _REPEATS:
        chars, empty = _first(value[2])
        return chars, empty or value[0] == 0
    if name == "SUBPATTERN":
        return _first(value[-1])
    if name == "ATOMIC_GROUP":
        return _first(value)
    if name == "BRANCH":
        union: list[tuple[int, int]] = []
        any_empty = False
        for branch in value[1]:
            branch_chars, branch_empty = _first(branch)
            union.extend(branch_chars)
            any_empty = any_empty or branch_empty
        return tuple(union), any_empty
    if name in ("AT", "ASSERT", "ASSERT_NOT"):
        return (), True
    return _ANY, True  # back-references and the like: assume the worst


def _repeated_chars(items: Any) -> Ranges:
    """Characters any unbounded repeat inside ``items`` can match."""
    out: list[tuple[int, int]] = []
    for op, value in items:
        name = _op(op)
        if name in _REPEATS:
            if value[1] == _MAXREPEAT:
                out.extend(_first(value[2])[0])
                out.extend(_all_chars(value[2]))
            out.extend(_repeated_chars(value[2]))
        else:
            for sub in _children(name, value):
                out.extend(_repeated_chars(sub))
    return tuple(out)


def _all_chars(items: Any) -> Ranges:
    """Every character ``items`` can match anywhere (over-approximated)."""
    out: list[tuple[int, int]] = []
    for op, value in items:
        name = _op(op)
        if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
            out.extend(_item_first(name, value)[0])
        elif name in _REPEATS:
            out.extend(_all_chars(value[2]))
        else:
            for sub in _children(name, value):
                out.extend(_all_chars(sub))
    return tuple(out)


def _children(name: str, value: Any) -> list[Any]:
    if name == "SUBPATTERN":
        return [value[-1]]
    if name == "BRANCH":
        return list(value[1])
    if name in ("ASSERT", "ASSERT_NOT"):
        return [value[1]]
    if name == "ATOMIC_GROUP":
        return [value]
    if name == "GROUPREF_EXISTS":
        return [v for v in value[1:] if v is not None]
    return []


def _check(items: Any) -> str | None:
    run: list[Ranges] = []
    for op, value in items:
        name = _op(op)
        if name in _REPEATS:
            low, high, body = value
            del low
            if high == _MAXREPEAT:
                problem = _check_repeated_body(body)
                if problem:
                    return problem
                chars = _all_chars(body)
                run = [r for r in run if _overlap(r, chars)] + [chars]
                if len(run) > MAX_OVERLAPPING_RUN:
                    return f"more than {MAX_OVERLAPPING_RUN} unbounded repeats in a row can match the same character"
            found = _check(body)
        else:
            if name not in ("AT",):
                chars = _item_first(name, value)[0] if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN") else None
                if chars is not None:
                    run = [r for r in run if _overlap(r, chars)]
            found = next((p for sub in _children(name, value) if (p := _check(sub))), None)
        if found:
            return found
    return None


def _check_repeated_body(body: Any) -> str | None:
    first, empty = _first(body)
    if empty:
        return "a repeated group can match the empty string"
    if _overlap(first, _repeated_chars(body)):
        return "a repeated group holds another unbounded repeat that can match where a new round starts (like (a+)+)"
    return _ambiguous_branch(body)


def _ambiguous_branch(items: Any) -> str | None:
    """Alternatives (anywhere in ``items``) that can match the same text: two empty or overlapping ones."""
    for op, value in items:
        name = _op(op)
        if name == "BRANCH":
            seen: list[Ranges] = []
            empties = 0
            for branch in value[1]:
                chars, empty = _first(branch)
                empties += empty
                if empties > 1 or any(_overlap(chars, other) for other in seen):
                    return "repeated alternatives can match the same text (like (.|.)* or (a|a)*)"
                seen.append(chars)
        for sub in [value[2]] if name in _REPEATS else _children(name, value):
            found = _ambiguous_branch(sub)
            if found:
                return found
    return None


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` could take exponential (or high polynomial) time, or ``None`` when it is safe."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # re's "possible nested set" hints
            parsed = _parser.parse(pattern)
    except RecursionError:
        return "the pattern nests too deeply"
    problem = _check(list(parsed))
    if problem:
        return f"{problem}; this can run for minutes on a long name (rewrite it, e.g. with a character class)"
    return None
