"""Terminal output of the subcommands: plain-text consoles, styled lines, and the one log handler.

Everything printed is plain text: markup is off on both consoles, so a message, path or rule id that
holds brackets (``[1, 2]``, ``[/x]``) prints exactly as it is. Styles are given as ``(text, style)``
parts of :func:`echo`, never written into the text.

Warnings reach the terminal one way: the ``omni.sdg_studio`` loggers and Python ``warnings`` go to
:class:`ConsoleLogHandler` (installed by :func:`console_logging` around every command), which prints
each distinct message once as ``warning: message`` on stderr.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

console = Console(highlight=False, markup=False)
err_console = Console(stderr=True, highlight=False, markup=False)

#: A piece of a printed line: plain text, or ``(text, rich style)``.
Part = str | tuple[str, str]
#: Loggers whose warnings the commands print: ours, and Python ``warnings`` (see :func:`console_logging`).
LOGGER_NAMES = ("omni.sdg_studio", "py.warnings")
_LEVEL_STYLES = {logging.ERROR: ("error", "red"), logging.WARNING: ("warning", "yellow")}


def echo(*parts: Part, err: bool = False) -> None:
    """Print one line made of ``parts`` (stdout, or stderr with ``err``); text is never read as markup."""
    (err_console if err else console).print(Text.assemble(*parts), soft_wrap=True)


def note(message: str) -> None:
    """``note: message`` on stderr: something the user may want to know that is not a problem."""
    echo(("note: ", "cyan"), message, err=True)


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout, nothing else (for machines)."""
    print(json.dumps(data, indent=2, sort_keys=False, default=str))


class ConsoleLogHandler(logging.Handler):
    """Prints every distinct warning or error once, as ``warning: message``, one plain line on stderr."""

    def __init__(self, target: Console) -> None:
        super().__init__(logging.WARNING)
        self.target = target
        self.seen: set[tuple[str, str]] = set()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            label, style = _LEVEL_STYLES[logging.ERROR if record.levelno >= logging.ERROR else logging.WARNING]
            message = record.getMessage().strip()
            if (label, message) in self.seen:
                return
            self.seen.add((label, message))
            self.target.print(Text.assemble((f"{label}: ", style), message), soft_wrap=True)
        except Exception:
            self.handleError(record)


def _log_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """``warnings.showwarning`` replacement: the message alone, through logging (no file, line or class)."""
    logging.getLogger("py.warnings").warning("%s", message)


@contextmanager
def console_logging() -> Iterator[ConsoleLogHandler]:
    """Route ``omni.sdg_studio`` log records and Python warnings to one :class:`ConsoleLogHandler`.

    Like :func:`logging.captureWarnings`, but the printed line is the warning's message only (no source
    path, line number or category). Warning filters are scoped to the block, so each run reports afresh.
    """
    handler = ConsoleLogHandler(err_console)
    loggers = [logging.getLogger(name) for name in LOGGER_NAMES]
    with warnings.catch_warnings():  # restores showwarning and the filters afterwards
        warnings.showwarning = _log_warning
        for logger in loggers:
            logger.addHandler(handler)
        try:
            yield handler
        finally:
            for logger in loggers:
                logger.removeHandler(handler)
