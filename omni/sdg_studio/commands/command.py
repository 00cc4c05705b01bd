"""The class of every ``sdg-studio`` subcommand: help without type noise, and the hidden old option names.

Typer (0.29) shows a type for every parameter (``<bool>`` on flags, ``<str>``, ``{stage}`` in the usage line).
Here flags show no metavar, arguments show their upper-case name (``STAGE``) in the usage line and the
arguments panel, and an option without an explicit metavar shows a plain word (``N``, ``TEXT``...).
Old option spellings listed in :data:`~omni.sdg_studio.commands.options.HIDDEN_ALIASES` are renamed
before parsing, with a warning that names the new spelling.
"""

from __future__ import annotations

import logging
from typing import Any

from typer.core import TyperCommand, TyperGroup

from omni.sdg_studio.commands.options import HIDDEN_ALIASES

log = logging.getLogger(__name__)
#: Plain metavars for options declared without one (Typer's ``<int>`` and friends).
_TYPE_METAVARS = {"<int>": "N", "<float>": "NUMBER", "<str>": "TEXT", "<path>": "PATH"}


def _no_type(*args: Any, **kwargs: Any) -> None:
    return None


def _tidy(param: Any, ctx: Any) -> None:
    """Give ``param`` the metavar its help line shows (idempotent)."""
    if param.param_type_name == "argument":
        if param.metavar is None:
            param.metavar = (param.name or "").upper()
        setattr(param, "display_type_rich", _no_type)  # noqa: B010 (shadow Typer's type column on this instance)
    elif getattr(param, "is_flag", False) and not getattr(param, "count", False):
        param.metavar = param.metavar or ""
    elif param.metavar is None:
        shown = getattr(param, "display_type_rich", _no_type)(ctx=ctx)
        if isinstance(shown, str) and shown.startswith("<") and shown.endswith(">"):
            param.metavar = _TYPE_METAVARS.get(shown, shown[1:-1])


def rename_aliases(command: str, args: list[str]) -> list[str]:
    """``args`` with the hidden old option names of ``command`` replaced by the new ones."""
    aliases = HIDDEN_ALIASES.get(command, {})
    renamed: list[str] = []
    for index, arg in enumerate(args):
        if arg == "--":
            return renamed + args[index:]
        name, equals, value = arg.partition("=")
        new = aliases.get(name)
        if new is not None:
            log.warning("%s is now %s; the old name is accepted until the next release", name, new)
            arg = f"{new}{equals}{value}"
        renamed.append(arg)
    return renamed


def _tidied(params: list[Any], ctx: Any) -> list[Any]:
    for param in params:
        _tidy(param, ctx)
    return params


class SdgGroup(TyperGroup):
    """The ``sdg-studio`` group: its own options (``--version``, ``--help``) shown without type noise."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _tidied(super().get_params(ctx), ctx)


class SdgCommand(TyperCommand):
    """A Typer command with clean help metavars and hidden option aliases."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _tidied(super().get_params(ctx), ctx)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name != "argument":
                pieces.extend(param.get_usage_pieces(ctx))
                continue
            name = str(param.metavar) + ("..." if param.nargs != 1 else "")
            pieces.append(name if param.required else f"[{name}]")
        return pieces

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, rename_aliases(self.name or "", args))
