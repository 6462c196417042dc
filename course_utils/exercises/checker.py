"""Exercises with automatic feedback: grade a learner's function against a reference.

A lesson's exercise is a function the learner writes, then checks with
``check("01.softmax_over_keys", my_softmax)``. The checker runs it and a reference solution on
seeded random inputs plus the edge cases that catch real bugs (batch 1, a single key, large
scores, fully masked rows). When the two disagree it names the likely mistake ("softmax over
the wrong axis", "missing 1/sqrt(d) scale") in shapes and words, never with the expected
values or the solution's code. A function that still returns None (the stub stored in the
notebook) is "not attempted" and does not raise, so notebooks stored with empty exercises run
clean in CI.

The exercises of lessons 01-04 live in ``course_utils.exercises.bank``; they register
themselves the first time the registry is used, and ``register`` adds more.

Notebook: 00_welcome_and_setup (section "How exercises work").
"""

from __future__ import annotations

import difflib
import html
import importlib
import inspect
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

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
]


class ExerciseFailed(AssertionError):
    """The learner's function gave a wrong answer; the message says what looks wrong."""


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


@dataclass(frozen=True, repr=False)
class CheckResult:
    """What `check` found; shows as a one-line message in a notebook."""

    name: str
    passed: bool
    attempted: bool
    message: str

    def __repr__(self) -> str:
        return self.message

    def _repr_html_(self) -> str:
        style = "color: #1a7f37; font-weight: bold" if self.passed else ""
        return f'<span style="{style}">{html.escape(self.message)}</span>'


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
        rtol, atol,
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


def check(name: str, function: Callable[..., Any], *, device: Any = None) -> CheckResult:
    """Grade `function` against the reference of exercise `name`.

    Args:
        name: the exercise, e.g. "01.softmax_over_keys" (see `list_exercises`).
        function: the learner's function, called like the reference.
        device: where the test inputs live; None keeps them on the CPU.

    Returns:
        a `CheckResult`: passed, or not attempted when `function` returns None or raises
        NotImplementedError (no exception then, so stub cells run clean).

    Raises:
        ExerciseFailed: the answer is wrong (or `function` raised); the message names the
            likely mistake and the input shapes that showed it.

    Example:
        >>> check("01.softmax_over_keys", lambda scores: scores.softmax(dim=-1)).passed
        True

    Notebook: 01_attention_as_weighted_average
    """
    exercise = get_exercise(name)
    names = list(inspect.signature(exercise.reference).parameters)
    cases = [_to(args, device) for args in exercise.make_cases(torch.Generator().manual_seed(0))]
    runs, changed_inputs = [], None
    for i, args in enumerate(cases):
        expected = exercise.reference(*_clone(args))
        learner_args = _clone(args)
        try:
            got = function(*learner_args)
        except NotImplementedError:
            return _not_attempted(name)
        except Exception as exc:
            nudge = f"\nHint: {exercise.hint}" if exercise.hint else ""
            raise ExerciseFailed(
                f"{name}: your function raised {type(exc).__name__}: {exc}\n"
                f"on inputs {_describe(args, names)}.{nudge}"
            ) from exc
        if got is None:
            if i == 0:
                return _not_attempted(name)
            raise ExerciseFailed(
                f"{name}: your function returned None on inputs {_describe(args, names)}; "
                "every path through it must return a result."
            )
        if changed_inputs is None and not _same_inputs(args, learner_args):
            changed_inputs = args
        runs.append((args, got, expected))

    failures = [run for run in runs if _difference(run[1], run[2], exercise) is not None]
    if not failures:
        if changed_inputs is not None:
            raise ExerciseFailed(
                f"{name}: the result is right, but your function changed its input tensors in "
                f"place (on inputs {_describe(changed_inputs, names)}). Work on new tensors "
                "(e.g. `x = x - m` rather than `x -= m`), so the caller's data stays intact."
            )
        return CheckResult(
            name, True, True, f"{name}: correct on all {len(runs)} test inputs. Well done!"
        )
    for diagnostic in exercise.diagnostics:
        seen = _diagnosed(diagnostic, runs, exercise, first_failure=failures[0][0])
        if seen is not None:
            where = _describe(seen, names)
            raise ExerciseFailed(f"{name}: {diagnostic.hint}\n(seen on inputs {where})")
    args, got, expected = failures[0]
    nudge = f"\nHint: {exercise.hint}" if exercise.hint else ""
    raise ExerciseFailed(
        f"{name}: {_difference(got, expected, exercise)}\n"
        f"(seen on inputs {_describe(args, names)}){nudge}"
    )


