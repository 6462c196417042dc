"""course_utils.codec.spectral: log magnitudes, Griffin-Lim, the spectral ends."""

import numpy as np
import torch

from course_utils.audio.quality import stoi
from course_utils.codec.losses import LogMagnitudeLoss
from course_utils.codec.spectral import griffin_lim, log_magnitude
from course_utils.data import synthesize

N_FFT, HOP = 640, 160


def test_griffin_lim_rebuilds_intelligible_speech_from_true_magnitudes():
    speech = torch.from_numpy(synthesize("turn on the kitchen lights", sample_rate=16000))
    speech = speech[: len(speech) // 320 * 320].float()
    window = torch.hann_window(N_FFT)
    log_mag = log_magnitude(speech[None], N_FFT, HOP, window)[..., :-1]
    rebuilt = griffin_lim(log_mag, N_FFT, HOP, window)[0]
    assert rebuilt.shape == speech.shape
    assert stoi(speech.numpy(), rebuilt.numpy(), 16000) > 0.95  # phase is new, words are not
    again = griffin_lim(log_mag, N_FFT, HOP, window)[0]
    assert torch.equal(rebuilt, again)  # zero-phase start: deterministic


def test_log_magnitude_loss_is_zero_on_the_truth_and_grows_with_error():
    wave = torch.randn(2, 1, 3200) * 0.1
    loss = LogMagnitudeLoss(N_FFT, HOP)
    target = loss.target(wave)
    assert target.shape == (2, N_FFT // 2 + 1, 20)
    assert float(loss(target, wave)) < 1e-5
    assert float(loss(target + 0.1, wave)) < float(loss(target + 1.0, wave))


def test_log_magnitude_floors_silence():
    silence = log_magnitude(torch.zeros(1, 1600), N_FFT, HOP, torch.hann_window(N_FFT))
    assert torch.isfinite(silence).all() and np.isclose(float(silence.max()), np.log(1e-5))
