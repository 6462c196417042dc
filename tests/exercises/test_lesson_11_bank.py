"""Lesson 11's exercises agree with the package they teach: the reference SNR gain is that of
``course_utils.augment.snr_gain`` and mixes as ``restoration.degrade.add_noise_at_snr`` does,
the least-squares GAN losses are those of ``restoration.losses`` for one sub-discriminator,
and the Wiener gain is that of ``restoration.baselines.wiener_filter`` at alpha = 0 (its
decision-directed smoothing switched off, which its API allows) as well as a brute-force
recomputation, bin by bin, in numpy. Each check is made on random inputs and on the
exercises' own cases. test_bank.py checks that every listed mistake gets its hint; here,
mistakes written another way than the bank's examples get the same hints."""

import math

import numpy as np
import pytest
import torch

from course_utils.augment import snr_gain
from course_utils.exercises import check, get_exercise
from course_utils.restoration import baselines
from course_utils.restoration.degrade import add_noise_at_snr, measured_snr
from course_utils.restoration.losses import discriminator_loss, generator_loss


def _reference(name):
    return get_exercise(f"11.{name}").reference


def _cases(name):
    return get_exercise(f"11.{name}").make_cases(torch.Generator().manual_seed(0))


def _hint(name, index):
    return get_exercise(f"11.{name}").diagnostics[index].hint


def _power(x):
    return float(np.mean(np.square(np.asarray(x, dtype=np.float64))))


# ----- 11.snr_gain -----


def _random_snr_cases(count, seed=1):
    g = torch.Generator().manual_seed(seed)
    for _ in range(count):
        clean_length, noise_length = torch.randint(1, 3000, (2,), generator=g).tolist()
        scales = torch.empty(2).uniform_(0.01, 5.0, generator=g)
        snr_db = float(torch.empty(()).uniform_(-10.0, 40.0, generator=g))
        yield (
            scales[0] * torch.randn(clean_length, generator=g),
            scales[1] * torch.randn(noise_length, generator=g),
            snr_db,
        )


def test_snr_gain_is_the_package_snr_gain():
    reference = _reference("snr_gain")
    for clean, noise, snr_db in [*_cases("snr_gain"), *_random_snr_cases(40)]:
        mine = reference(clean, noise, snr_db)
        assert isinstance(mine, float)
        assert math.isclose(mine, snr_gain(_power(clean), _power(noise), snr_db), rel_tol=1e-5)


def test_snr_gain_mixes_as_add_noise_at_snr():
    """The package tiles or crops the noise to the clean's length before it measures its
    power; given noise already of that length, its mix is clean + gain * noise."""
    reference = _reference("snr_gain")
    for clean, noise, snr_db in [*_cases("snr_gain"), *_random_snr_cases(20, seed=2)]:
        clean = clean.numpy()
        fitted = np.resize(noise.numpy(), clean.size)  # what add_noise does to the noise
        gain = reference(torch.from_numpy(clean), torch.from_numpy(fitted), snr_db)
        mixed = add_noise_at_snr(clean, fitted, snr_db)
        np.testing.assert_allclose(mixed, clean + np.float32(gain) * fitted, rtol=1e-5, atol=1e-6)
        assert math.isclose(measured_snr(clean, mixed), snr_db, abs_tol=1e-3)


def test_snr_gain_of_a_repeated_noise_is_that_of_the_noise():
    """A power is per sample: tiling the noise changes nothing, so lengths need not match."""
    reference = _reference("snr_gain")
    for clean, noise, snr_db in _cases("snr_gain"):
        twice = torch.cat([noise, noise])
        assert math.isclose(reference(clean, twice, snr_db), reference(clean, noise, snr_db),
                            rel_tol=1e-5)  # fmt: skip


def test_snr_gain_cases_hold_each_edge_case():
    cases = _cases("snr_gain")
    assert any(len(clean) > len(noise) for clean, noise, _ in cases)  # a short noise
    assert any(len(clean) < len(noise) for clean, noise, _ in cases)  # a long one
    assert any(len(clean) == len(noise) for clean, noise, _ in cases)
    assert any(snr_db == 0 for *_, snr_db in cases) and any(snr_db < 0 for *_, snr_db in cases)
    assert any(abs(float(noise.mean())) > 0.3 for _, noise, _ in cases)  # a DC offset
    gains = [_reference("snr_gain")(*case) for case in cases]
    assert min(gains) < 1 < max(gains)  # a gain of 1 would hide the missing square root
    assert all(-10 <= snr_db <= 40 for *_, snr_db in cases)  # add_noise_at_snr's range


