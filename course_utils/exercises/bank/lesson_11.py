"""Lesson 11's exercises, registered with the checker (`course_utils.exercises`).

Each exercise is a reference solution in plain Python and torch (it does not import
``course_utils.restoration``: its source is what ``solution()`` shows, so it must stand
alone), a function making the test inputs with the edge cases that expose common bugs, and
the known mistakes with the hint each earns. The references follow the conventions of
``course_utils.augment`` and ``course_utils.restoration``: an SNR is 10 log10 of a ratio of
powers, a power being a mean of squares (so a noise recording and a clip of another length
compare fairly); least-squares GAN targets are 1 for real and 0 for restored ("fake")
scores, each score map averaged over its own elements; the Wiener gain is xi / (1 + xi) with
the a-priori SNR xi estimated by power subtraction (the maximum-likelihood estimate, without
the decision-directed smoothing of `restoration.baselines.wiener_filter`, which is the same
gain at alpha = 0), floored at a gain in dB of amplitude (20 log10).
tests/exercises/test_lesson_11_bank.py checks that they agree with the package. Importing
this module registers them.

Example:
    >>> round(snr_gain(torch.ones(4), torch.ones(8), 20.0), 6)  # noise 20 dB down: gain 0.1
    0.1
    >>> wiener_gain(torch.tensor([0.5, 1.0, 2.0, 11.0]), torch.tensor(1.0), -20.0)
    tensor([0.1000, 0.1000, 0.5000, 0.9091])

Notebook: 11_gan_audio_restoration.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..checker import Diagnostic, register
from ._cases import _randn

__all__ = ["lsgan_losses", "snr_gain", "wiener_gain"]


# ----- reference solutions (shown by solution(); keep them short and plain) -----


def snr_gain(clean: torch.Tensor, noise: torch.Tensor, snr_db: float) -> float:
    """The amplitude gain g that mixes noise into clean at snr_db:
    10 log10(P_clean / P_(g noise)) = snr_db, a power P being a mean of squares (clean and
    noise may differ in length)."""
    power_clean = clean.pow(2).mean()  # mean square: the same for a clip and its repeats
    power_noise = noise.pow(2).mean()
    wanted_power = power_clean / 10 ** (snr_db / 10)  # the noise power that gives snr_db
    return (wanted_power / power_noise).sqrt().item()  # g scales amplitudes, g^2 powers


def lsgan_losses(
    real_scores: torch.Tensor, fake_scores: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Least-squares GAN losses of one sub-discriminator, from its score maps on clean
    (real) and restored (fake) audio, any shapes: (discriminator_loss, generator_loss)."""
    real_term = (real_scores - 1).pow(2).mean()  # the discriminator wants real scored 1
    fake_term = fake_scores.pow(2).mean()  # ... and restored audio scored 0
    discriminator_loss = real_term + fake_term  # each map averaged over its own size
    generator_loss = (fake_scores - 1).pow(2).mean()  # the generator wants its output at 1
    return discriminator_loss, generator_loss


def wiener_gain(
    noisy_power: torch.Tensor, noise_power: torch.Tensor, floor_db: float
) -> torch.Tensor:
    """Wiener gain per time-frequency bin from the noisy power |X|^2 and the noise power
    (any shapes that broadcast), floored at floor_db (dB of amplitude)."""
    xi = (noisy_power / noise_power - 1).clamp(min=0)  # a-priori SNR by power subtraction
    gain = xi / (1 + xi)  # the share of the power that is speech: from 0 to 1
    floor = 10 ** (floor_db / 20)  # a gain multiplies amplitudes: dB / 20
    return gain.clamp(min=floor)  # never silence a bin completely


# ----- shared helpers -----


def _close(got, expected) -> bool:
    got, expected = torch.as_tensor(got).double(), torch.as_tensor(expected).double()
    return got.shape == expected.shape and torch.allclose(got, expected, rtol=1e-4, atol=1e-5)


