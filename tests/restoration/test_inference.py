"""course_utils.restoration.inference: restore any length, clip the output, refuse bad input."""

import math

import numpy as np
import pytest
import torch

from course_utils.restoration.inference import CLIPPED_RUN, check_recording, restore
from course_utils.restoration.model import Restorer, RestorerConfig


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return Restorer(RestorerConfig.preset("tiny"))


def _speechlike(samples: int, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(samples)).astype(np.float32)


@pytest.mark.parametrize("samples", [512, 513, 1000, 4001, 12_345, 16_000])
def test_any_length_from_one_window_up_is_kept(model, samples):
    wave = _speechlike(samples)
    out = restore(model, wave, 16000)
    assert out.shape == (samples,) and out.dtype == np.float32
    np.testing.assert_allclose(out, wave, atol=1e-3)  # untrained: the identity


def test_torch_input_and_an_explicit_device(model):
    wave = torch.from_numpy(_speechlike(3000)).requires_grad_(True)
    out = restore(model, wave, device="cpu")
    assert isinstance(out, np.ndarray) and out.shape == (3000,) and out.dtype == np.float32
    model.train()
    restore(model, _speechlike(3000))
    assert not model.training


def test_output_is_clipped_to_full_scale():
    loud = Restorer(RestorerConfig.preset("tiny"))
    with torch.no_grad():
        loud.decode.bias.fill_(math.log(10.0))  # every bin 10x louder: peaks near 5
    wave = 0.5 * np.sin(2 * np.pi * 440 * np.arange(4000) / 16000).astype(np.float32)
    out = restore(loud, wave)
    assert out.dtype == np.float32
    assert out.max() == 1.0 and out.min() == -1.0


def test_other_rates_are_refused(model):
    with pytest.raises(ValueError, match="take speech at 16000 Hz, got 8000 Hz: resample it first"):
        restore(model, _speechlike(4000), 8000)
    with pytest.raises(ValueError, match="sinc_upsample"):
        restore(model, _speechlike(4000), 44100)


def test_silence_is_refused(model):
    with pytest.raises(ValueError, match=r"silent \(all zeros\)"):
        restore(model, np.zeros(4000, np.float32))


def test_nan_and_infinite_samples_are_refused(model):
    for bad in (np.nan, np.inf):
        wave = _speechlike(4000)
        wave[100] = bad
        with pytest.raises(ValueError, match="NaN or infinite"):
            restore(model, wave)


def test_samples_beyond_full_scale_are_refused(model):
    wave = _speechlike(4000)
    wave[7] = 1.5
    with pytest.raises(ValueError, match=r"must lie in \[-1, 1\].*peak of 1.5"):
        restore(model, wave)
    pcm = (np.sin(np.arange(4000) * 0.05) * 3000).astype(np.int16)  # int16 PCM, not float
    with pytest.raises(ValueError, match=r"\[-1, 1\] \(float audio\)"):
        restore(model, pcm)


def test_clipped_input_is_refused(model):
    sine = np.sin(2 * np.pi * 200 * np.arange(4000) / 16000)
    clipped = np.clip(1.5 * sine, -0.8, 0.8).astype(np.float32)  # flat tops of ~14 samples
    with pytest.raises(ValueError, match=r"wave is clipped \(\d+ samples in a row at its peak 0.8"):
        restore(model, clipped)
    with pytest.raises(ValueError, match="lower the recording level"):
        restore(model, clipped)


def test_short_runs_at_the_peak_are_not_clipping(model):
    wave = _speechlike(4000)
    wave[1000 : 1000 + CLIPPED_RUN - 1] = 0.9  # 7 equal samples at the peak: allowed
    assert restore(model, wave).shape == (4000,)
    wave[1000 + CLIPPED_RUN - 1] = 0.9  # 8: clipped
    with pytest.raises(ValueError, match=f"clipped \\({CLIPPED_RUN} samples in a row"):
        restore(model, wave)
    sine = 0.5 * np.sin(2 * np.pi * 400 * np.arange(4000) / 16000).astype(np.float32)
    assert restore(model, sine).shape == (4000,)  # touches its peak once a period


def test_wrong_shapes_are_refused(model):
    with pytest.raises(ValueError, match=r"wave must have shape \(time,\), got \(2, 4000\)"):
        restore(model, np.stack([_speechlike(4000)] * 2))
    with pytest.raises(ValueError, match=r"shape \(time,\), got \(1, 4000\)"):
        restore(model, torch.from_numpy(_speechlike(4000))[None])
    with pytest.raises(ValueError, match="wave is empty"):
        restore(model, np.zeros(0, np.float32))


def test_too_short_input_is_refused(model):
    with pytest.raises(ValueError, match=r"too short: 511 samples, .* at least 512 \(32 ms\)"):
        restore(model, _speechlike(511))


def test_check_recording_accepts_several_rates():
    wave = _speechlike(100)
    out = check_recording(wave.astype(np.float64), 8000, (8000, 16000))
    assert out.dtype == np.float32 and out.shape == (100,)
    with pytest.raises(ValueError, match="take speech at 8000 or 16000 Hz, got 22050 Hz"):
        check_recording(wave, 22050, (8000, 16000))