def test_snr_gain_summed_squares_are_caught_only_by_clips_of_different_lengths():
    summed = get_exercise("11.snr_gain").diagnostics[2].wrong
    reference = _reference("snr_gain")
    for clean, noise, snr_db in _cases("snr_gain"):
        same = math.isclose(summed(clean, noise, snr_db), reference(clean, noise, snr_db),
                            rel_tol=1e-5)  # fmt: skip
        assert same == (len(clean) == len(noise))


@pytest.mark.parametrize(
    "function, index",
    [
        (lambda c, n, snr: math.sqrt(_power(c) / _power(n)) * 10 ** (-snr / 40), 0),
        (lambda c, n, snr: math.sqrt(_power(n) / _power(c) * 10 ** (snr / 10)), 1),
        (lambda c, n, snr: float((c.norm() / n.norm()) * 10 ** (-snr / 20)), 2),
        (lambda c, n, snr: _power(c) / _power(n) / 10 ** (snr / 10), 3),
    ],
)
def test_snr_gain_mistakes_written_otherwise_get_their_hints(function, index):
    result = check("11.snr_gain", function)
    assert result.status == "wrong" and _hint("snr_gain", index) in result.message, result.message


# ----- 11.lsgan_losses -----


def _random_score_maps(count, seed=3):
    g = torch.Generator().manual_seed(seed)
    for _ in range(count):
        shapes = [torch.randint(1, 12, (int(torch.randint(1, 5, ())),), generator=g).tolist()
                  for _ in range(2)]  # fmt: skip
        yield tuple(torch.randn(*shape, generator=g) * 2 + 0.5 for shape in shapes)


def test_lsgan_losses_are_the_package_losses_of_one_sub_discriminator():
    reference = _reference("lsgan_losses")
    for real, fake in [*_cases("lsgan_losses"), *_random_score_maps(40)]:
        d_loss, g_loss = reference(real, fake)
        assert d_loss.shape == () and g_loss.shape == ()
        torch.testing.assert_close(d_loss, discriminator_loss([real], [fake], kind="lsgan"))
        torch.testing.assert_close(g_loss, generator_loss([fake], kind="lsgan"))


def test_the_package_averages_the_sub_discriminators_losses():
    """Several sub-discriminators (HiFi-GAN's STFT and period ones): the package's losses are
    the mean of the exercise's, one sub-discriminator at a time."""
    reference = _reference("lsgan_losses")
    pairs = _cases("lsgan_losses")
    reals, fakes = [real for real, _ in pairs], [fake for _, fake in pairs]
    mine = [reference(real, fake) for real, fake in pairs]
    torch.testing.assert_close(
        torch.stack([d for d, _ in mine]).mean(), discriminator_loss(reals, fakes)
    )
    torch.testing.assert_close(torch.stack([g for _, g in mine]).mean(), generator_loss(fakes))


def test_lsgan_losses_keep_the_gradient():
    real, fake = (torch.randn(2, 1, 8, 5, requires_grad=True) for _ in range(2))
    d_loss, g_loss = _reference("lsgan_losses")(real, fake)
    (d_loss + g_loss).backward()
    assert real.grad is not None and fake.grad is not None


def test_lsgan_losses_cases_hold_each_edge_case():
    cases = _cases("lsgan_losses")
    reference = _reference("lsgan_losses")
    assert any(real.shape != fake.shape for real, fake in cases)  # maps of different sizes
    assert any(real.numel() == fake.numel() == 1 for real, fake in cases)
    assert any(real.dim() == 4 for real, _ in cases)  # (batch, 1, frames, bins) maps
    losses = [tuple(float(x) for x in reference(real, fake)) for real, fake in cases]
    assert (0.0, 1.0) in losses and (1.0, 0.0) in losses  # a perfect and a fooled critic
    assert any(float(real.min()) < 0 or float(fake.min()) < 0 for real, fake in cases)