def _uniform(g: torch.Generator, low: float, high: float, *shape: int) -> torch.Tensor:
    return low + (high - low) * torch.rand(*shape, generator=g)


# ----- 11.snr_gain -----


def _snr_cases(g: torch.Generator) -> list[tuple]:
    hum = torch.sin(torch.arange(700) * 0.05)  # a tone standing for speech
    return [
        (_randn(g, 800), _randn(g, 800), 10.0),
        (hum + 0.1 * _randn(g, 700), 0.2 * _randn(g, 700), 20.0),
        (_randn(g, 1600), 0.5 * _randn(g, 400), 5.0),  # a short noise recording
        (0.3 * _randn(g, 300), 2.0 * _randn(g, 2000), 15.0),  # a long one
        (0.05 * _randn(g, 500), 3.0 * _randn(g, 500), 0.0),  # 0 dB: as loud as the clean
        (2.0 * _randn(g, 900), 0.1 * _randn(g, 600), -5.0),  # noise louder than the clean
        (_randn(g, 450), 0.3 * _randn(g, 1200) + 0.5, 30.0),  # noise with a DC offset
        (torch.tensor([0.5]), _randn(g, 100), 40.0),  # a single sample
        (_randn(g, 1000), _randn(g, 250), -10.0),
    ]


def _gain(clean, noise, snr_db, power=lambda x: x.pow(2).mean(), db=10.0):
    return (power(clean) / (power(noise) * 10 ** (snr_db / db))).sqrt().item()


register(
    "11.snr_gain",
    snr_gain,
    _snr_cases,
    [
        (
            lambda clean, noise, snr_db: _gain(clean, noise, snr_db, db=20.0),
            "You divided the dB by 20, the rule for amplitude ratios; the SNR compares "
            "powers (mean squares), so it is 10 log10 of their ratio. With 20 your gain is off "
            "by a square root, and the mix comes out at half the SNR asked for.",
        ),
        (
            lambda clean, noise, snr_db: 1 / _gain(clean, noise, snr_db),
            "Your noise gets louder as snr_db grows: the ratio is upside down. A higher SNR "
            "means a quieter noise, and a louder clean clip allows a louder noise.",
        ),
        (
            lambda clean, noise, snr_db: _gain(clean, noise, snr_db, lambda x: x.pow(2).sum()),
            "Your gain depends on how long the clips are: you summed the squares. A power is a "
            "mean of squares, so a clean clip and a noise recording of different lengths "
            "compare fairly (a noise repeated twice keeps its power).",
        ),
        (
            lambda clean, noise, snr_db: _gain(clean, noise, snr_db) ** 2,
            "Your gain is a ratio of powers, but it multiplies the noise's samples "
            "(amplitudes), and a power grows with the square of the amplitude: take the "
            "square root.",
        ),
    ],
    "Find the power (mean square) of each signal, turn snr_db into the power ratio it stands "
    "for, and remember that the gain multiplies amplitudes, not powers.",
    outputs=("gain",),
)


# ----- 11.lsgan_losses -----


def _scores(g: torch.Generator, centre: float, *shape: int) -> torch.Tensor:
    return centre + 0.4 * _randn(g, *shape)


def _lsgan_cases(g: torch.Generator) -> list[tuple]:
    return [
        (_scores(g, 0.8, 2, 1, 24, 9), _scores(g, 0.2, 2, 1, 24, 9)),  # an STFT sub-discriminator
        (_scores(g, 0.7, 1, 1, 30, 5), _scores(g, 0.3, 1, 1, 18, 5)),  # maps of different sizes
        (_scores(g, 0.5, 50), _scores(g, 0.6, 20)),
        (_scores(g, 0.9, 2, 1, 40, 3), _scores(g, 0.1, 2, 1, 40, 3)),  # a period one (p = 3)
        (torch.ones(3, 4), torch.zeros(3, 4)),  # a perfect discriminator
        (torch.ones(6), torch.ones(10)),  # fooled: restored audio scored as real
        (_scores(g, 3.0, 4, 16), _scores(g, -2.0, 4, 7)),  # scores far outside [0, 1]
        (_scores(g, 0.6, 1), _scores(g, 0.4, 1)),  # a single score each
    ]


