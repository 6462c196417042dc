"""Tests for course_utils.audio: file round trips, clear errors, resampling, levels, playback."""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
import pytest
import soundfile as sf
import torch
from scipy import signal

from course_utils.audio.io import (
    load_audio,
    normalize,
    play,
    resample,
    resampling_filter,
    rms_db,
    save_audio,
    to_mono,
)

SR = 16_000


def sine(freq: float = 440.0, seconds: float = 0.5, sample_rate: int = SR, amp: float = 0.5):
    t = torch.arange(int(seconds * sample_rate), dtype=torch.float64) / sample_rate
    return (amp * torch.sin(2 * math.pi * freq * t)).to(torch.float32)


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
@pytest.mark.parametrize("channels", [1, 2])
def test_save_load_round_trip(tmp_path, suffix, channels):
    waveform = torch.stack([sine(440), sine(660)])[:channels]  # (channels, time)
    path = tmp_path / f"clip{suffix}"
    save_audio(path, waveform, SR)
    loaded, sr = load_audio(path, mono=False)
    assert sr == SR
    assert loaded.dtype == torch.float32 and loaded.shape == waveform.shape
    torch.testing.assert_close(loaded, waveform, atol=1 / 2**15, rtol=0)  # PCM_16 step
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_load_mono_averages_channels(tmp_path):
    stereo = np.stack([np.full(800, 0.5), np.full(800, -0.25)]).astype(np.float32)
    save_audio(tmp_path / "s.wav", stereo, SR, subtype="FLOAT")
    mono, _ = load_audio(tmp_path / "s.wav")
    assert mono.shape == (800,)
    torch.testing.assert_close(mono, torch.full((800,), 0.125))


def test_load_resamples(tmp_path):
    save_audio(tmp_path / "a.wav", sine(440, 1.0, 22_050), 22_050)
    waveform, sr = load_audio(tmp_path / "a.wav", sample_rate=SR)
    assert sr == SR and waveform.shape == (SR,)


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.wav"):
        load_audio(tmp_path / "nothing.wav")


@pytest.mark.parametrize("content", [b"", b"this is not audio at all"])
def test_load_corrupt_file(tmp_path, content):
    path = tmp_path / "broken.wav"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"broken\.wav.*WAV, FLAC or OGG"):
        load_audio(path)


def test_load_empty_audio(tmp_path):
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), SR)
    with pytest.raises(ValueError, match=r"empty\.wav.*no audio samples"):
        load_audio(path)


def test_save_refuses_to_overwrite(tmp_path):
    path = tmp_path / "keep.wav"
    save_audio(path, sine(), SR)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_audio(path, torch.zeros(100), SR)
    assert path.read_bytes() == before
    save_audio(path, torch.zeros(100), SR, overwrite=True)
    assert sf.info(path).frames == 100


def test_save_ogg_needs_its_own_subtype(tmp_path):
    with pytest.raises(ValueError, match="VORBIS"):
        save_audio(tmp_path / "a.ogg", sine(), SR)
    save_audio(tmp_path / "a.ogg", sine(), SR, subtype=None)
    loaded, sr = load_audio(tmp_path / "a.ogg")
    assert sr == SR and abs(loaded.shape[0] - sine().shape[0]) < 100


@pytest.mark.parametrize(
    "waveform, sample_rate, match",
    [
        (torch.zeros(0), SR, "empty"),
        (torch.tensor([0.0, float("nan")]), SR, "NaN"),
        (torch.zeros(2, 3, 100), SR, "shape"),
        (torch.zeros(1000, 2), SR, "transpose"),
        (torch.zeros(100), 100, "sample_rate"),
    ],
)
def test_save_rejects_bad_input(tmp_path, waveform, sample_rate, match):
    with pytest.raises(ValueError, match=match):
        save_audio(tmp_path / "x.wav", waveform, sample_rate)
    assert not (tmp_path / "x.wav").exists()


def test_save_rejects_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match="suffix"):
        save_audio(tmp_path / "x.mp4", sine(), SR)


