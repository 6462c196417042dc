"""Answers a learner naturally writes: float32 numbers, NumPy or torch scalars, tuples or
tensors for pairs. Right ones pass, wrong ones still fail with their hint, and a generic
failure never gives the solution away. (Issue 12: exercises that leak or misjudge.)"""

import itertools
import time

import numpy as np
import pytest
import torch

from course_utils import exercises
from course_utils.exercises import check, get_exercise
from course_utils.exercises._compare import difference

NAMES = exercises.list_exercises()


def _float32_inputs(args):
    return [
        a.float() if isinstance(a, torch.Tensor) and a.dtype == torch.float64
        else a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64
        else a
        for a in args
    ]  # fmt: skip


def _float32(result, scalar):
    """The result as float32: tensors and arrays cast, floats as `scalar` makes them."""
    if isinstance(result, torch.Tensor):
        return result.float() if result.is_floating_point() else result
    if isinstance(result, np.ndarray):
        return result.astype(np.float32) if result.dtype.kind == "f" else result
    if isinstance(result, float):
        return scalar(result)
    if isinstance(result, (tuple, list)):
        return type(result)(_float32(item, scalar) for item in result)
    return result


SCALARS = {
    "0-d float32 tensor": lambda x: torch.tensor(x, dtype=torch.float32),
    "numpy float32": np.float32,
}


def _in_float32(function, scalar):
    return lambda *args: _float32(function(*_float32_inputs(args)), scalar)


@pytest.mark.parametrize("scalar", SCALARS)
@pytest.mark.parametrize("name", NAMES)
def test_the_reference_computed_in_float32_passes(name, scalar):
    function = _in_float32(get_exercise(name).reference, SCALARS[scalar])
    result = check(name, function)
    assert result.passed, result.message


@pytest.mark.parametrize(
    "name, index",
    [(n, i) for n in NAMES for i in range(len(get_exercise(n).diagnostics))],
)
def test_a_mistake_computed_in_float32_still_gets_its_hint(name, index):
    diagnostic = get_exercise(name).diagnostics[index]
    result = check(name, _in_float32(diagnostic.wrong, SCALARS["0-d float32 tensor"]))
    assert result.status == "wrong" and diagnostic.hint in result.message, result.message


def _float32_paths(frames, target):
    """The forward recursion with float32 counts, as section 4's code would give it."""
    extended = "_" + "_".join(target) + "_"
    count = torch.zeros(len(extended))
    count[:2] = 1
    for _ in range(frames - 1):
        previous = count.clone()
        for s in range(1, len(extended)):
            skip = s >= 2 and extended[s] != "_" and extended[s] != extended[s - 2]
            count[s] = previous[s] + previous[s - 1] + (previous[s - 2] if skip else 0)
    return count[-2:].sum()


def _float32_wer(reference, hypothesis):
    ref, hyp = reference.split(), hypothesis.split()
    d = np.zeros((len(ref) + 1, len(hyp) + 1), dtype=np.float32)
    d[:, 0], d[0, :] = np.arange(len(ref) + 1), np.arange(len(hyp) + 1)
    for i, j in itertools.product(range(1, len(ref) + 1), range(1, len(hyp) + 1)):
        substitution = d[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1])
        d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, substitution)
    return d[-1, -1] / np.float32(len(ref))


def _section_9_span(weights, share=0.8):
    """Lesson 06, section 9's search: cumulative sums, float32 start, slack 1e-6."""
    cumulative = torch.cat([torch.zeros(1), weights.cumsum(0)])
    best_span = (0, len(weights))
    for start in range(len(weights)):
        stop = int(torch.searchsorted(cumulative, cumulative[start] + share - 1e-6))
        if stop <= len(weights) and stop - start < best_span[1] - best_span[0]:
            best_span = (start, stop)
    return best_span


def _span(as_type):
    reference = get_exercise("06.attended_span").reference
    return lambda weights, share: as_type(reference(weights, share))


