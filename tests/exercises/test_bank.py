"""Every exercise of the bank: its reference passes, its stub is "not attempted", each listed
mistake gets exactly its own hint, hints never quote the solution, and the solution stands
alone. References are also compared with trusted implementations where one exists."""

import inspect
import itertools
import math
import textwrap

import numpy as np
import pytest
import torch

from course_utils import exercises
from course_utils.exercises import check, get_exercise, solution, verify
from course_utils.exercises._compare import describe, difference

NAMES = exercises.list_exercises()
LESSONS = [f"{n:02d}" for n in range(12)]
DIAGNOSTICS = [
    pytest.param(name, i, id=f"{name}-{i}")
    for name in NAMES
    for i in range(len(get_exercise(name).diagnostics))
]


def _cases(name):
    return get_exercise(name).make_cases(torch.Generator().manual_seed(0))


def _code_lines(name):
    """The reference's code lines long enough to give the answer away if a hint quoted them."""
    return [
        line.split("  #")[0].strip()
        for line in solution(name).splitlines()[1:]
        if len(line.split("  #")[0].strip()) > 20 and not line.strip().startswith(('"""', "#"))
    ]


def test_every_lesson_has_exercises_in_the_bank():
    lessons = {name.split(".")[0] for name in NAMES}
    assert lessons >= set(LESSONS), f"lessons without exercises: {set(LESSONS) - lessons}"
    assert set(NAMES) >= {
        "00.duration_ms", "00.count_accents", "01.softmax_over_keys", "01.scaled_dot_product",
        "01.masked_softmax", "02.attention_pooling", "02.event_mass", "02.attended_time",
        "03.luong_general_score", "03.padding_mask", "03.masked_mean", "04.split_heads",
        "04.merge_heads", "04.causal_padding_mask", "05.frame_counts", "05.hz_to_mel",
        "05.power_to_db", "05.time_mask", "06.masked_mean_pool", "06.attended_span",
        "06.mix_at_snr", "07.frame_labels", "07.median_filter", "07.runs", "07.collar_match",
        "08.wer", "08.count_paths", "08.min_frames", "09.guided_weights", "09.focus_rate",
        "09.stop_step", "10.bitrate", "10.nearest_code", "10.residual_codes", "11.snr_gain",
        "11.lsgan_losses", "11.wiener_gain",
    }  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_reference_passes(name, device):
    result = check(name, get_exercise(name).reference, device=device)
    assert result.passed and result.attempted, result.message
    assert "correct" in repr(result)


@pytest.mark.parametrize("name", NAMES)
def test_verify_accepts_every_exercise(name):
    report = verify(name)
    assert report, repr(report)
    assert f"each of the {len(get_exercise(name).diagnostics)} typical mistakes" in repr(report)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["returns None", "not implemented"])
def test_stub_is_not_attempted_and_does_not_raise(name, kind):
    def stub(*args):
        if kind == "not implemented":
            raise NotImplementedError

    result = check(name, stub, raise_on_failure=True)
    assert not result.passed and not result.attempted and result.status == "not attempted"
    assert "not attempted" in repr(result)


@pytest.mark.parametrize("name, index", DIAGNOSTICS)
def test_each_listed_mistake_gets_exactly_its_hint(name, index):
    exercise = get_exercise(name)
    diagnostic = exercise.diagnostics[index]
    result = check(name, diagnostic.wrong)
    assert result.status == "wrong", result.message
    assert diagnostic.hint in result.message
    others = [d.hint for d in exercise.diagnostics if d.hint != diagnostic.hint]
    assert not [hint for hint in others if hint in result.message]
    assert not [line for line in _code_lines(name) if line in result.message]


@pytest.mark.parametrize("name", NAMES)
def test_hints_never_contain_the_reference_code(name):
    exercise = get_exercise(name)
    hints = [exercises.hint(name)] + [d.hint for d in exercise.diagnostics]
    assert exercise.hint and exercise.diagnostics, "each exercise lists a hint and its mistakes"
    for text in hints:
        assert not [line for line in _code_lines(name) if line in text], text


@pytest.mark.parametrize("name", NAMES)
def test_solution_is_short_and_stands_alone(name):
    """The shown source runs with only torch, numpy and math: no course_utils, no helpers."""
    source = solution(name)
    assert source.startswith("def ") and "return" in source
    assert len(source.splitlines()) <= 25, "keep reference solutions short"
    assert "course_utils" not in source and "_cases" not in source
    namespace = {"torch": torch, "np": np, "math": math}
    exec(compile(textwrap.dedent(source), f"<solution of {name}>", "exec"), namespace)
    standalone = namespace[get_exercise(name).reference.__name__]
    assert check(name, standalone).passed


