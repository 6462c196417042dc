"""The Microphone widget's kernel side, driven by `simulate` and by raw front-end payloads."""

import numpy as np
import pytest
import torch

from course_utils.audio import Microphone
from course_utils.audio.microphone import ERRORS


def _recorder(mic: Microphone) -> list:
    calls = []
    mic.on_recording(lambda waveform, sample_rate: calls.append((waveform, sample_rate)))
    return calls


@pytest.mark.parametrize("sample_rate", [16000, 44100, 48000])
def test_simulate_round_trips_a_waveform_exactly(sample_rate):
    waveform = np.random.default_rng(0).uniform(-1, 1, sample_rate).astype(np.float32)
    mic = Microphone()
    calls = _recorder(mic)
    mic.simulate(waveform, sample_rate)
    assert len(calls) == 1
    received, rate = calls[0]
    assert rate == sample_rate == mic.sample_rate
    assert received.dtype == np.float32 and received.shape == (sample_rate,)
    np.testing.assert_array_equal(received, waveform)
    np.testing.assert_array_equal(mic.waveform, waveform)
    assert mic.error == "" and mic.recordings == 1


def test_payload_is_float32_little_endian_as_the_browser_sends_it():
    mic = Microphone()
    mic.simulate(torch.tensor([0.5, -0.25]), 16000)
    assert mic._pcm == np.array([0.5, -0.25], dtype="<f4").tobytes()


def test_the_same_recording_twice_calls_back_twice():
    mic = Microphone()
    calls = _recorder(mic)
    for _ in range(2):
        mic.simulate(np.zeros(160, dtype=np.float32), 16000)
    assert len(calls) == 2 and mic.recordings == 2


def test_constructor_callback_and_removal():
    calls = []

    def callback(waveform, sample_rate):
        calls.append(sample_rate)

    mic = Microphone(on_recording=callback)
    mic.simulate(np.zeros(10, dtype=np.float32), 8000)
    mic.on_recording(callback, remove=True)
    mic.simulate(np.zeros(10, dtype=np.float32), 8000)
    assert calls == [8000]


def test_display_shows_the_button_with_its_output_area_under_it():
    mic = Microphone()
    view = mic._repr_mimebundle_()["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == mic._view.model_id
    assert mic._view.children == (mic, mic.output)


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"", "empty"),
        (b"\x00" * 6, "not a whole number of float32 samples"),
        (np.array([0.1, np.nan], dtype="<f4").tobytes(), "finite"),
        (np.array([np.inf], dtype="<f4").tobytes(), "finite"),
    ],
)
def test_bad_payloads_set_error_without_calling_back(payload, message):
    mic = Microphone()
    mic.simulate(np.ones(4, dtype=np.float32), 16000)  # a good one first
    calls = _recorder(mic)
    mic._receive(payload, 16000)
    assert calls == []
    assert message in mic.error
    assert mic.waveform is None
    mic.simulate(np.ones(4, dtype=np.float32), 16000)  # the next good one clears the error
    assert mic.error == "" and len(calls) == 1


def test_bad_sample_rate_sets_error():
    mic = Microphone()
    calls = _recorder(mic)
    mic.simulate(np.zeros(4, dtype=np.float32), 0)
    assert calls == [] and "sample_rate" in mic.error


@pytest.mark.parametrize("max_seconds", [0, -1.0, 30.5, float("nan")])
def test_bad_max_seconds_raises(max_seconds):
    with pytest.raises(ValueError, match="max_seconds must be above 0 and at most 30"):
        Microphone(max_seconds=max_seconds)
    mic = Microphone(max_seconds=30)
    with pytest.raises(ValueError, match="max_seconds"):
        mic.max_seconds = max_seconds


def test_simulate_wants_mono():
    with pytest.raises(ValueError, match=r"mono waveform shaped \(time,\)"):
        Microphone().simulate(np.zeros((2, 100), dtype=np.float32), 16000)


def test_on_recording_wants_a_function():
    with pytest.raises(TypeError, match="waveform, sample_rate"):
        Microphone().on_recording("heard")


def test_front_end_asks_for_raw_sound_and_explains_failures():
    esm = Microphone._esm
    assert "navigator.mediaDevices.getUserMedia({audio: CONSTRAINTS})" in esm
    for option in ("echoCancellation: false", "noiseSuppression: false", "autoGainControl: false"):
        assert option in esm
    for text in ERRORS.values():
        assert text in esm
    assert "no microphone found" in ERRORS.values()
    assert "AudioWorkletNode" in esm and "createScriptProcessor" in esm
    assert 'model.set("_pcm"' in esm and "model.save_changes()" in esm