def _lsgan_parts(real, fake, reduce=torch.mean):
    """(discriminator, generator) least-squares terms with `reduce` over each map."""
    return reduce((real - 1) ** 2) + reduce(fake**2), reduce((fake - 1) ** 2)


def _bce(scores, target: float):
    return F.binary_cross_entropy_with_logits(scores, torch.full_like(scores, target))


def _log_losses(real, fake):
    """The original GAN's log losses on the scores taken as logits."""
    return _bce(real, 1.0) + _bce(fake, 0.0), _bce(fake, 1.0)


def _component(got, expected, alternative, which) -> bool:
    """Whether output `which` of got matches `alternative` and not the reference."""
    return _close(got[which], alternative[which]) and not _close(got[which], expected[which])


def _swapped_order(args, got, expected) -> bool:
    return (
        not _close(got[0], expected[0])
        and _close(got[0], expected[1])
        and _close(got[1], expected[0])
    )


def _swapped_labels(args, got, expected) -> bool:
    real, fake = args
    return _component(got, expected, (real.pow(2).mean() + (fake - 1).pow(2).mean(),), 0)


def _generator_toward_zero(args, got, expected) -> bool:
    return _component(got, expected, (None, args[1].pow(2).mean()), 1)


def _summed(args, got, expected) -> bool:
    summed = _lsgan_parts(*args, reduce=torch.sum)
    return _component(got, expected, summed, 0) or _component(got, expected, summed, 1)


def _log_loss(args, got, expected) -> bool:
    logs = _log_losses(*args)
    minimax = (None, -_bce(args[1], 0.0))  # the generator maximising the discriminator's loss
    nan = any(torch.isnan(torch.as_tensor(x)).any() for x in got)  # log of a negative score
    return (
        nan
        or any(_component(got, expected, logs, i) for i in (0, 1))
        or _component(got, expected, minimax, 1)
    )


register(
    "11.lsgan_losses",
    lsgan_losses,
    _lsgan_cases,
    [
        Diagnostic(
            lambda real, fake: lsgan_losses(real, fake)[::-1],
            "Your two losses are in the wrong order: return (discriminator_loss, generator_loss).",
            symptom=_swapped_order,
        ),
        Diagnostic(
            lambda real, fake: (
                real.pow(2).mean() + (fake - 1).pow(2).mean(),
                lsgan_losses(real, fake)[1],
            ),
            "Your discriminator pulls real scores toward 0 and restored (fake) ones toward 1: "
            "the labels are swapped. The discriminator's targets are 1 for real audio and 0 "
            "for restored audio.",
            symptom=_swapped_labels,
        ),
        Diagnostic(
            lambda real, fake: (lsgan_losses(real, fake)[0], fake.pow(2).mean()),
            "Your generator loss pulls the fake scores toward 0, which is the "
            "discriminator's target for them. The generator wants its output scored as real: "
            "toward 1.",
            symptom=_generator_toward_zero,
        ),
        Diagnostic(
            lambda real, fake: _lsgan_parts(real, fake, reduce=torch.sum),
            "Your losses grow with the size of the score maps: you summed the squared errors. "
            "Average each map over its own elements (the maps of real and of restored audio "
            "need not be the same size), then add the two terms.",
            symptom=_summed,
        ),
        Diagnostic(
            _log_losses,
            "You used the log loss (binary cross-entropy) of the original GAN. The least-"
            "squares GAN replaces it with squares: the squared distance of each score from its "
            "target, averaged. Its scores are not probabilities, so a log of them can even be "
            "undefined.",
            symptom=_log_loss,
        ),
    ],
    "Each player wants the scores at a target: the discriminator wants real audio scored 1 "
    "and restored audio 0, the generator wants restored audio scored 1. Measure how far each "
    "score is from its target, squared, averaged over the map.",
    outputs=("discriminator_loss", "generator_loss"),
)