@pytest.mark.parametrize("name", NAMES)
def test_cases_are_seeded_and_several(name):
    exercise = get_exercise(name)
    first, second = _cases(name), _cases(name)
    assert len(first) >= 3, "test several inputs, edge cases included"
    for a, b in zip(first, second, strict=True):
        assert difference(exercise.reference(*a), exercise.reference(*b), exercise.outputs) is None


@pytest.mark.parametrize("name", NAMES)
def test_an_exception_is_reported_with_the_inputs(name):
    def broken(*args):
        raise RuntimeError("something broke")

    result = check(name, broken)
    assert result.status == "wrong" and "RuntimeError: something broke" in result.message
    parameters = list(inspect.signature(get_exercise(name).reference).parameters)
    assert describe(_cases(name)[0], parameters) in result.message


# ----- references against trusted implementations -----


def _brute_force_paths(frames, target):
    symbols = sorted(set(target)) + ["_"]

    def spell(path):
        return "".join(s for i, s in enumerate(path) if s != "_" and (i == 0 or s != path[i - 1]))

    return sum(spell(p) == target for p in itertools.product(symbols, repeat=frames))


def _small_cases(name):
    cases = _cases(name)
    return cases[: len(cases) - get_exercise(name).large_cases]


def test_ctc_path_count_matches_brute_force():
    """The reference agrees with trying every path, on inputs small enough to try them all."""
    count_paths = get_exercise("08.count_paths").reference
    extra = [(5, "aba"), (6, "aab"), (6, "ll"), (7, "hello"), (8, "zzz")]
    for frames, target in [*_small_cases("08.count_paths"), *extra]:
        assert count_paths(frames, target) == _brute_force_paths(frames, target), (frames, target)


def test_min_frames_is_the_fewest_frames_with_a_ctc_path():
    min_frames = get_exercise("08.min_frames").reference
    count_paths = get_exercise("08.count_paths").reference
    for text in ["go", "noon", "aaa", "all", "ab"]:
        frames = min_frames(text)
        assert count_paths(frames, text) > 0 and count_paths(frames - 1, text) == 0


def test_wer_matches_the_course_metric():
    from course_utils.metrics import error_rate

    wer = get_exercise("08.wer").reference
    for reference, hypothesis in _cases("08.wer"):
        assert math.isclose(
            wer(reference, hypothesis), error_rate([reference], [hypothesis], "word")
        )


def test_hz_to_mel_matches_librosa():
    librosa = pytest.importorskip("librosa")
    hz = torch.linspace(0, 8000, 50, dtype=torch.float64)
    mel = get_exercise("05.hz_to_mel").reference(hz)
    np.testing.assert_allclose(mel.numpy(), librosa.hz_to_mel(hz.numpy(), htk=True))


def test_frame_counts_match_torch_stft():
    frame_counts = get_exercise("05.frame_counts").reference
    for length, center in itertools.product([400, 401, 1234, 16_000], [True, False]):
        stft = torch.stft(torch.zeros(length), 400, 160, window=torch.hann_window(400),
                          center=center, return_complex=True)  # fmt: skip
        assert int(frame_counts(torch.tensor([length]), 160, 400, center)) == stft.shape[-1]


def test_masks_match_the_attention_package():
    from course_utils import attention

    lengths = torch.tensor([4, 1, 6, 0])
    padding = attention.padding_mask(lengths, 6)
    assert torch.equal(get_exercise("03.padding_mask").reference(lengths, 6), padding)
    causal = get_exercise("04.causal_padding_mask").reference(padding)
    assert torch.equal(causal, attention.causal_mask(6) & ~padding[:, None, None, :])


def test_merge_heads_undoes_split_heads():
    x = torch.randn(2, 10, 32)
    split, merge = (get_exercise(n).reference for n in ("04.split_heads", "04.merge_heads"))
    torch.testing.assert_close(merge(split(x, 4)), x)


def test_median_filter_matches_scipy():
    ndimage = pytest.importorskip("scipy.ndimage")
    median_filter = get_exercise("07.median_filter").reference
    for x, width in _cases("07.median_filter"):
        expected = ndimage.median_filter(x.astype(float), size=width, mode="nearest")
        np.testing.assert_array_equal(median_filter(x, width), expected)
