"""The project's error base: every error a user can cause derives from :class:`SdgStudioError`."""


class SdgStudioError(Exception):
    """A user-facing error; its message names the file, line, rule or field at fault."""
