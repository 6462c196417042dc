"""course_utils.codec.inference: compress / decompress and what they refuse."""

import numpy as np
import pytest
import torch

from course_utils.codec import Codec, CodecConfig, compress, decompress, served_bitrates


@pytest.fixture(scope="module")
def codec():
    torch.manual_seed(0)
    return Codec(CodecConfig.preset("tiny")).eval()  # 4 stages of 256 codes: 0.4 .. 1.6 kbps


def test_served_bitrates(codec):
    assert served_bitrates(codec) == [0.4, 0.8, 1.2, 1.6]


@pytest.mark.parametrize("samples", [1, 319, 320, 12_345])
def test_any_length_round_trips(codec, samples):
    wave = np.random.default_rng(0).uniform(-0.5, 0.5, samples).astype(np.float32)
    codes = compress(codec, wave, 16000, kbps=0.8)
    assert codes.shape == (2, max(2, -(-samples // 320))) and codes.dtype == torch.int64
    assert decompress(codec, codes, samples).shape == (samples,)


def test_silence_and_full_scale_clipping_are_fine(codec):
    for wave in (np.zeros(8000, np.float32), np.clip(np.sin(np.arange(8000.0)) * 3, -1, 1)):
        out = decompress(codec, compress(codec, wave, 16000, 1.6), len(wave))
        assert torch.isfinite(out).all()


def test_other_rates_are_resampled_with_a_warning(codec):
    wave = np.zeros(8000, np.float32)  # 1 s at 8 kHz
    with pytest.warns(UserWarning, match="resampling from 8000 Hz"):
        codes = compress(codec, wave, 8000, 0.4)
    assert codes.shape == (1, 50)


def test_bad_input_is_explained(codec):
    wave = np.zeros(1600, np.float32)
    with pytest.raises(ValueError, match=r"serves 0.4, 0.8, 1.2, 1.6 kbps"):
        compress(codec, wave, 16000, kbps=6.0)
    with pytest.raises(ValueError, match="mono"):
        compress(codec, np.zeros((2, 1600), np.float32), 16000, 0.4)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        compress(codec, wave + 2.0, 16000, 0.4)
    with pytest.raises(ValueError, match="NaN"):
        compress(codec, np.full(1600, np.nan, np.float32), 16000, 0.4)
    with pytest.raises(ValueError, match="empty"):
        compress(codec, np.zeros(0, np.float32), 16000, 0.4)


def test_bad_codes_are_explained(codec):
    with pytest.raises(ValueError, match=r"shape \(stages, frames\)"):
        decompress(codec, torch.zeros(1, 2, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="1 to 4 stages"):
        decompress(codec, torch.zeros(5, 3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        decompress(codec, torch.full((2, 3), 256))
    with pytest.raises(ValueError, match="integers"):
        decompress(codec, torch.zeros(2, 3))
