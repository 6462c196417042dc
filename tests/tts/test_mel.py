"""Tests for course_utils.tts.mel and .vocoder: the normalisation, and Griffin-Lim round trips."""

import math

import pytest
import torch

from course_utils.data import Voice, synthesize
from course_utils.tts.mel import MelSettings, db_to_mel, mel_frames, mel_target, mel_to_db
from course_utils.tts.vocoder import GriffinLimVocoder, mel_to_waveform

SETTINGS = MelSettings()


@pytest.fixture(scope="module")
def speech() -> torch.Tensor:
    """A real (eSpeak) sentence at 16 kHz, as the corpus makes them."""
    return torch.from_numpy(synthesize("turn on the kitchen lights", Voice(), 16_000))


def test_normalisation_round_trip_and_fixed_points():
    db = torch.tensor([-80.0, -40.0, 0.0, 20.0])
    assert db_to_mel(db).tolist() == [-1.0, 0.0, 1.0, 1.5]
    torch.testing.assert_close(mel_to_db(db_to_mel(db)), db)
    assert db_to_mel(torch.tensor([-100.0])).item() == -1.0  # floored at min_db


def test_mel_target_shape_and_range(speech):
    mel = mel_target(speech)
    assert mel.shape == (80, mel_frames(len(speech)))
    assert mel.min() >= -1.0 and 1.0 < mel.max() < 2.0  # speech peaks above 0 dB
    assert mel_target(torch.zeros(2, 4000)).shape == (2, 80, 16)
    assert (mel_target(torch.zeros(4000)) == -1).all()  # silence sits on the floor


def test_griffin_lim_gives_the_expected_length():
    mel = torch.full((2, 80, 25), -1.0)
    waveform = mel_to_waveform(mel, n_iter=2)
    assert waveform.shape == (2, 24 * SETTINGS.hop_length)  # (frames - 1) * hop_length
    assert mel_to_waveform(mel[0], n_iter=2).shape == (24 * SETTINGS.hop_length,)


def test_griffin_lim_of_speech_gives_back_a_close_mel(speech):
    mel = mel_target(speech)
    heard = mel_to_waveform(mel)
    assert len(heard) == (mel.shape[1] - 1) * SETTINGS.hop_length
    again = mel_target(heard)
    frames = min(mel.shape[1], again.shape[1])
    error_db = (mel_to_db(mel[:, :frames]) - mel_to_db(again[:, :frames])).abs().mean().item()
    assert error_db < 4.0  # about 2.7 dB measured (32 iterations)
    # ... and far closer than another sentence of the same voice is.
    other = mel_target(torch.from_numpy(synthesize("stop the music", Voice(), 16_000)))
    n = min(frames, other.shape[1])
    other_db = (mel_to_db(mel[:, :n]) - mel_to_db(other[:, :n])).abs().mean().item()
    assert error_db < other_db / 2
    assert math.isclose(heard.abs().max().item(), speech.abs().max().item(), rel_tol=0.5)


def test_a_mel_of_other_settings_is_refused():
    with pytest.raises(ValueError, match="n_mels=80"):
        mel_to_waveform(torch.zeros(40, 10))
    with pytest.raises(ValueError, match="n_mels=40"):
        GriffinLimVocoder(MelSettings(n_mels=40))(torch.zeros(1, 80, 10))
    with pytest.raises(ValueError, match="min_db"):
        MelSettings(min_db=10.0)
