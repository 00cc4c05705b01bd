"""Where SDG Studio keeps what it remembers between sessions (the recorder's last configuration).

Never inside the installed package or extension folder: an extension installed from a registry or cache is
read-only. Inside Kit the host passes its per-application data folder (the ``${data}`` token,
https://docs.omniverse.nvidia.com/kit/docs/kit-manual/latest/guide/tokens.html: "system folder to store
persistent data (Kit Application specific)"); elsewhere the user's configuration folder is used.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

#: The folder SDG Studio owns inside the host's data folder or the user's configuration folder.
STATE_FOLDER = "sdg_studio"


def user_config_dir(environ: Mapping[str, str] = os.environ, platform: str = sys.platform) -> Path:
    """The user's configuration folder: ``%APPDATA%`` on Windows, else ``$XDG_CONFIG_HOME`` or ``~/.config``."""
    if platform == "win32" and environ.get("APPDATA"):
        return Path(environ["APPDATA"])
    if environ.get("XDG_CONFIG_HOME"):
        return Path(environ["XDG_CONFIG_HOME"])
    return Path(environ.get("HOME") or Path.home()) / ".config"


def user_state_dir(
    app_data: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] = os.environ,
    platform: str = sys.platform,
) -> Path:
    """``<app_data>/sdg_studio`` when the host names a data folder, else ``<user config folder>/sdg_studio``."""
    base = Path(app_data) if app_data else user_config_dir(environ, platform)
    return base / STATE_FOLDER