def test_save_warns_before_clipping(tmp_path):
    with pytest.warns(UserWarning, match="clipped"):
        save_audio(tmp_path / "loud.wav", torch.tensor([1.5, -0.5] * 50), SR)


def test_resample_length_and_content():
    out = resample(sine(1000, 1.0, 22_050), 22_050, SR)
    assert out.shape == (SR,)
    spectrum = torch.fft.rfft(out).abs()
    assert int(spectrum.argmax()) == 1000  # 1 Hz bins over one second


@pytest.mark.parametrize("shape", [(800,), (2, 800), (3, 2, 800)])
def test_resample_keeps_leading_dims(shape):
    assert resample(torch.zeros(shape), 8000, SR).shape == shape[:-1] + (1600,)


def test_resample_same_rate_is_identity_and_accepts_numpy():
    x = np.linspace(-1, 1, 100, dtype=np.float32)
    out = resample(x, SR, SR)
    assert isinstance(out, torch.Tensor)
    assert torch.equal(out, torch.from_numpy(x))


def test_to_mono():
    stereo = torch.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    assert torch.equal(to_mono(stereo), torch.full((3,), 2.0))
    assert torch.equal(to_mono(stereo[0]), stereo[0])
    with pytest.raises(ValueError, match="shape"):
        to_mono(torch.zeros(1, 2, 3))


@pytest.mark.parametrize("peak", [0.5, 0.95, 1.0])
def test_normalize_peak(peak):
    out = normalize(np.array([[0.1, -0.4], [0.2, 0.0]], dtype=np.float32), peak=peak)
    assert math.isclose(float(out.abs().max()), peak, rel_tol=1e-6)
    assert math.isclose(float(out[0, 0] / out[1, 0]), 0.5, rel_tol=1e-6)  # one shared gain


def test_normalize_silent_and_bad_peak():
    with pytest.raises(ValueError, match="silent"):
        normalize(torch.zeros(100))
    with pytest.raises(ValueError, match="peak"):
        normalize(torch.ones(10), peak=0.0)


def test_rms_db_known_answers():
    assert math.isclose(rms_db(torch.ones(100)), 0.0, abs_tol=1e-9)
    assert math.isclose(rms_db(sine(1000, 1.0, amp=1.0)), -10 * math.log10(2), abs_tol=1e-3)
    assert math.isclose(rms_db(torch.full((10,), 0.1)), -20.0, abs_tol=1e-5)
    assert rms_db(torch.zeros(100)) == pytest.approx(-100.0)


@pytest.mark.parametrize("waveform", [sine(), sine().numpy(), torch.stack([sine(), sine()])])
def test_play_returns_audio_widget(waveform):
    from IPython.display import Audio

    player = play(waveform, SR)
    assert isinstance(player, Audio)
    assert player.filename is None and player.url is None  # embedded from the array
    assert player.data[:4] == b"RIFF"


def test_play_cuts_long_clips_with_a_warning():
    with pytest.warns(UserWarning, match="first 0.25 s"):
        player = play(sine(seconds=1.0), SR, max_seconds=0.25)
    with sf.SoundFile(io.BytesIO(player.data)) as f:
        assert f.frames == SR // 4


def test_play_silence_does_not_warn_or_fail():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        player = play(torch.zeros(1600), SR)
    assert player.data[:4] == b"RIFF"


@pytest.mark.parametrize("waveform, sample_rate", [(torch.zeros(0), SR), (torch.ones(10), 7)])
def test_play_rejects_bad_input(waveform, sample_rate):
    with pytest.raises(ValueError):
        play(waveform, sample_rate)


@pytest.mark.parametrize("up, down", [(320, 441), (20, 21), (2, 1)])
def test_resampling_filter_is_the_one_resample_poly_designs(up, down):
    x = np.random.default_rng(0).standard_normal(3000)
    taps = resampling_filter(up, down)
    assert not taps.flags.writeable and taps is resampling_filter(up, down)  # designed once
    np.testing.assert_array_equal(
        signal.resample_poly(x, up, down, window=taps), signal.resample_poly(x, up, down)
    )
    assert resampling_filter(up, down, "float32").dtype == np.float32