def _not_attempted(name: str) -> CheckResult:
    message = f"{name}: not attempted yet. Write your function, then run this cell again."
    return CheckResult(name, False, False, message)


def _to(args: tuple, device: Any) -> tuple:
    if device is None:
        return tuple(args)
    return tuple(a.to(device) if isinstance(a, torch.Tensor) else a for a in args)


def _clone(args: tuple) -> tuple:
    # Each caller gets its own copy, so an in-place edit cannot leak into the other's inputs.
    return tuple(a.clone() if isinstance(a, torch.Tensor) else a for a in args)


def _same_inputs(before: tuple, after: tuple) -> bool:
    return all(
        torch.equal(a, b) if isinstance(a, torch.Tensor) else True
        for a, b in zip(before, after, strict=True)
    )


def _describe(args: tuple, names: list[str]) -> str:
    """Name the inputs by their shapes (tensors) or values (numbers), never their contents."""
    parts = []
    for i, arg in enumerate(args):
        label = names[i] if i < len(names) else f"argument {i}"
        if isinstance(arg, torch.Tensor):
            parts.append(f"{label} of shape {tuple(arg.shape)}")
        else:
            parts.append(f"{label}={arg!r}")
    return ", ".join(parts)


def _layout(got: Any, expected: Any, outputs: tuple[str, ...]) -> str | None:
    """Say how the structure, types or shapes of `got` differ from `expected`; None if alike."""
    if isinstance(expected, tuple):
        names = ", ".join(outputs)
        if not isinstance(got, (tuple, list)):
            return (
                f"expected a tuple of {len(expected)} results ({names}), "
                f"got a single {type(got).__name__}"
            )
        if len(got) != len(expected):
            return f"expected a tuple of {len(expected)} results ({names}), got {len(got)}"
        pairs = list(zip(got, expected, strict=True))
    elif isinstance(got, (tuple, list)):
        return f"expected a single tensor ({outputs[0]}), got a {type(got).__name__} of {len(got)}"
    else:
        pairs = [(got, expected)]
    for i, (g, e) in enumerate(pairs):
        label = outputs[i] if i < len(outputs) else f"result {i}"
        if not isinstance(g, torch.Tensor):
            return f"{label} should be a torch.Tensor, got {type(g).__name__}"
        if g.shape != e.shape:
            return f"{label} has shape {tuple(g.shape)}, expected shape {tuple(e.shape)}"
    return None


def _pairs(got: Any, expected: Any) -> list[tuple[torch.Tensor, torch.Tensor]]:
    if isinstance(expected, tuple):
        return [(g.detach().to(e.device), e) for g, e in zip(got, expected, strict=True)]
    return [(got.detach().to(expected.device), expected)]


def _difference(got: Any, expected: Any, exercise: Exercise) -> str | None:
    """Describe, in shapes and words only, how `got` differs from `expected`; None if close."""
    layout = _layout(got, expected, exercise.outputs)
    if layout is not None:
        return layout
    for i, (g, e) in enumerate(_pairs(got, expected)):
        label = exercise.outputs[i] if i < len(exercise.outputs) else f"result {i}"
        g, e = g.double(), e.double()
        if not torch.isfinite(g[torch.isfinite(e)]).all():
            return f"{label} contains NaN or inf where finite values were expected"
        if i == exercise.weights_output and not torch.allclose(
            g.sum(-1), e.sum(-1), rtol=exercise.rtol, atol=1e-4, equal_nan=True
        ):
            return (
                f"the rows of {label} should sum to 1 over the last axis (0 for fully masked "
                f"rows); yours sum to values from {g.sum(-1).min():.3g} to {g.sum(-1).max():.3g}"
            )
        if not torch.allclose(g, e, rtol=exercise.rtol, atol=exercise.atol, equal_nan=True):
            error = (g - e).abs().nan_to_num(float("inf")).max()
            return f"{label} has the right shape but wrong values (largest error {error:.3g})"
    return None


def _diagnosed(
    diagnostic: Diagnostic, runs: list, exercise: Exercise, first_failure: tuple
) -> tuple | None:
    """Return the inputs on which `diagnostic` recognises the learner's mistake, or None."""
    if diagnostic.symptom is not None:
        for args, got, expected in runs:
            if _layout(got, expected, exercise.outputs) is None and diagnostic.symptom(
                args, got, expected
            ):
                return args
        return None
    for args, got, _ in runs:
        try:
            wrong = diagnostic.wrong(*_clone(args))
        except Exception:  # a wrong variant may fail on some shapes; then it is not this one
            return None
        if _difference(got, wrong, exercise) is not None:
            return None
    return first_failure