def _squares(real, fake, real_target=1.0, fake_target=0.0, generator_target=1.0, mean=True):
    reduce = torch.mean if mean else torch.sum
    return (
        reduce((real - real_target) ** 2) + reduce((fake - fake_target) ** 2),
        reduce((fake - generator_target) ** 2),
    )


@pytest.mark.parametrize(
    "function, index",
    [
        (lambda real, fake: (generator_loss([fake]), discriminator_loss([real], [fake])), 0),
        (lambda real, fake: _squares(real, fake, 0.0, 1.0, 0.0), 1),  # swapped throughout
        (lambda real, fake: _squares(real, fake, 0.0, 1.0), 1),
        (lambda real, fake: _squares(real, fake, generator_target=0.0), 2),
        (lambda real, fake: _squares(real, fake, mean=False), 3),
        (lambda real, fake: (_squares(real, fake)[0], ((fake - 1) ** 2).sum()), 3),
        (
            lambda real, fake: (
                -torch.log(real).mean() - torch.log(1 - fake).mean(),
                -torch.log(fake).mean(),
            ),
            4,
        ),
        (
            lambda real, fake: (
                -torch.log(torch.sigmoid(real)).mean() - torch.log(1 - torch.sigmoid(fake)).mean(),
                -torch.log(torch.sigmoid(fake)).mean(),
            ),
            4,
        ),
    ],
)
def test_lsgan_mistakes_written_otherwise_get_their_hints(function, index):
    result = check("11.lsgan_losses", function)
    assert result.status == "wrong" and _hint("lsgan_losses", index) in result.message, (
        result.message
    )


# ----- 11.wiener_gain -----


def _brute_force_gain(noisy_power, noise_power, floor_db):
    """The gain recomputed bin by bin with Python floats, from the lesson's formula."""
    noisy, noise = np.broadcast_arrays(np.asarray(noisy_power, np.float64),
                                       np.asarray(noise_power, np.float64))  # fmt: skip
    gains = np.empty(noisy.shape)
    for index in np.ndindex(noisy.shape):
        prior = max(noisy[index] / noise[index] - 1.0, 0.0)  # a-priori SNR, power subtraction
        gains[index] = max(prior / (1.0 + prior), 10.0 ** (floor_db / 20.0))
    return gains


def _random_powers(count, seed=4):
    g = torch.Generator().manual_seed(seed)
    for _ in range(count):
        bins, frames = torch.randint(1, 40, (2,), generator=g).tolist()
        noise = torch.rand(bins, 1, generator=g) + 0.01
        noisy = noise * torch.exp(2 * torch.randn(bins, frames, generator=g))
        yield noisy, noise, float(torch.empty(()).uniform_(-60.0, 0.0, generator=g))


def test_wiener_gain_matches_a_brute_force_recomputation():
    reference = _reference("wiener_gain")
    for noisy, noise, floor_db in [*_cases("wiener_gain"), *_random_powers(20)]:
        expected = _brute_force_gain(noisy.numpy(), noise.numpy(), floor_db)
        np.testing.assert_allclose(reference(noisy, noise, floor_db).numpy(), expected,
                                   rtol=1e-5, atol=1e-7)  # fmt: skip


