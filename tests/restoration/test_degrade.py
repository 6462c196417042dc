"""course_utils.restoration.degrade: noises at an SNR, the lost band, `degrade`, errors."""

import numpy as np
import pytest

from course_utils.data import synthesize
from course_utils.restoration.degrade import (
    NOISE_KINDS,
    Degradation,
    add_noise_at_snr,
    babble,
    band_limit,
    degrade,
    make_noise,
    measured_snr,
    scene_noise,
    telephone_band,
)


@pytest.fixture(scope="module")
def speech():
    return synthesize("turn on the kitchen lights", sample_rate=16000).astype(np.float32)


@pytest.fixture(scope="module")
def voices():
    texts = ["three eight one", "move left five steps", "open the garage door", "seven"]
    return [synthesize(t, sample_rate=16000, seed=3).astype(np.float32) for t in texts]


def _band_power(wave, low_hz, high_hz):
    power = np.abs(np.fft.rfft(wave.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(wave.size, 1 / 16000)
    return power[(freqs >= low_hz) & (freqs < high_hz)].sum()


@pytest.mark.parametrize("snr_db", [0.0, 5.0, 10.0])
@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_every_noise_kind_hits_its_snr(speech, voices, kind, snr_db):
    noise = make_noise(kind, speech.size, np.random.default_rng(1), voices=voices)
    assert noise.dtype == np.float32 and noise.shape == speech.shape
    assert np.mean(noise.astype(np.float64) ** 2) == pytest.approx(1.0, rel=1e-3)
    noisy = add_noise_at_snr(speech, noise, snr_db)
    assert noisy.dtype == np.float32 and noisy.shape == speech.shape
    assert measured_snr(speech, noisy) == pytest.approx(snr_db, abs=0.5)


def test_babble_and_scene_are_random_but_reproducible(voices):
    a, b = (babble(voices, 8000, np.random.default_rng(5)) for _ in range(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, babble(voices, 8000, np.random.default_rng(6)))
    one_talker = babble(voices, 8000, np.random.default_rng(5), talkers=(1, 1))
    assert one_talker.shape == (8000,)
    scene = scene_noise(32000, 16000, np.random.default_rng(2))
    np.testing.assert_array_equal(scene, scene_noise(32000, 16000, np.random.default_rng(2)))
    assert np.mean(scene.astype(np.float64) ** 2) == pytest.approx(1.0, rel=1e-3)


def test_band_limit_empties_the_lost_band_and_keeps_the_rest(speech):
    for wave in (speech, speech[:-1]):  # even and odd lengths
        limited = band_limit(wave)
        assert limited.shape == wave.shape and limited.dtype == np.float32
    limited = band_limit(speech, 16000, 8000)
    lost = _band_power(speech, 4200, 8001) / _band_power(limited, 4200, 8001)
    assert 10 * np.log10(lost) > 40
    kept = _band_power(limited, 0, 3500) / _band_power(speech, 0, 3500)
    assert abs(10 * np.log10(kept)) < 0.1
    narrow = band_limit(speech, low_rate=4000)
    assert _band_power(narrow, 2200, 8001) < 1e-4 * _band_power(speech, 2200, 8001)


def test_telephone_band_keeps_shape(speech):
    phone = telephone_band(speech)
    assert phone.shape == speech.shape and phone.dtype == np.float32
    assert _band_power(phone, 5000, 8001) < 1e-2 * _band_power(speech, 5000, 8001)


def test_degrade_is_deterministic_for_a_seed(speech, voices):
    task = Degradation("denoise")
    first, info = degrade(speech, task, np.random.default_rng(7), voices=voices)
    again, info_again = degrade(speech, task, np.random.default_rng(7), voices=voices)
    np.testing.assert_array_equal(first, again)
    assert info == info_again and info["kind"] in NOISE_KINDS and 0 <= info["snr_db"] <= 10
    other, _ = degrade(speech, task, np.random.default_rng(8), voices=voices)
    assert not np.array_equal(first, other)
    limited, info = degrade(speech, Degradation("bandwidth"), np.random.default_rng(0))
    assert info["kind"] == "band_limit" and info["low_rate"] == 8000
    np.testing.assert_array_equal(limited, band_limit(speech) * np.float32(info["scale"]))


def test_degrade_scales_loud_mixtures_and_reports_the_scale(speech):
    loud = speech / np.abs(speech).max() * np.float32(0.98)
    task = Degradation("denoise", snr_db=(0.0, 0.0), noise_kinds=("white",))
    damaged, info = degrade(loud, task, np.random.default_rng(0))
    assert info["scale"] < 1 and np.abs(damaged).max() == pytest.approx(0.99, abs=1e-6)
    # scaling the clean target by the same factor keeps the pair's SNR
    assert measured_snr(loud * np.float32(info["scale"]), damaged) == pytest.approx(0.0, abs=0.01)
    quiet, info = degrade(0.1 * speech, Degradation("bandwidth"), np.random.default_rng(0))
    assert info["scale"] == 1.0


def test_babble_without_voices_is_explained(speech):
    with pytest.raises(ValueError, match="needs voices"):
        make_noise("babble", 1000, np.random.default_rng(0))
    with pytest.raises(ValueError, match="needs voices"):
        degrade(speech, Degradation("denoise"), np.random.default_rng(0))
    with pytest.raises(ValueError, match="needs voices"):
        babble([], 1000, np.random.default_rng(0))


def test_bad_input_is_explained(speech):
    noise = make_noise("white", speech.size, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"snr_db must be in \[-10, 40\] dB"):
        add_noise_at_snr(speech, noise, 45.0)
    with pytest.raises(ValueError, match=r"low_rate must be in \[2000, 16000\)"):
        band_limit(speech, low_rate=1000)
    with pytest.raises(ValueError, match=r"low_rate must be in"):
        band_limit(speech, low_rate=16000)
    with pytest.raises(ValueError, match="silent"):
        band_limit(np.zeros(1000, dtype=np.float32))
    with pytest.raises(ValueError, match="NaN"):
        add_noise_at_snr(np.full(100, np.nan, dtype=np.float32), noise, 5.0)
    with pytest.raises(ValueError, match=r"\(time,\)"):
        band_limit(np.stack([speech, speech]))
    with pytest.raises(ValueError, match="16000 Hz"):
        band_limit(speech, sample_rate=8000)
    with pytest.raises(ValueError, match="expected one of"):
        make_noise("rain", 1000, np.random.default_rng(0))
    with pytest.raises(TypeError, match="float samples"):
        measured_snr(np.ones(10, dtype=np.int16), np.ones(10, dtype=np.int16))
    with pytest.raises(ValueError, match="length"):
        measured_snr(speech, speech[:-1])
    with pytest.raises(ValueError, match="task must be one of"):
        Degradation("dereverb")
    with pytest.raises(ValueError, match="snr_db must be"):
        Degradation("denoise", snr_db=(-20.0, 5.0))
    with pytest.raises(ValueError, match="noise_kinds must be"):
        Degradation("denoise", noise_kinds=("rain",))
    with pytest.raises(ValueError, match="low_rate must be in"):
        Degradation("bandwidth", low_rate=500)
