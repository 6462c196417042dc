"""Scoring a recogniser on real recordings: exact transcripts and CER per speaker."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from course_utils.asr import real_speech
from course_utils.data import load_recordings


def test_scores_per_speaker(tmp_path, monkeypatch):
    heard = {1000: "five", 1001: "one five", 1002: "three", 1003: "two"}
    for name, length in [("5_ann_0.wav", 1000), ("5_ann_1.wav", 1001), ("3_bob_0.wav", 1002),
                         ("0_bob_1.wav", 1003)]:  # fmt: skip
        sf.write(tmp_path / name, np.full(length, 0.01, np.float32), 8000)
    pads = []

    def fake_recognize(model, waveform, rate, decoder):
        pads.append(len(waveform) - 2 * round(0.25 * rate))
        return heard[pads[-1]]

    monkeypatch.setattr(real_speech, "recognize", fake_recognize)
    scores = real_speech.score_recordings(None, load_recordings(tmp_path, sample_rate=None))
    assert scores["speakers"]["ann"]["exact"] == 0.5
    assert scores["speakers"]["ann"]["cer"] == pytest.approx(4 / 8)  # "one " inserted
    assert scores["speakers"]["bob"]["exact"] == 0.5
    assert scores["speakers"]["bob"]["cer"] == pytest.approx(3 / 9)  # "zero" -> "two"
    assert scores["exact"] == 0.5 and scores["clips"] == 4
    assert scores["examples"] == [("zero", "two"), ("five", "one five")]  # sorted by label
    assert sorted(pads) == [1000, 1001, 1002, 1003]  # padded with 0.25 s each side


def test_no_recordings_is_refused():
    with pytest.raises(ValueError, match="no recordings"):
        real_speech.score_recordings(None, [])
