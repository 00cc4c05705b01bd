"""The project's error base: every error a user can cause derives from :class:`SdgStudioError`."""


class SdgStudioError(Exception):
    """A user-facing error; its message names the file, line, rule or field at fault."""


class InvalidValue(SdgStudioError, ValueError):
    """A value breaks an invariant of its type (a width below 1); ``field`` and ``index`` say which part."""

    def __init__(self, field: str, problem: str, index: int | None = None) -> None:
        self.field = field
        self.index = index
        self.problem = problem
        super().__init__(f"{field}{'' if index is None else f'[{index}]'}: {problem}")
