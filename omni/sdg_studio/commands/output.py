"""Shared terminal output for the subcommands: one console for results, one for errors."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout, nothing else (for machines)."""
    print(json.dumps(data, indent=2, sort_keys=False, default=str))