def _float_frame_counts(lengths, hop, n_fft, center):
    if center:
        return (lengths / hop).floor() + 1
    return ((lengths - n_fft) / hop).floor().clamp(min=-1) + 1


def _mix_by_rms_in_float32(clean, noise, snr_db):
    rms_ratio = (clean.pow(2).mean() / noise.pow(2).mean()).sqrt()
    return (clean + noise * rms_ratio * 10 ** (-snr_db / 20)).float()


def _float32_runs(active, hop_seconds):
    frames = get_exercise("07.runs").reference(active, 1.0)  # (first, one past last) frame
    return [(torch.tensor(a).float() * hop_seconds, torch.tensor(b).float() * hop_seconds)
            for a, b in frames]  # fmt: skip


@pytest.mark.parametrize(
    "name, function",
    [
        ("00.duration_ms", lambda n, sr: torch.tensor(n) / sr * 1000),
        ("02.attended_time", lambda weights, hop, sr: weights.argmax() * hop / sr),
        ("02.attended_time", lambda w, hop, sr: (torch.arange(len(w)) * hop / sr)[w.argmax()]),
        ("02.attended_time", lambda w, hop, sr: np.float32(w.argmax().item() * hop / sr)),
        ("02.event_mass", lambda weights, masks: torch.where(masks, weights, 0.0).sum(-1)),
        ("05.frame_counts", _float_frame_counts),
        ("06.attended_span", _section_9_span),
        ("06.attended_span", _span(list)),
        ("06.attended_span", _span(torch.tensor)),
        ("06.attended_span", _span(np.array)),
        ("06.attended_span", _span(lambda span: tuple(np.int64(i) for i in span))),
        ("06.attended_span", _span(lambda span: tuple(torch.tensor(i) for i in span))),
        ("06.attended_span", _span(lambda span: torch.tensor(span, dtype=torch.float32))),
        ("06.attended_span", lambda w, share: _section_9_span(w.float(), share)),
        ("06.mix_at_snr", _mix_by_rms_in_float32),
        ("07.runs", _float32_runs),
        ("08.wer", _float32_wer),
        ("08.count_paths", _float32_paths),
        ("08.count_paths", lambda frames, target: float(_float32_paths(frames, target))),
        ("08.min_frames", lambda text: np.int64(get_exercise("08.min_frames").reference(text))),
        ("08.min_frames", lambda text: torch.tensor(get_exercise("08.min_frames").reference(text))),
    ],
)
def test_natural_answers_pass(name, function):
    result = check(name, function)
    assert result.passed, result.message


@pytest.mark.parametrize(
    "got, expected, message",
    [
        (2.9999998, 3, None),  # a count computed in float32
        (np.float32(2_481_256_778), 2_481_256_778, None),
        (2_481_256_779, 2_481_256_778, "paths = 2.48126e+09 is not right (too large)"),
        (np.int64(4), 4, None),
        (torch.tensor(4), 4, None),
        (3.5, 4, "paths should be a whole number"),
        (12_345.5, 12_345, "paths should be a whole number"),
        (float("inf"), 4, "paths should be a whole number"),
    ],
)
def test_whole_numbers_allow_float32_rounding_and_ints_compare_exactly(got, expected, message):
    found = difference(got, expected, ("paths",))
    if message is None:
        assert found is None, found
    else:
        assert found is not None and found.startswith(message), found


@pytest.mark.parametrize(
    "got, message",
    [
        ((2, 5), None),
        ([2, 5], None),
        (torch.tensor([2, 5]), None),
        (np.array([2, 5]), None),
        ((np.int64(2), torch.tensor(5)), None),
        (torch.tensor([2, 6]), "stop = 6 is not right (too large)"),
        (torch.tensor([2, 5, 7]), "expected a tuple of 2 results (start, stop), got 3"),
        (torch.tensor([[2, 5]]), "expected a tuple of 2 results (start, stop), got a single"),
    ],
)
def test_a_pair_may_be_a_tuple_a_list_or_a_1d_tensor(got, message):
    found = difference(got, (2, 5), ("start", "stop"))
    assert found == message if message is None else found.startswith(message), found


