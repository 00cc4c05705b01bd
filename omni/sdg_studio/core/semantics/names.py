"""Token-aware prim-name normalization (the ``auto`` label and the ``{norm}`` template field).

A name is split into tokens (at separators, at lower-to-upper case changes and at letter/digit
boundaries); prefixes, suffixes and numeric endings are removed only as *whole tokens*. So
``Mattress_01`` never loses a ``Mat`` prefix (``mattress``), ``SteelMat`` loses a ``Mat`` suffix
cleanly (``steel``) and ``_01`` normalizes to an empty string instead of raising.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Case = Literal["keep", "lower", "upper"]

#: Runs of upper case before a capitalized word (``XML`` in ``XMLParser``), words, upper runs, digit runs.
_CAMEL_TOKEN = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+|[^A-Za-z0-9]+")
_ALNUM_TOKEN = re.compile(r"[A-Za-z]+|[0-9]+|[^A-Za-z0-9]+")


@dataclass(frozen=True)
class NameNormalizer:
    """How a prim name becomes a label: split into tokens, strip whole tokens, join, change case."""

    separators: tuple[str, ...] = ("_", "-", ".", " ")
    camel_case: bool = True
    strip_prefixes: tuple[str, ...] = ()
    strip_suffixes: tuple[str, ...] = ()
    strip_numeric: bool = True
    cumulative: bool = True
    ignore_case: bool = True
    join: str = "_"
    case: Case = "lower"

    def tokens(self, name: str) -> list[str]:
        """``name`` split at separators, case changes (``camel_case``) and letter/digit boundaries."""
        parts = [name]
        for separator in self.separators:
            parts = [piece for part in parts for piece in part.split(separator)]
        splitter = _CAMEL_TOKEN if self.camel_case else _ALNUM_TOKEN
        return [token for part in parts if part for token in splitter.findall(part)]

    def _affix_tokens(self, affixes: Sequence[str]) -> list[list[str]]:
        # Longest affix first, so "LOD0" wins over "0" when both are listed.
        split = [self.tokens(affix) for affix in affixes]
        return sorted((t for t in split if t), key=len, reverse=True)

    def _same(self, a: Sequence[str], b: Sequence[str]) -> bool:
        if self.ignore_case:
            return [x.casefold() for x in a] == [y.casefold() for y in b]
        return list(a) == list(b)

    def strip(self, tokens: list[str]) -> list[str]:
        """Remove prefix, suffix and trailing numeric tokens (repeatedly when ``cumulative``)."""
        prefixes = self._affix_tokens(self.strip_prefixes)
        suffixes = self._affix_tokens(self.strip_suffixes)
        tokens = list(tokens)
        while True:
            before = len(tokens)
            for prefix in prefixes:
                if len(tokens) >= len(prefix) and self._same(tokens[: len(prefix)], prefix):
                    tokens = tokens[len(prefix) :]
                    break
            for suffix in suffixes:
                if len(tokens) >= len(suffix) and self._same(tokens[-len(suffix) :], suffix):
                    tokens = tokens[: -len(suffix)]
                    break
            if self.strip_numeric:
                while tokens and tokens[-1].isdigit():
                    tokens.pop()
            if not self.cumulative or len(tokens) == before:
                return tokens

    def normalize(self, name: str) -> str:
        """The normalized form of ``name``; ``""`` when nothing is left (e.g. ``_01``)."""
        joined = self.join.join(self.strip(self.tokens(name)))
        if self.case == "lower":
            return joined.lower()
        if self.case == "upper":
            return joined.upper()
        return joined
