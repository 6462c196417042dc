"""The exercise checker: how it compares, what it says, and how a notebook shows it.

Every registered exercise is tested in `test_bank.py`; here, the mechanics on a few of them.
"""

import math

import numpy as np
import pytest
import torch

from course_utils import exercises
from course_utils.exercises import checker
from course_utils.exercises._compare import describe, difference
from course_utils.exercises.checker import (
    CheckResult,
    Diagnostic,
    ExerciseFailed,
    Verification,
    check,
    verify,
)


def test_show_solution_is_an_ipython_code_object():
    shown = exercises.show_solution("01.softmax_over_keys")
    assert "def softmax_over_keys" in shown.data
    assert type(shown).__name__ == "Code" and "<pre" in shown._repr_html_()


@pytest.mark.parametrize(
    "name, function",
    [
        ("01.softmax_over_keys", lambda scores: torch.softmax(scores, dim=-1)),
        # -1e4 instead of -inf leaves exp(-1e4) = 0 in float32: still correct.
        ("01.masked_softmax", lambda s, m: torch.softmax(s.masked_fill(~m, -1e4), -1) * m),
        (
            "01.masked_softmax",
            lambda s, m: torch.softmax(torch.where(m, s, -torch.inf), -1).nan_to_num(0.0),
        ),
        (
            "01.scaled_dot_product",
            lambda q, k, v: (
                torch.nn.functional.scaled_dot_product_attention(q, k, v),
                torch.softmax(torch.einsum("bqd,bkd->bqk", q, k) / math.sqrt(q.shape[-1]), -1),
            ),
        ),
        ("03.luong_general_score", lambda q, k, W: torch.einsum("bqd,de,bke->bqk", q, W, k)),
        ("04.split_heads", lambda x, n: x.view(*x.shape[:2], n, -1).permute(0, 2, 1, 3)),
        # Scalars may come back as NumPy numbers or one-element tensors.
        ("00.duration_ms", lambda n, sr: np.float32(n) * np.float32(1000) / np.float32(sr)),
        ("02.attended_time", lambda w, hop, sr: w.argmax() * hop / sr),
        (
            "08.min_frames",
            lambda text: float(
                len(text) + sum(a == b for a, b in zip(text, text[1:], strict=False))
            ),
        ),  # fmt: skip
        # A list of lists or an (n, 2) array for a list of (onset, offset) pairs.
        (
            "07.runs",
            lambda a, hop: [[x, y] for x, y in exercises.get_exercise("07.runs").reference(a, hop)],
        ),  # fmt: skip
        ("07.runs", lambda a, hop: np.array(exercises.get_exercise("07.runs").reference(a, hop))),
        # Arrays may come back as lists, bools as NumPy bools.
        (
            "07.median_filter",
            lambda x, w: exercises.get_exercise("07.median_filter").reference(x, w).tolist(),
        ),  # fmt: skip
        (
            "07.collar_match",
            lambda r, e, t=0.2, p=0.2: np.bool_(
                exercises.get_exercise("07.collar_match").reference(r, e, t, p)
            ),
        ),  # fmt: skip
    ],
)
def test_other_correct_solutions_pass(name, function):
    result = check(name, function)
    assert result.passed, result.message


def test_a_wrong_answer_is_returned_not_raised():
    result = check("01.softmax_over_keys", lambda scores: scores.exp())
    assert not result.passed and result.attempted and result.status == "wrong"
    assert "did not normalise" in result.message and "(seen on inputs scores of shape" in repr(
        result
    )


def test_raise_on_failure_raises_for_wrong_answers_only():
    with pytest.raises(ExerciseFailed, match="did not normalise"):
        check("01.softmax_over_keys", lambda scores: scores.exp(), raise_on_failure=True)
    assert check("01.softmax_over_keys", lambda s: None, raise_on_failure=True).status == (
        "not attempted"
    )
    assert check("01.softmax_over_keys", lambda s: s.softmax(-1), raise_on_failure=True).passed


@pytest.mark.parametrize(
    "function, status, colour",
    [
        (lambda scores: scores.softmax(-1), "correct", "#1a7f37"),
        (lambda scores: None, "not attempted", "#57606a"),
        (lambda scores: scores.exp(), "wrong", "#cf222e"),
    ],
)
def test_the_three_verdicts_render_as_plain_text(function, status, colour):
    result = check("01.softmax_over_keys", function)
    assert result.status == status
    text, page = repr(result), result._repr_html_()
    assert text == str(result) == result.message
    assert "\\n" not in text and "Traceback" not in text and not text.startswith(("'", '"'))
    assert colour in page and "white-space: pre-wrap" in page and "\\n" not in page
    if status == "wrong":  # several lines: the verdict, the hint, where it was seen
        assert len(text.splitlines()) >= 3 and text.splitlines()[0].endswith("not right yet.")


