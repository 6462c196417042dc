"""Exercises with automatic feedback: grade a learner's function against a reference.

A lesson's exercise is a function the learner writes, then checks with
``check("01.softmax_over_keys", my_softmax)``. The checker runs it and a reference solution on
seeded inputs plus the edge cases that catch real bugs (batch 1, a single key, large scores,
fully masked rows). When the two disagree it names the likely mistake ("softmax over the wrong
axis", "missing 1/sqrt(d) scale") in shapes and words, never with the expected values or the
solution's code. Results may be tensors, arrays, numbers, booleans, strings or lists of them.

``check`` never raises for a wrong answer: it returns a `CheckResult` that a notebook shows as
plain text ("correct", the hint, or "not attempted" for a stub returning None or Nones), so stored
notebooks with empty exercises run clean in CI. ``check(..., raise_on_failure=True)`` raises
`ExerciseFailed` instead, for tests. ``verify(name)`` proves that the check accepts the
reference and gives each listed mistake its own hint, without showing the solution.

Every exercise of lessons 00-11 lives in ``course_utils.exercises.bank``; they register
themselves the first time the registry is used, and ``register`` adds more.

Notebook: 00_welcome_and_setup (section "Exercises that check themselves").
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import textwrap
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ._compare import clone, describe, difference, layout, same_inputs, to_device
from ._results import CheckResult, ExerciseFailed, Verification

__all__ = [
    "CheckResult",
    "Diagnostic",
    "Exercise",
    "ExerciseFailed",
    "check",
    "get_exercise",
    "hint",
    "list_exercises",
    "register",
    "show_solution",
    "solution",
    "Verification",
    "verify",
]


@dataclass(frozen=True)
class Diagnostic:
    """A known mistake and the hint that names it.

    Attributes:
        wrong: a wrong implementation with the reference's signature. Without `symptom`, the
            hint is given when the learner's output matches it on every test input; with a
            `symptom`, it is an example of the mistake (the tests check that it is caught).
        hint: what to tell the learner: a nudge in words, never the answer.
        symptom: optional test `(args, got, expected) -> bool` on one test input; the hint is
            given when it holds on any input. It only sees outputs whose structure and shapes
            are already right, so it can compare `got` and `expected` element by element.
    """

    wrong: Callable[..., Any]
    hint: str
    symptom: Callable[[tuple, Any, Any], bool] | None = None


@dataclass(frozen=True)
class Exercise:
    """One registered exercise; see `register` for the meaning of each field."""

    name: str
    reference: Callable[..., Any]
    make_cases: Callable[[torch.Generator], list[tuple]]
    diagnostics: tuple[Diagnostic, ...]
    hint: str
    outputs: tuple[str, ...]
    weights_output: int | None
    rtol: float
    atol: float
    large_cases: int = 0


# The registry is the one piece of module state: exercises are looked up by name from any
# notebook, and registering is how lessons (and teachers) add them.
_REGISTRY: dict[str, Exercise] = {}


def _load_bank() -> None:
    # Imported here, not at the top: the bank imports `register` from this module.
    importlib.import_module(f"{__package__}.bank")


def register(
    name: str,
    reference: Callable[..., Any],
    make_cases: Callable[[torch.Generator], list[tuple]],
    diagnostics: Sequence[Diagnostic | tuple[Callable[..., Any], str]] = (),
    hint: str = "",
    *,
    outputs: Sequence[str] = ("output",),
    weights_output: int | None = None,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    large_cases: int = 0,
) -> Exercise:
    """Add an exercise (or replace one of the same name, as re-running a notebook cell does).

    Args:
        name: "<lesson>.<topic>", e.g. "01.softmax_over_keys".
        reference: the solution; its source is what `solution` shows.
        make_cases: `(generator) -> list of argument tuples`; use only `generator` for
            randomness, so every learner is graded on the same inputs.
        diagnostics: known mistakes, checked in order: `Diagnostic` objects or
            `(wrong_function, hint_text)` pairs.
        hint: a general nudge, returned by `hint(name)` and added to generic failures.
        outputs: names of the outputs in messages, e.g. ("context", "weights").
        weights_output: index of the output holding attention weights (rows sum to 1 over
            the last axis), for a specific message when they do not; None if there is none.
        rtol: relative tolerance of the comparison (float32 arithmetic in any order passes).
        atol: absolute tolerance of the comparison.
        large_cases: how many cases at the end of `make_cases`' list are large (too large for
            brute force, say); they run only once every earlier case passes, so a wrong
            answer gets its hint first.

    Returns:
        the registered `Exercise`.

    Example:
        >>> _ = register("99.double", lambda x: 2 * x, lambda g: [(torch.randn(3, generator=g),)])
        >>> check("99.double", lambda x: x + x).passed
        True

    Notebook: 00_welcome_and_setup
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}")
    if not callable(reference) or not callable(make_cases):
        raise TypeError("reference and make_cases must be callables")
    parsed = []
    for item in diagnostics:
        if isinstance(item, tuple) and len(item) == 2:
            item = Diagnostic(wrong=item[0], hint=item[1])
        if not isinstance(item, Diagnostic):
            raise TypeError(f"a diagnostic must be a Diagnostic or (wrong, hint), got {item!r}")
        parsed.append(item)
    _load_bank()  # so that the bank, loaded later, cannot replace this exercise
    exercise = Exercise(
        name, reference, make_cases, tuple(parsed), hint, tuple(outputs), weights_output,
        rtol, atol, large_cases,
    )  # fmt: skip
    _REGISTRY[name] = exercise
    return exercise


