"""USD's own warnings while a stage is opened or read, gathered into one log line naming the files.

A stage that references MaterialX documents (which usd-core cannot read: it has no MaterialX file
format plugin) or missing files makes USD print one raw warning per composition arc, every time. Inside
:func:`summarized_usd_warnings` they are caught with ``Tf.DiagnosticTrap`` (usd-core 26.11 has it, 25.2
does not; without it they pass through unchanged) and reported as one warning. Errors are not touched.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

from pxr import Tf

logger = logging.getLogger(__name__)

_ASSET = re.compile(r"asset @([^@]+)@")


@contextmanager
def summarized_usd_warnings(doing: str) -> Iterator[None]:
    """Catch USD warnings raised inside the block; log one line for them all, naming the files involved."""
    trap_type = getattr(Tf, "DiagnosticTrap", None)
    if trap_type is None:
        yield
        return
    with trap_type() as trap:
        try:
            yield
        finally:
            messages = [str(w.commentary) for w in trap.GetWarnings()]
            trap.ClearWarnings()
            if messages:
                logger.warning("%s", summary(messages, doing))


def summary(messages: list[str], doing: str) -> str:
    """One line for USD warnings ``messages`` raised while ``doing``."""
    files = list(
        dict.fromkeys(m.group(1).split(":SDF_FORMAT_ARGS:")[0] for text in messages for m in _ASSET.finditer(text))
    )
    if not files:
        first = messages[0].splitlines()[0] if messages[0] else "?"
        return f"{len(messages)} USD warnings while {doing}, the first: {first}"
    note = ""
    if any(f.lower().endswith(".mtlx") for f in files):
        note = (
            " (MaterialX files need a USD build with MaterialX support; usd-core has none:"
            " those prims show displayColor or gray)"
        )
    return f"{len(messages)} USD warnings while {doing}: could not read {', '.join(files)}{note}"
