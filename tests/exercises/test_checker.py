"""The exercise checker: references pass, stubs are "not attempted", mistakes get their hint."""

import math

import pytest
import torch

from course_utils import exercises
from course_utils.exercises import checker
from course_utils.exercises.checker import CheckResult, Diagnostic, ExerciseFailed, check

NAMES = exercises.list_exercises()
DIAGNOSTICS = [
    pytest.param(name, i, id=f"{name}-{i}")
    for name in NAMES
    for i in range(len(exercises.get_exercise(name).diagnostics))
]


def _first_case(name):
    return exercises.get_exercise(name).make_cases(torch.Generator().manual_seed(0))[0]


def _code_lines(name):
    """The reference's code lines long enough to give the answer away if a hint quoted them."""
    return [
        line.strip()
        for line in exercises.solution(name).splitlines()[1:]
        if len(line.strip()) > 20 and not line.strip().startswith(('"""', "#"))
    ]


def test_lessons_01_to_04_are_registered():
    assert set(NAMES) >= {
        "01.softmax_over_keys",
        "01.scaled_dot_product",
        "01.masked_softmax",
        "02.attention_pooling",
        "03.luong_general_score",
        "04.split_heads",
    }


@pytest.mark.parametrize("name", NAMES)
def test_reference_passes(name, device):
    result = check(name, exercises.get_exercise(name).reference, device=device)
    assert result.passed and result.attempted
    assert "correct" in repr(result) and "color" in result._repr_html_()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["returns None", "not implemented"])
def test_stub_is_not_attempted_and_does_not_raise(name, kind):
    def stub(*args):
        if kind == "not implemented":
            raise NotImplementedError

    result = check(name, stub)
    assert not result.passed and not result.attempted
    assert "not attempted" in repr(result)
    assert "color" not in result._repr_html_()


@pytest.mark.parametrize("name, index", DIAGNOSTICS)
def test_each_known_mistake_gets_its_own_hint(name, index):
    diagnostic = exercises.get_exercise(name).diagnostics[index]
    with pytest.raises(ExerciseFailed) as failure:
        check(name, diagnostic.wrong)
    message = str(failure.value)
    assert diagnostic.hint in message
    assert not [line for line in _code_lines(name) if line in message]


@pytest.mark.parametrize("name", NAMES)
def test_exception_is_reported_with_the_input_shape(name):
    def broken(*args):
        raise RuntimeError("something broke")

    with pytest.raises(ExerciseFailed, match="RuntimeError: something broke") as failure:
        check(name, broken)
    assert isinstance(failure.value, AssertionError)
    assert f"of shape {tuple(_first_case(name)[0].shape)}" in str(failure.value)
    assert isinstance(failure.value.__cause__, RuntimeError)


@pytest.mark.parametrize("name", NAMES)
def test_solution_and_hint_are_text(name):
    source = exercises.solution(name)
    assert "def " in source and "return" in source
    nudge = exercises.hint(name)
    assert nudge and not [line for line in _code_lines(name) if line in nudge]


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
    ],
)
def test_other_correct_solutions_pass(name, function):
    assert check(name, function).passed


def test_wrong_shape_names_expected_and_actual_shapes():
    with pytest.raises(ExerciseFailed, match=r"heads has shape \(2, 5, 12\), expected shape"):
        check("04.split_heads", lambda x, num_heads: x)


def test_transposed_scores_report_the_shapes_not_the_values():
    def keys_first(queries, keys, W):
        return keys @ W @ queries.transpose(-2, -1)

    with pytest.raises(ExerciseFailed, match=r"shape \(2, 4, 3\), expected shape \(2, 3, 4\)"):
        check("03.luong_general_score", keys_first)


def test_nan_output_is_named():
    with pytest.raises(ExerciseFailed, match="NaN or inf"):
        check("03.luong_general_score", lambda q, k, W: (q @ k.transpose(-2, -1)) * math.nan)


def test_weights_rows_not_summing_to_one_are_named():
    def double_weights(queries, keys, values):
        weights = torch.softmax(queries @ keys.transpose(-2, -1) / math.sqrt(keys.shape[-1]), -1)
        return weights @ values, 2 * weights

    with pytest.raises(ExerciseFailed, match="rows of weights should sum to 1"):
        check("01.scaled_dot_product", double_weights)


def test_keys_not_transposed_is_a_shape_error_with_the_inputs():
    with pytest.raises(ExerciseFailed, match=r"RuntimeError.*\n.*keys of shape \(2, 4, 8\)"):
        check("01.scaled_dot_product", lambda q, k, v: (torch.softmax(q @ k, -1) @ v, None))


def test_none_on_a_later_input_is_a_failure():
    def sometimes(scores):
        return None if scores.shape[0] == 1 else torch.softmax(scores, dim=-1)

    with pytest.raises(ExerciseFailed, match=r"returned None on inputs scores of shape \(1, 4"):
        check("01.softmax_over_keys", sometimes)


def test_changing_the_input_in_place_is_reported():
    def in_place(scores):
        scores -= scores.amax(dim=-1, keepdim=True)
        return scores.exp() / scores.exp().sum(dim=-1, keepdim=True)

    with pytest.raises(ExerciseFailed, match="in place"):
        check("01.softmax_over_keys", in_place)


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match="did you mean '01.softmax_over_keys'"):
        check("01.softmax_over_key", lambda scores: scores)


def test_register_a_new_exercise(monkeypatch):
    monkeypatch.setattr(checker, "_REGISTRY", dict(checker._REGISTRY))

    def double(x):
        return 2 * x

    exercises.register(
        "99.double",
        double,
        lambda g: [(torch.randn(3, generator=g),), (torch.randn(2, 4, generator=g),)],
        [(lambda x: x * x, "You squared instead of doubling."),
         Diagnostic(lambda x: -2 * x, "Check the sign.", symptom=lambda a, g, e: (g < 0).all())],
        hint="Multiply by two.",
    )  # fmt: skip
    assert "99.double" in exercises.list_exercises()
    assert check("99.double", lambda x: x + x).passed
    with pytest.raises(ExerciseFailed, match="You squared instead of doubling"):
        check("99.double", lambda x: x**2)
    with pytest.raises(ExerciseFailed, match=r"wrong values.*\n.*\nHint: Multiply by two"):
        check("99.double", lambda x: 3 * x)
    assert exercises.hint("99.double") == "Multiply by two."
    assert "def double" in exercises.solution("99.double")


def test_register_rejects_malformed_diagnostics():
    with pytest.raises(TypeError, match="Diagnostic"):
        exercises.register("99.bad", lambda x: x, lambda g: [], ["just a hint"])
    assert "99.bad" not in exercises.list_exercises()


def test_check_result_is_a_plain_record():
    result = CheckResult("x", True, True, "x: correct")
    assert repr(result) == "x: correct" and result.passed
