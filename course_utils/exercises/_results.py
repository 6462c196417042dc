"""What the checker reports: a check's result and a verification, shown as plain text.

A notebook displays a `CheckResult` through `_repr_html_` (JupyterLab) or `__repr__` (a
console): the message with real line breaks, never a traceback or a quoted string.

Notebook: 00_welcome_and_setup (section "Exercises that check themselves").
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

__all__ = ["CheckResult", "ExerciseFailed", "Verification"]


class ExerciseFailed(AssertionError):
    """The learner's function gave a wrong answer; the message says what looks wrong."""


_COLOURS = {"correct": "#1a7f37", "not attempted": "#57606a", "wrong": "#cf222e"}


@dataclass(frozen=True, repr=False)
class CheckResult:
    """What `check` found; a notebook shows its message as plain text, never as a traceback.

    Attributes:
        name: the exercise.
        passed: the answer is right.
        attempted: False while the function is a stub (returns None).
        message: what to tell the learner, with real line breaks.
        error: the exception the learner's function raised, if it raised one.
    """

    name: str
    passed: bool
    attempted: bool
    message: str
    error: BaseException | None = field(default=None, compare=False)

    @property
    def status(self) -> str:
        """ "correct", "not attempted" or "wrong"."""
        if self.passed:
            return "correct"
        return "wrong" if self.attempted else "not attempted"

    def __repr__(self) -> str:
        return self.message

    def _repr_html_(self) -> str:
        colour = _COLOURS[self.status]
        head, _, rest = self.message.partition("\n")
        body = f"\n{html.escape(rest)}" if rest else ""
        return (
            f'<div style="white-space: pre-wrap; border-left: 4px solid {colour}; '
            f'padding: 2px 8px"><span style="color: {colour}; font-weight: bold">'
            f"{html.escape(head)}</span>{body}</div>"
        )


@dataclass(frozen=True, repr=False)
class Verification:
    """What `verify` found; true when the check works as listed.

    Attributes:
        name: the exercise.
        mistakes: how many typical mistakes the exercise lists.
        problems: what does not work, one line each (empty when all is well).
    """

    name: str
    mistakes: int
    problems: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return not self.problems

    def __repr__(self) -> str:
        if not self.problems:
            return (
                f"{self.name}: the check accepts the reference solution, calls a stub 'not "
                f"attempted', and gives each of the {self.mistakes} typical mistakes its own hint."
            )
        return f"{self.name}: the check does not work as listed:\n" + "\n".join(
            f"- {problem}" for problem in self.problems
        )
