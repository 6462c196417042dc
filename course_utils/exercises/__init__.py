"""Exercises that check themselves: the checker, and the bank of every lesson's exercises.

`cu.exercises.check(name, your_function)` grades an answer with a specific hint;
`show_solution(name)` reveals the reference. The exercises live in `bank/lesson_NN.py`.

Notebook: 00_welcome_and_setup.
"""

from . import (
    bank,  # importing it registers the exercises
    checker,
)
from .checker import (
    CheckResult,
    Diagnostic,
    Exercise,
    ExerciseFailed,
    Verification,
    check,
    get_exercise,
    hint,
    list_exercises,
    register,
    show_solution,
    solution,
    verify,
)

__all__ = [
    "bank",
    "checker",
    "check",
    "CheckResult",
    "Diagnostic",
    "Exercise",
    "ExerciseFailed",
    "get_exercise",
    "hint",
    "list_exercises",
    "register",
    "show_solution",
    "solution",
    "Verification",
    "verify",
]