# ----- 11.wiener_gain -----


def _powers(g: torch.Generator, shape: tuple, noise_shape: tuple, spread: float, shift: float):
    """Noise powers and noisy powers around them: the ratio log-normal, some below 1."""
    noise = _uniform(g, 0.2, 2.0, *noise_shape)
    return noise * torch.exp(shift + spread * _randn(g, *shape)), noise


def _wiener_cases(g: torch.Generator) -> list[tuple]:
    ratios = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 11.0, 101.0, 1e4])  # xi = ratio - 1
    exact = 0.7 * torch.ones(9)
    return [
        (*_powers(g, (129, 20), (129, 1), 1.5, 0.5), -20.0),  # one noise power per frequency
        (*_powers(g, (40, 10), (40, 10), 1.0, 0.3), -15.0),
        (*_powers(g, (33,), (33,), 2.0, 0.0), -25.0),
        (exact * ratios, exact, -10.0),  # noise only, equal powers, 2x, 101x, ...
        (*_powers(g, (17, 5), (17, 1), 0.5, -1.5), -20.0),  # below the noise everywhere
        (*_powers(g, (2, 65, 8), (65, 1), 1.5, 1.0), -40.0),  # a batch, a deep floor
        (*_powers(g, (24, 6), (24, 1), 0.5, 6.0), -20.0),  # speech far above the noise
        (*_powers(g, (30, 4), (30, 4), 1.0, 0.5), 0.0),  # a 0 dB floor: every gain 1
    ]


def _wiener(noisy_power, noise_power, floor, wiener=True, clip=True):
    xi = noisy_power / noise_power - 1
    xi = xi.clamp(min=0) if clip else xi
    gain = xi / (1 + xi) if wiener else xi
    return gain if floor is None else gain.clamp(min=floor)


def _returned_snr(args, got, expected) -> bool:
    noisy_power, noise_power, floor_db = args
    xi = _wiener(noisy_power, noise_power, None, wiener=False)
    above_one = bool((torch.as_tensor(got) > 1 + 1e-4).any())  # a gain never exceeds 1
    return above_one and (_close(got, xi) or _close(got, xi.clamp(min=10 ** (floor_db / 20))))


def _negative(args, got, expected) -> bool:
    return bool((torch.as_tensor(got) < 0).any())


register(
    "11.wiener_gain",
    wiener_gain,
    _wiener_cases,
    [
        Diagnostic(
            lambda noisy, noise, floor_db: _wiener(noisy, noise, 10 ** (floor_db / 20), False),
            "Some of your gains exceed 1: you returned the a-priori SNR xi itself. The Wiener "
            "gain is the fraction of the power that is speech, xi / (1 + xi), between 0 and 1.",
            symptom=_returned_snr,
        ),
        (
            lambda noisy, noise, floor_db: _wiener(noisy, noise, None),
            "Your gains go all the way down to 0: floor them at floor_db, so that no bin is "
            "silenced completely (deep gains take speech away with the noise and leave "
            "musical noise).",
        ),
        (
            lambda noisy, noise, floor_db: _wiener(noisy, noise, 10 ** (floor_db / 10)),
            "Your floor is a power ratio (dB / 10); the gain multiplies the STFT's amplitudes, "
            "so its dB are 20 log10: a floor of -20 dB is a gain of 0.1, not 0.01.",
        ),
        Diagnostic(
            lambda noisy, noise, floor_db: _wiener(noisy, noise, None, clip=False),
            "Some of your gains are negative: where the noisy power is below the noise power, "
            "power subtraction gives a negative SNR. No speech is there: clip the a-priori "
            "SNR at 0 (and floor the gain).",
            symptom=_negative,
        ),
    ],
    "Estimate each bin's speech-to-noise power ratio from how far the noisy power exceeds "
    "the noise (it cannot be negative), turn it into a gain between 0 and 1, and keep the "
    "gain above the floor, given in dB of amplitude.",
    outputs=("gain",),
)
