"""The exceptions of the cascade package."""

from __future__ import annotations

from typing import List, NamedTuple, Optional, Sequence, Tuple


class Problem(NamedTuple):
    """One problem in a scenario: where it is and what is wrong."""

    file: str
    """The file at fault (``<string>`` or ``<dict>`` for a scenario given as text or dict)."""
    line: Optional[int]
    """1-based line, where known."""
    field: str
    """Field path, e.g. ``protocols[0].liquidation.bonus``."""
    value: Optional[str]
    """The offending value as written, where there is one."""
    message: str
    """What is wrong and what is expected."""

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "")
        what = self.field
        if self.value is not None:
            what = f"{what} = {self.value}" if what else self.value
        return f"{where}: {what}: {self.message}" if what else f"{where}: {self.message}"


class CascadeError(Exception):
    """Every error the package raises on its own."""


class ScenarioError(CascadeError, ValueError):
    """An invalid scenario: ``problems`` lists each problem (file, line, field, value, message)."""

    problems: List[Problem]

    def __init__(self, message: str, problems: Sequence[Tuple] = ()) -> None:
        super().__init__(message)
        self.problems = [Problem(*p) for p in problems]

    @property
    def fields(self) -> List[str]:
        """The field path of each problem."""
        return [p.field for p in self.problems]


class InternalError(CascadeError, RuntimeError):
    """A failure that is not the input's (a panic in the engine comes back as one)."""