def list_exercises() -> list[str]:
    """Return the names of all registered exercises, sorted (lesson number first).

    Example:
        >>> "01.softmax_over_keys" in list_exercises()
        True
    """
    _load_bank()
    return sorted(_REGISTRY)


def get_exercise(name: str) -> Exercise:
    """Return the registered exercise `name`; ValueError (with the closest names) if unknown."""
    _load_bank()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(str(name), _REGISTRY, n=3)
        suggestion = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"unknown exercise {name!r}{suggestion} (see list_exercises())")
    return _REGISTRY[name]


def hint(name: str) -> str:
    """Return a general nudge for exercise `name` (it never contains the solution)."""
    return get_exercise(name).hint or f"No hint for {name}; try solution({name!r})."


def solution(name: str) -> str:
    """Return the source code of the reference solution of exercise `name`.

    Example:
        >>> "def" in solution("01.softmax_over_keys")
        True
    """
    try:
        return textwrap.dedent(inspect.getsource(get_exercise(name).reference))
    except (OSError, TypeError) as exc:  # lambdas typed in a console have no source file
        raise ValueError(f"the solution of {name!r} has no source code to show") from exc


def show_solution(name: str) -> Any:
    """Return the reference solution as an IPython `Code` object, shown highlighted in Jupyter."""
    from IPython.display import Code  # lazily: the package works without IPython

    return Code(solution(name), language="python")


def check(
    name: str,
    function: Callable[..., Any],
    *,
    device: Any = None,
    raise_on_failure: bool = False,
) -> CheckResult:
    """Grade `function` against the reference of exercise `name`.

    Args:
        name: the exercise, e.g. "01.softmax_over_keys" (see `list_exercises`).
        function: the learner's function, called like the reference.
        device: where the test inputs live; None keeps them on the CPU.
        raise_on_failure: raise `ExerciseFailed` for a wrong answer instead of returning it
            (for tests and scripts; a stub is still only "not attempted").

    Returns:
        a `CheckResult`, shown in a notebook as plain text: correct; wrong, with a hint that
        names the likely mistake and the input shapes that showed it; or not attempted, when
        `function` returns None (or a tuple of Nones) or raises NotImplementedError.

    Raises:
        ExerciseFailed: only with `raise_on_failure=True`, when the answer is wrong.

    Example:
        >>> check("01.softmax_over_keys", lambda scores: scores.softmax(dim=-1)).passed
        True
        >>> print(check("01.softmax_over_keys", lambda scores: scores.exp()))  # doctest: +ELLIPSIS
        01.softmax_over_keys: not right yet.
        You exponentiated the scores but did not normalise them: ...
        (seen on inputs scores of shape (2, 3, 5))

    Notebook: 01_attention_as_weighted_average
    """
    result = _grade(get_exercise(name), function, device)
    if raise_on_failure and result.attempted and not result.passed:
        raise ExerciseFailed(result.message) from result.error
    return result


def verify(name: str, *, device: Any = None) -> Verification:
    """Check the check: the reference passes, a stub is "not attempted", each mistake is caught.

    A lesson runs ``assert verify(name)`` under an exercise: it proves the exercise works
    without printing or showing the solution (`show_solution` does that, when asked).

    Args:
        name: the exercise, e.g. "02.attention_pooling".
        device: where the test inputs live; None keeps them on the CPU.

    Returns:
        a `Verification`, true when the reference passes its own check, a function returning
        None is "not attempted", and each listed mistake gets exactly its own hint.

    Example:
        >>> bool(verify("01.masked_softmax"))
        True

    Notebook: 00_welcome_and_setup
    """
    exercise = get_exercise(name)
    problems = []
    result = _grade(exercise, exercise.reference, device)
    if not result.passed:
        problems.append(f"the reference fails its own check: {result.message}")
    if _grade(exercise, lambda *args: None, device).attempted:
        problems.append("a stub returning None is not reported as 'not attempted'")
    for i, diagnostic in enumerate(exercise.diagnostics, 1):
        result = _grade(exercise, diagnostic.wrong, device)
        others = [d for d in exercise.diagnostics if d.hint != diagnostic.hint]
        if result.passed or diagnostic.hint not in result.message:
            problems.append(f"mistake {i} does not get its hint; the check says: {result.message}")
        elif any(other.hint in result.message for other in others):
            problems.append(f"mistake {i} gets another mistake's hint too: {result.message}")
    return Verification(name, len(exercise.diagnostics), tuple(problems))