def test_html_escapes_the_message():
    result = CheckResult("x", False, True, "x: not right yet.\n<b> & a < b")
    assert "&lt;b&gt; &amp; a &lt; b" in result._repr_html_()


def test_an_exception_is_reported_with_the_line_and_the_inputs():
    def broken(queries, keys, values):
        scores = queries @ keys  # keys not transposed
        return scores, scores

    result = check("01.scaled_dot_product", broken)
    assert result.status == "wrong" and isinstance(result.error, RuntimeError)
    assert "your function raised RuntimeError" in result.message
    assert "keys of shape (2, 4, 8)" in result.message
    assert "of your code: scores = queries @ keys" in result.message
    with pytest.raises(ExerciseFailed) as failure:
        check("01.scaled_dot_product", broken, raise_on_failure=True)
    assert isinstance(failure.value, AssertionError)
    assert isinstance(failure.value.__cause__, RuntimeError)


def test_an_odd_result_gets_a_message_not_a_traceback():
    generator = check("00.count_accents", lambda items: (item for item in items))
    assert "accents should be a number, got generator" in generator.message
    meta = check("01.softmax_over_keys", lambda scores: torch.empty(scores.shape, device="meta"))
    assert meta.status == "wrong" and "could not be compared" in meta.message


def test_wrong_shape_names_expected_and_actual_shapes():
    result = check("04.split_heads", lambda x, num_heads: x)
    assert "heads has shape (2, 5, 12), expected shape" in result.message


def test_transposed_scores_report_the_shapes_not_the_values():
    def keys_first(queries, keys, W):
        return keys @ W @ queries.transpose(-2, -1)

    assert (
        "shape (2, 4, 3), expected shape (2, 3, 4)"
        in check("03.luong_general_score", keys_first).message
    )


def test_nan_output_is_named():
    result = check("03.luong_general_score", lambda q, k, W: (q @ k.transpose(-2, -1)) * math.nan)
    assert "NaN or inf" in result.message


def test_weights_rows_not_summing_to_one_are_named():
    def double_weights(queries, keys, values):
        weights = torch.softmax(queries @ keys.transpose(-2, -1) / math.sqrt(keys.shape[-1]), -1)
        return weights @ values, 2 * weights

    assert (
        "rows of weights should sum to 1" in check("01.scaled_dot_product", double_weights).message
    )


def test_none_on_a_later_input_is_a_failure():
    def sometimes(scores):
        return None if scores.shape[0] == 1 else torch.softmax(scores, dim=-1)

    result = check("01.softmax_over_keys", sometimes)
    assert result.status == "wrong"
    assert "returned None on inputs scores of shape (1, 4" in result.message


@pytest.mark.parametrize("kind", ["tensor", "array"])
def test_changing_the_input_in_place_is_reported(kind):
    if kind == "tensor":

        def in_place(scores):
            scores -= scores.amax(dim=-1, keepdim=True)
            return scores.exp() / scores.exp().sum(dim=-1, keepdim=True)

        result = check("01.softmax_over_keys", in_place)
    else:
        reference = exercises.get_exercise("07.median_filter").reference

        def in_place(x, width):
            filtered = reference(x, width)
            x[:] = 0
            return filtered

        result = check("07.median_filter", in_place)
    assert result.status == "wrong" and "in place" in result.message


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match="did you mean '01.softmax_over_keys'"):
        check("01.softmax_over_key", lambda scores: scores)


