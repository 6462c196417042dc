"""course_utils.restoration.evaluation: scores of perfect and damaged estimates, kinds, errors."""

import numpy as np
import pytest
import torch

from course_utils.audio.quality import log_spectral_distance, si_sdr, stoi
from course_utils.data import synthesize
from course_utils.restoration.degrade import Degradation, degrade
from course_utils.restoration.evaluation import (
    HIGH_BAND_HZ,
    MEASURES,
    restore_all,
    score_pairs,
    validation_score,
)
from course_utils.restoration.model import Restorer, RestorerConfig


def _pairs(degradation: Degradation, seeds=(1, 2)):
    """(damaged, clean, info) triples as `data.test_pairs` makes them."""
    clean = synthesize("turn on the kitchen lights", sample_rate=16000).astype(np.float32)
    triples = []
    for seed in seeds:
        damaged, info = degrade(clean, degradation, np.random.default_rng(seed))
        triples.append((damaged, clean * np.float32(info["scale"]), info))
    return triples


@pytest.fixture(scope="module")
def noisy_pairs():
    white = _pairs(Degradation("denoise", snr_db=(5.0, 5.0), noise_kinds=("white",)), (1, 2))
    pink = _pairs(Degradation("denoise", snr_db=(0.0, 0.0), noise_kinds=("pink",)), (3,))
    return white + pink


@pytest.fixture(scope="module")
def band_pairs():
    return _pairs(Degradation("bandwidth"), (1,))


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return Restorer(RestorerConfig.preset("tiny"))


def test_the_clean_signal_scores_perfectly(noisy_pairs):
    clean = [p[1] for p in noisy_pairs]
    scores = score_pairs(noisy_pairs, clean)
    assert set(scores) == set(MEASURES)
    assert scores["lsd"] == 0.0 and scores["lsd_high"] == 0.0
    assert scores["si_sdr"] > 100  # inf: no error at all
    assert scores["stoi"] == pytest.approx(1.0, abs=1e-6)
    assert scores["pesq"] > 4.5  # the top of wideband PESQ's scale


def test_the_damage_scores_as_the_damage(noisy_pairs):
    damaged = [p[0] for p in noisy_pairs]
    scores = score_pairs(noisy_pairs, damaged, ("si_sdr", "stoi", "lsd", "lsd_high"))
    assert set(scores) == {"si_sdr", "stoi", "lsd", "lsd_high"}
    expected_sdr = np.mean([si_sdr(c, d) for d, c, _ in noisy_pairs])
    expected_stoi = np.mean([stoi(c, d, 16000) for d, c, _ in noisy_pairs])
    expected_high = np.mean(
        [log_spectral_distance(c, d, 16000, band=HIGH_BAND_HZ) for d, c, _ in noisy_pairs]
    )
    assert scores["si_sdr"] == pytest.approx(expected_sdr)
    assert scores["stoi"] == pytest.approx(expected_stoi)
    assert scores["lsd_high"] == pytest.approx(expected_high)
    # two pairs at 5 dB and one at 0 dB: SI-SDR near the mean SNR, 10/3 dB
    assert scores["si_sdr"] == pytest.approx(10 / 3, abs=0.5)
    assert 0.3 < scores["stoi"] < 1.0 and scores["lsd"] > 0.1


def test_a_lost_band_shows_in_the_high_band_distance(band_pairs):
    (damaged, clean, info) = band_pairs[0]
    assert info["kind"] == "band_limit"
    scores = score_pairs(band_pairs, [damaged], ("lsd", "lsd_high", "si_sdr"))
    assert scores["lsd_high"] > 2.0  # the 4-8 kHz band is ~100 dB down (floored)
    assert scores["lsd_high"] > scores["lsd"]  # half the bins are lost: lsd ~ lsd_high / 1.4
    assert score_pairs(band_pairs, [clean], ("lsd_high",)) == {"lsd_high": 0.0}


def test_by_kind_groups_by_the_noise_kind(noisy_pairs):
    damaged = [p[0] for p in noisy_pairs]
    scores = score_pairs(noisy_pairs, damaged, ("si_sdr",), by_kind=True)
    assert set(scores) == {"si_sdr", "by_kind"}
    assert set(scores["by_kind"]) == {"white", "pink"}
    white = np.mean([si_sdr(c, d) for d, c, _ in noisy_pairs[:2]])
    pink = si_sdr(noisy_pairs[2][1], noisy_pairs[2][0])
    assert scores["by_kind"]["white"]["si_sdr"] == pytest.approx(white)
    assert scores["by_kind"]["pink"]["si_sdr"] == pytest.approx(pink)
    assert scores["si_sdr"] == pytest.approx((2 * white + pink) / 3)  # a mean over pairs
    assert "by_kind" not in score_pairs(noisy_pairs, damaged, ("si_sdr",))


def test_unknown_measures_and_wrong_counts_are_refused(noisy_pairs):
    damaged = [p[0] for p in noisy_pairs]
    with pytest.raises(ValueError, match=r"unknown measures \['mos'\]"):
        score_pairs(noisy_pairs, damaged, ("si_sdr", "mos"))
    with pytest.raises(ValueError, match="need one estimate per pair, got 2 for 3"):
        score_pairs(noisy_pairs, damaged[:2], ("si_sdr",))
    with pytest.raises(ValueError, match="need one estimate per pair, got 0 for 0"):
        score_pairs([], [], ("si_sdr",))


def test_restore_all_keeps_lengths(model, noisy_pairs):
    waves = [p[0] for p in noisy_pairs] + [np.zeros(1000, np.float32) + 0.1, [0.1] * 700]
    model.train()
    restored = restore_all(model, waves)
    assert not model.training  # left in eval mode
    assert [len(r) for r in restored] == [len(w) for w in waves]
    assert all(isinstance(r, np.ndarray) and r.dtype == np.float32 for r in restored)
    # the untrained generator is the identity
    np.testing.assert_allclose(restored[0], noisy_pairs[0][0], atol=1e-3)


def test_validation_score_names_the_task_measure(model, noisy_pairs, band_pairs):
    measure, score = validation_score(model, noisy_pairs, "denoise")
    damage = score_pairs(noisy_pairs, [p[0] for p in noisy_pairs], ("si_sdr",))["si_sdr"]
    assert measure == "si_sdr" and score == pytest.approx(damage, abs=0.1)
    measure, score = validation_score(model, band_pairs, "bandwidth")
    assert measure == "lsd_high" and score > 1.0