def _grade(exercise: Exercise, function: Callable[..., Any], device: Any) -> CheckResult:
    name = exercise.name
    names = list(inspect.signature(exercise.reference).parameters)
    nudge = f"\nHint: {exercise.hint}" if exercise.hint else ""
    cases = exercise.make_cases(torch.Generator().manual_seed(0))
    runs, changed_inputs = [], None
    for i, args in enumerate(to_device(args, device) for args in cases):
        if i == len(cases) - exercise.large_cases and _failures(runs, exercise):
            break  # a wrong answer gets its hint without waiting for the large cases
        expected = exercise.reference(*clone(args))
        learner_args = clone(args)
        try:
            got = function(*learner_args)
        except NotImplementedError:
            return _not_attempted(name)
        except Exception as exc:
            return _wrong(
                name, f"your function raised {type(exc).__name__}: {exc}\n"
                f"on inputs {describe(args, names)}{_where(exc, function)}{nudge}", error=exc
            )  # fmt: skip
        stub = got is None or (isinstance(got, tuple) and bool(got) and all(p is None for p in got))
        if stub:  # None, or a tuple of Nones (a stub's `return None, None`)
            if i == 0:
                return _not_attempted(name)
            return _wrong(
                name, f"your function returned None on inputs {describe(args, names)}; "
                "every path through it must return a result."
            )  # fmt: skip
        if changed_inputs is None and not same_inputs(args, learner_args):
            changed_inputs = args
        runs.append((args, got, expected))

    failures = _failures(runs, exercise)
    if not failures:
        if changed_inputs is not None:
            return _wrong(
                name, "the result is right, but your function changed its inputs in place (on "
                f"inputs {describe(changed_inputs, names)}). Work on new tensors or arrays "
                "(e.g. `x = x - m` rather than `x -= m`), so the caller's data stays intact."
            )  # fmt: skip
        return CheckResult(
            name, True, True, f"{name}: correct on all {len(runs)} test inputs. Well done!"
        )
    for diagnostic in exercise.diagnostics:
        seen = _diagnosed(diagnostic, runs, exercise, first_failure=failures[0][0])
        if seen is not None:
            return _wrong(name, f"{diagnostic.hint}\n(seen on inputs {describe(seen, names)})")
    args, got, expected = failures[0]
    return _wrong(
        name, f"{_difference(got, expected, exercise)}\n"
        f"(seen on inputs {describe(args, names)}){nudge}"
    )  # fmt: skip


def _wrong(name: str, text: str, error: BaseException | None = None) -> CheckResult:
    return CheckResult(name, False, True, f"{name}: not right yet.\n{text}", error=error)


def _not_attempted(name: str) -> CheckResult:
    message = f"{name}: not attempted yet. Write your function, then run this cell again."
    return CheckResult(name, False, False, message)


def _where(exc: BaseException, function: Callable[..., Any]) -> str:
    """Where in the learner's own code the exception came from (a cell's line number)."""
    code = getattr(function, "__code__", None)
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [frame for frame in frames if code is not None and frame.filename == code.co_filename]
    if not mine:
        return ""
    line = f": {mine[-1].line.strip()}" if mine[-1].line else ""
    return f"\n(at line {mine[-1].lineno} of your code{line})"


def _difference(got: Any, expected: Any, exercise: Exercise) -> str | None:
    try:
        return difference(
            got, expected, exercise.outputs, exercise.weights_output, exercise.rtol, exercise.atol
        )
    except Exception as exc:  # an odd result (a complex tensor, a generator): say so, calmly
        return f"your result could not be compared ({type(exc).__name__}: {exc})"


def _failures(runs: list, exercise: Exercise) -> list:
    return [run for run in runs if _difference(run[1], run[2], exercise) is not None]


def _diagnosed(
    diagnostic: Diagnostic, runs: list, exercise: Exercise, first_failure: tuple
) -> tuple | None:
    """Return the inputs on which `diagnostic` recognises the learner's mistake, or None."""
    if diagnostic.symptom is not None:
        for args, got, expected in runs:
            if layout(got, expected, exercise.outputs) is None and _holds(
                diagnostic.symptom, args, got, expected
            ):
                return args
        return None
    for args, got, _ in runs:
        try:
            wrong = diagnostic.wrong(*clone(args))
        except Exception:  # a wrong variant may fail on some shapes; then it is not this one
            return None
        if _difference(got, wrong, exercise) is not None:
            return None
    return first_failure


def _holds(
    symptom: Callable[[tuple, Any, Any], bool], args: tuple, got: Any, expected: Any
) -> bool:
    try:
        return bool(symptom(args, got, expected))
    except Exception:  # a symptom that cannot read this output: not this mistake
        return False