def test_wiener_gain_is_the_package_gain_at_alpha_zero():
    """`wiener_filter`'s decision-directed a-priori SNR, with alpha = 0, is power subtraction
    alone: its gains are the exercise's, bin by bin."""
    reference = _reference("wiener_gain")
    for noisy, noise, floor_db in _random_powers(20, seed=5):
        power = noisy.double().numpy()
        package = baselines._decision_directed_gain(
            power, noise.double().numpy()[:, 0], 0.0, 10.0 ** (floor_db / 20.0)
        )
        mine = reference(noisy.double(), noise.double(), floor_db).numpy()
        np.testing.assert_allclose(mine, package, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("floor_db", [-20.0, -6.0])
def test_wiener_filter_at_alpha_zero_applies_the_exercise_gain(floor_db):
    """The public filter, alpha = 0: the noisy STFT times the exercise's gains, back to a wave
    (same STFT and noise estimate as the package). With its default alpha the smoothing in
    time makes other gains, which is why only alpha = 0 compares."""
    rng = np.random.default_rng(0)
    t = np.arange(8000) / 16000
    noisy = (0.3 * np.sin(2 * np.pi * 440 * t) * (t % 0.25 < 0.15)
             + 0.05 * rng.standard_normal(t.size)).astype(np.float32)  # fmt: skip
    spec = baselines._stft(noisy, 512, 128)
    power = spec.abs().square()
    noise = torch.from_numpy(baselines._noise_power(power.numpy(), 0.05))
    gains = _reference("wiener_gain")(power, noise[:, None], floor_db)
    mine = baselines._istft(spec * gains, 512, 128, noisy.size)
    package = baselines.wiener_filter(noisy, alpha=0.0, gain_floor_db=floor_db)
    np.testing.assert_allclose(package, mine, atol=1e-6)
    smoothed = baselines.wiener_filter(noisy, gain_floor_db=floor_db)  # alpha = 0.95
    assert np.abs(smoothed - mine).max() > 1e-3


def test_wiener_gain_cases_hold_each_edge_case():
    cases = _cases("wiener_gain")
    reference = _reference("wiener_gain")
    assert any(noisy.shape != noise.shape for noisy, noise, _ in cases)  # broadcast noise
    assert any(noisy.dim() == 1 for noisy, _, _ in cases) and any(n.dim() == 3 for n, _, _ in cases)
    assert any(bool((noisy < noise).all()) for noisy, noise, _ in cases)  # noise only
    assert any(bool((noisy == noise).any()) for noisy, noise, _ in cases)  # xi = 0 exactly
    assert any(bool((noisy == 0).any()) for noisy, _, _ in cases)  # a silent bin
    assert any(floor_db == 0 for *_, floor_db in cases)
    for noisy, noise, floor_db in cases:
        gain = reference(noisy, noise, floor_db)
        floor = 10 ** (floor_db / 20)
        assert float(gain.min()) >= floor * (1 - 1e-6) and float(gain.max()) <= 1.0
    below_floor = [(reference(n, m, -200.0) < 10 ** (f / 20)).any() for n, m, f in cases]
    assert sum(map(bool, below_floor)) >= 3  # where a missing or a power floor shows


def test_wiener_gain_without_the_clip_at_zero_but_floored_is_the_same_gain():
    """Forgetting max(..., 0) changes nothing once the gain is floored (a floor >= 0 clips the
    negative gains): the mistake shows, with its hint, only when the floor is missing too."""
    for noisy, noise, floor_db in _cases("wiener_gain"):
        xi = noisy / noise - 1
        unclipped = torch.maximum(xi / (1 + xi), torch.tensor(10 ** (floor_db / 20)))
        torch.testing.assert_close(unclipped, _reference("wiener_gain")(noisy, noise, floor_db))


@pytest.mark.parametrize(
    "function, index",
    [
        (lambda x, n, floor_db: torch.clamp(x / n - 1, min=0), 0),  # xi, no floor either
        (lambda x, n, floor_db: torch.clamp(x / n - 1, min=10 ** (floor_db / 20)), 0),
        (lambda x, n, floor_db: torch.clamp(1 - n / x, min=0), 1),
        (lambda x, n, floor_db: torch.clamp(1 - n / x, min=10 ** (floor_db / 10)), 2),
        (lambda x, n, floor_db: 1 - n / x, 3),
        (lambda x, n, floor_db: (x - n) / x, 3),
    ],
)
def test_wiener_mistakes_written_otherwise_get_their_hints(function, index):
    result = check("11.wiener_gain", function)
    assert result.status == "wrong" and _hint("wiener_gain", index) in result.message, (
        result.message
    )


# ----- the package's functions pass the checks -----


@pytest.mark.parametrize(
    "name, function",
    [
        ("11.snr_gain", lambda c, n, snr: snr_gain(c.pow(2).mean(), n.pow(2).mean(), snr)),
        ("11.lsgan_losses",
         lambda real, fake: (discriminator_loss([real], [fake]), generator_loss([fake]))),
        ("11.wiener_gain", lambda x, n, floor_db: torch.from_numpy(
            _brute_force_gain(x.numpy(), n.numpy(), floor_db)).float()),
        ("11.wiener_gain", lambda x, n, floor_db: torch.clamp(1 - n / x, min=0).clamp(
            min=10 ** (floor_db / 20))),
    ],
)  # fmt: skip
def test_the_package_functions_pass_the_checks(name, function):
    result = check(name, function)
    assert result.passed, result.message