@pytest.mark.parametrize(
    "got, expected, message",
    [
        (0.5, 0.25, "seconds = 0.5 is not right (too large)"),
        (3, 4, "seconds = 3 is not right (too small)"),
        (4.0, 4, None),  # a whole float counts as an int
        (4.5, 4, "seconds should be a whole number, got 4.5"),
        (math.nan, 0.3, "seconds is nan, where a finite number was expected"),
        ("0.3", 0.3, "seconds should be a number, got str"),
        (True, 1, "seconds should be a number, got bool"),
        (torch.tensor(0.25), 0.25, None),
        (np.float32(0.1), 0.1, None),
        (True, False, "seconds is True, which is not right here"),
        (1, True, "seconds should be True or False, got int"),
        (np.bool_(True), True, None),
        ("go", "go", None),
        ("go up", "go", "seconds = 'go up' is not right"),
        (["a"], "a", "seconds should be a string, got list"),
        ([(0.0, 0.2)], [(0.0, 0.2), (0.4, 0.5)], "seconds has 1 item, expected 2 items"),
        ([(0.0, 0.3)], [(0.0, 0.2)], "seconds[0][1] = 0.3 is not right (too large)"),
        ((0.0, 0.2), [0.0, 0.2], None),  # a tuple for a list, inside one output
        ({0.0}, [0.0], "seconds should be a list, got set"),
        ([0, 1, 1], np.array([0.0, 1.0, 1.0]), None),
        ([0, 1], np.array([0.0, 1.0, 1.0]), "seconds has shape (2,), expected shape (3,)"),
        (np.array([0.0, 1.0, 0.0]), np.array([0.0, 1.0, 1.0]), "seconds has the right shape but"),
        ("abc", np.array([0.0]), "seconds should be an array of numbers, got str"),
        (np.zeros(2), torch.zeros(2), "seconds should be a torch.Tensor, got ndarray"),
        (torch.zeros(2), torch.zeros(2, dtype=torch.bool), "seconds should be a bool tensor"),
    ],
)
def test_non_tensor_results_are_compared_by_kind(got, expected, message):
    found = difference(got, expected, ("seconds",))
    if message is None:
        assert found is None
    else:
        assert found is not None and found.startswith(message), found


def test_tuples_are_several_outputs():
    assert difference(1.0, (1.0, 2.0), ("start", "stop")).startswith("expected a tuple of 2")
    assert difference((1.0, 3.0), (1.0, 2.0), ("start", "stop")).startswith("stop = 3")
    assert difference((1.0, 2.0), 1.0, ("start",)).startswith("expected a single result")


def test_inputs_are_described_by_shape_or_short_value():
    args = (torch.zeros(2, 3), np.zeros(40), np.array([0, 1]), 0.1, "go", [(0.1, 0.3, "tone")])
    names = ["weights", "big", "active", "hop", "text", "events"]
    assert describe(args, names) == (
        "weights of shape (2, 3), big of shape (40,), active=[0, 1], hop=0.1, text='go', "
        "events=[(0.1, 0.3, 'tone')]"
    )
    assert describe(([{"k": "v" * 200}],), ["items"]).endswith(" ...")


def test_register_a_new_exercise(monkeypatch):
    monkeypatch.setattr(checker, "_REGISTRY", dict(checker._REGISTRY))

    def double(x):
        return 2 * x

    def negated(args, got, expected):
        return bool((got == -expected).all())

    exercises.register(
        "99.double",
        double,
        lambda g: [(torch.randn(3, generator=g),), (torch.randn(2, 4, generator=g),)],
        [(lambda x: x * x, "You squared instead of doubling."),
         Diagnostic(lambda x: -2 * x, "Check the sign.", symptom=negated)],
        hint="Multiply by two.",
    )  # fmt: skip
    assert "99.double" in exercises.list_exercises()
    assert check("99.double", lambda x: x + x).passed
    assert "You squared instead of doubling" in check("99.double", lambda x: x**2).message
    assert "Check the sign." in check("99.double", lambda x: -x - x).message
    generic = check("99.double", lambda x: 3 * x).message
    assert "wrong values" in generic and generic.endswith("\nHint: Multiply by two.")
    assert exercises.hint("99.double") == "Multiply by two."
    assert "def double" in exercises.solution("99.double")
    assert verify("99.double")


def test_verify_reports_a_mistake_the_check_does_not_catch(monkeypatch):
    monkeypatch.setattr(checker, "_REGISTRY", dict(checker._REGISTRY))
    exercises.register(
        "99.plus_one",
        lambda x: x + 1,
        lambda g: [(torch.randn(3, generator=g),)],
        [(lambda x: x + 1, "This 'mistake' is the right answer."), (lambda x: x, "Add one.")],
    )
    report = verify("99.plus_one")
    assert isinstance(report, Verification) and not report
    assert len(report.problems) == 1 and "mistake 1 does not get its hint" in report.problems[0]
    assert "does not work as listed" in repr(report)


def test_register_rejects_malformed_diagnostics():
    with pytest.raises(TypeError, match="Diagnostic"):
        exercises.register("99.bad", lambda x: x, lambda g: [], ["just a hint"])
    assert "99.bad" not in exercises.list_exercises()


def test_check_result_is_a_plain_record():
    result = CheckResult("x", True, True, "x: correct")
    assert repr(result) == "x: correct" and result.passed and result.status == "correct"
