"""Scoring a keyword spotter on real recordings: per speaker, among all classes and digits."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from course_utils.data import DIGITS, load_recordings
from course_utils.kws.real_speech import score_recordings

LABELS = DIGITS + ("on", "_unknown_")


class ScriptedSpotter:
    """Answers from a script keyed by the clip's length (each test clip has its own)."""

    labels = LABELS

    def __init__(self, answers: dict[int, dict[str, float]]):
        self.answers = answers

    def predict(self, waveform, sample_rate):
        scores = self.answers[len(waveform)]
        probs = torch.tensor([scores.get(label, 0.0) for label in LABELS])
        return LABELS[int(probs.argmax())], probs


def _folder(tmp_path, names_and_lengths):
    for name, length in names_and_lengths:
        sf.write(tmp_path / name, np.zeros(length, np.float32) + 0.01, 8000)
    return load_recordings(tmp_path, sample_rate=None)


def test_scores_per_speaker_all_classes_and_digits_only(tmp_path):
    recordings = _folder(tmp_path, [("5_ann_0.wav", 1000), ("5_ann_1.wav", 1001),
                                    ("3_bob_0.wav", 1002), ("0_bob_1.wav", 1003)])  # fmt: skip
    spotter = ScriptedSpotter({
        1000: {"five": 0.9},  # right
        1001: {"on": 0.6, "five": 0.3},  # wrong among all, right among digits
        1002: {"_unknown_": 0.5, "two": 0.4, "three": 0.1},  # wrong twice
        1003: {"zero": 0.8},  # right
    })  # fmt: skip
    scores = score_recordings(spotter, recordings)
    assert scores["speakers"]["ann"] == {"accuracy": 0.5, "digits_only": 1.0, "clips": 2}
    assert scores["speakers"]["bob"] == {"accuracy": 0.5, "digits_only": 0.5, "clips": 2}
    assert (scores["accuracy"], scores["digits_only"], scores["clips"]) == (0.5, 0.75, 4)
    assert scores["confusions"] == {("five", "on"): 1, ("three", "_unknown_"): 1}


def test_words_count_among_all_classes_only(tmp_path):
    recordings = _folder(tmp_path, [("On_me_0.wav", 950), ("4_me_1.wav", 951)])
    scores = score_recordings(ScriptedSpotter({950: {"on": 1.0}, 951: {"four": 1.0}}), recordings)
    assert scores["speakers"]["me"] == {"accuracy": 1.0, "digits_only": 1.0, "clips": 2}
    words_only = score_recordings(ScriptedSpotter({950: {"five": 1.0}}), recordings[1:])
    assert words_only["digits_only"] is None and words_only["accuracy"] == 0.0


def test_bad_input_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no recordings"):
        score_recordings(ScriptedSpotter({}), [])
    recordings = _folder(tmp_path, [("yes_me_0.wav", 900)])
    with pytest.raises(ValueError, match=r"labels \['yes'\] are not among the spotter's classes"):
        score_recordings(ScriptedSpotter({900: {"on": 1.0}}), recordings)


@pytest.mark.parametrize("kind", ["cnn_attention", "kwt"])
def test_listen_returns_the_answer_and_where_it_listened(kind):
    from course_utils.kws.model import ClassifierConfig, KeywordSpotter, build_classifier
    from course_utils.kws.real_speech import listen

    torch.manual_seed(0)
    spotter = KeywordSpotter(build_classifier(ClassifierConfig.preset("small", 12, kind, width=32)),
                             LABELS).eval()  # fmt: skip
    heard = listen(spotter, torch.randn(4000) * 0.1, 8000)  # 0.5 s at 8 kHz
    assert heard.label in LABELS and heard.probabilities.shape == (12,)
    assert heard.clip.shape == (16000,)  # resampled, centred in 1 s
    assert heard.features.shape == (40, 101)
    assert heard.seconds_per_weight == pytest.approx(0.04)
    start, stop = heard.span
    assert 0 <= start < stop <= 16000
    assert heard.weights.sum().item() == pytest.approx(1.0, abs=1e-4)
    with pytest.raises(ValueError):
        listen(spotter, torch.full((4000,), float("nan")), 8000)