def test_the_exercise_text_form_of_6_2_passes():
    """The notebook asks for `(start, stop)`: the reference returns that tuple."""
    weights = torch.tensor([0.1, 0.1, 0.6, 0.1, 0.1], dtype=torch.float64)
    span = get_exercise("06.attended_span").reference(weights, 0.5)
    assert span == (2, 3) and isinstance(span, tuple)


def test_a_generic_failure_of_6_3_does_not_give_the_formula_away():
    message = check("06.mix_at_snr", lambda clean, noise, snr_db: clean + 0.5 * noise).message
    assert "not right yet" in message and "Hint:" in message
    for formula in ("sqrt", "10 **", "/ 10", "/ 20", "P_noise", "gain ="):
        assert formula not in message, formula


@pytest.mark.parametrize("name", ["05.hz_to_mel", "05.power_to_db", "06.mix_at_snr"])
def test_generic_hints_of_formula_exercises_hold_no_formula(name):
    assert "log10(" not in exercises.hint(name) and "sqrt(" not in exercises.hint(name)


# ----- 08.count_paths: brute force over every path is not an accepted route -----


def _paths_cases():
    return get_exercise("08.count_paths").make_cases(torch.Generator().manual_seed(0))


def test_the_last_count_paths_case_is_too_large_for_brute_force_but_not_for_the_reference():
    exercise = get_exercise("08.count_paths")
    assert exercise.large_cases >= 1
    for frames, target in _paths_cases()[-exercise.large_cases :]:
        assert frames >= 30 and (len(set(target)) + 1) ** frames > 1e15
        started = time.perf_counter()
        exercise.reference(frames, target)
        assert time.perf_counter() - started < 0.1


def test_brute_force_over_every_path_is_not_accepted():
    reference = get_exercise("08.count_paths").reference

    def brute_force(frames, target):
        """Stands for trying every path: right on small inputs, never done on large ones."""
        if (len(set(target)) + 1) ** frames > 1e6:
            raise TimeoutError("would not finish")
        return reference(frames, target)  # test_bank: the same as brute force here

    result = check("08.count_paths", brute_force)
    assert result.status == "wrong" and "frames=40" in result.message


def test_a_wrong_answer_gets_its_hint_before_the_large_case_runs():
    reference = get_exercise("08.count_paths").reference
    calls = []

    def wrong_and_slow(frames, target):
        calls.append(frames)
        if frames >= 30:
            raise AssertionError("the large case ran although a small one was wrong")
        return reference(frames, target) + 1

    result = check("08.count_paths", wrong_and_slow)
    assert result.status == "wrong" and "AssertionError" not in result.message
    assert max(calls) < 30


# ----- 08.min_frames: triple letters and spaces -----


def test_min_frames_cases_hold_triple_letters_and_spaces():
    texts = [text for (text,) in get_exercise("08.min_frames").make_cases(torch.Generator())]
    assert {"brrr", "zzz"} <= set(texts) and sum(" " in text for text in texts) >= 2


def _pairs(word):
    return sum(a == b for a, b in zip(word, word[1:], strict=False))


@pytest.mark.parametrize(
    "function, words",
    [
        (lambda text: len(text) + sum(len(list(run)) > 1 for _, run in itertools.groupby(text)),
         "two pairs of equal neighbours"),
        (lambda text: sum(len(word) + _pairs(word) for word in text.split()),
         "The space between words is a character"),
        (lambda text: len(text.replace(" ", "")) + _pairs(text.replace(" ", "")),
         "The space between words is a character"),
    ],
)  # fmt: skip
def test_min_frames_mistakes_get_their_own_hints(function, words):
    result = check("08.min_frames", function)
    assert result.status == "wrong" and words in result.message, result.message
    assert "or CTC merges them" not in result.message  # not the equal-neighbours hint
