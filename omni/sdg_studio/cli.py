"""The ``sdg-studio`` command."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Annotated

import typer
from typer.core import TyperCommand

import omni.sdg_studio.commands as commands
from omni.sdg_studio import __version__
from omni.sdg_studio.commands.command import SdgCommand, SdgGroup
from omni.sdg_studio.commands.output import console_logging, echo
from omni.sdg_studio.core.errors import SdgStudioError

app = typer.Typer(
    name="sdg-studio",
    help="Label USD stages, record synthetic data and look at annotators, with or without Isaac Sim.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=SdgGroup,
)
# Every module of omni.sdg_studio.commands with a register(app) adds its subcommands.
for found in pkgutil.iter_modules(commands.__path__):
    module = importlib.import_module(f"{commands.__name__}.{found.name}")
    if hasattr(module, "register"):
        module.register(app)
for registered in app.registered_commands:  # one command class: clean help, hidden old option names
    if registered.cls in (None, TyperCommand):
        registered.cls = SdgCommand


def _version(value: bool) -> None:
    if value:
        print(f"sdg-studio {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Label USD stages, record synthetic data and look at annotators, with or without Isaac Sim."""


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors print one plain line and exit 2, never a traceback; warnings print once."""
    with console_logging():
        try:
            app(args=argv, prog_name="sdg-studio")
        except SystemExit as exc:  # click's standalone mode ends every run with SystemExit
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except SdgStudioError as exc:
            echo(("error: ", "red"), str(exc), err=True)
            return 2
        except KeyboardInterrupt:
            echo(("interrupted", "yellow"), err=True)
            return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
