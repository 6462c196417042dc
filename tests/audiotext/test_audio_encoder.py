"""Lesson 13's audio side: waveforms to a batch, and an encoder of local frames."""

import math

import numpy as np
import pytest
import torch

from course_utils.audiotext import (
    HOP_SECONDS,
    AudioEncoder,
    make_utterances,
    output_lengths,
    prepare_audio,
)

torch.set_num_threads(1)


def test_prepare_audio_resamples_8_khz_to_16_khz():
    tone = np.sin(2 * np.pi * 440 * np.arange(8000) / 8000).astype(np.float32)
    batch, lengths = prepare_audio(tone, sample_rate=8000)
    assert batch.shape == (1, 16_000) and batch.dtype == torch.float32
    assert lengths.tolist() == [16_000]
    # the tone survives: its spectrum peaks at 440 Hz (1 Hz bins over one second)
    assert int(torch.fft.rfft(batch[0]).abs().argmax()) == 440


def test_prepare_audio_pads_with_zeros_and_reports_lengths():
    long, short = np.full(6000, 0.5, np.float32), np.full(2000, -0.25, np.float32)
    batch, lengths = prepare_audio([long, torch.from_numpy(short)])
    assert batch.shape == (2, 6000) and lengths.tolist() == [6000, 2000]
    assert torch.all(batch[0] == 0.5)
    assert torch.all(batch[1, :2000] == -0.25) and torch.all(batch[1, 2000:] == 0)


@pytest.mark.parametrize(
    "waveforms, match",
    [
        (np.zeros(0, np.float32), "waveform 0 is empty"),
        (np.array([0.1, np.nan] * 1000, np.float32), "NaN or infinite"),
        ([], "at least one waveform"),
        ([np.zeros(4000, np.float32), np.zeros(1000, np.float32)], "waveform 1 lasts 0.062 s"),
    ],
)
def test_prepare_audio_rejects_unusable_audio(waveforms, match):
    with pytest.raises(ValueError, match=match):
        prepare_audio(waveforms)


def test_prepare_audio_names_the_minimum_duration():
    with pytest.raises(ValueError, match="needs at least 0.08 s"):
        prepare_audio(np.zeros(1279, np.float32))
    batch, _ = prepare_audio(np.zeros(1280, np.float32))  # exactly the minimum is accepted
    assert batch.shape == (1, 1280)


def test_output_lengths_follow_the_two_stride_2_convolutions():
    samples = torch.tensor([1280, 16_000, 16_159, 16_160, 37_630])
    frames = 1 + samples // 160
    expected = [math.ceil(math.ceil(f / 2) / 2) for f in frames.tolist()]
    assert output_lengths(samples).tolist() == expected == [3, 26, 26, 26, 59]


def test_encoder_shapes_and_padding_mask_agree_with_output_lengths():
    torch.manual_seed(0)
    encoder = AudioEncoder(d_model=16, blocks=1).eval()
    samples = torch.tensor([16_000, 9000, 1280])
    waves = 0.1 * torch.randn(3, 16_000)
    with torch.no_grad():
        frames, padding = encoder(waves, samples)
    valid = output_lengths(samples)
    assert frames.shape == (3, int(valid.max()), 16) and padding.shape == (3, int(valid.max()))
    assert padding.dtype == torch.bool
    assert (~padding).sum(dim=1).tolist() == valid.tolist()
    for row, n in enumerate(valid.tolist()):
        assert not padding[row, :n].any() and padding[row, n:].all()
        assert torch.all(frames[row, n:] == 0)
        assert frames[row, :n].abs().sum(dim=-1).min() > 0


def _alone_and_batched(encoder, short, long):
    """Frames of `short` encoded alone, and encoded zero-padded beside `long`."""
    batch = torch.zeros(2, long.numel())
    batch[0, : short.numel()], batch[1] = short, long
    with torch.no_grad():
        alone, _ = encoder(short[None], torch.tensor([short.numel()]))
        batched, _ = encoder(batch, torch.tensor([short.numel(), long.numel()]))
    return alone[0], batched[0, : alone.shape[1]]


def test_padding_leaves_an_utterance_frames_unchanged_away_from_its_end():
    torch.manual_seed(0)
    encoder = AudioEncoder(d_model=16, blocks=1).eval()  # batch norm: running statistics
    test = make_utterances("commands", "test", 6, use_cache=False)
    order = np.argsort([test.waveform(i).size for i in range(len(test))])
    short, long = (torch.from_numpy(test.waveform(int(i))) for i in (order[0], order[-1]))
    assert short.numel() < long.numel()
    alone, batched = _alone_and_batched(encoder, short, long)
    assert alone.shape[0] == int(output_lengths(torch.tensor(short.numel())))
    edge = math.ceil(encoder.receptive_field / 2 / HOP_SECONDS) + 1  # frames that hear the end
    assert torch.allclose(alone[:-edge], batched[:-edge], atol=1e-4)


def test_padding_leaves_every_valid_frame_unchanged():
    torch.manual_seed(0)
    encoder = AudioEncoder(d_model=16, blocks=1).eval()
    g = torch.Generator().manual_seed(1)
    short, long = 0.3 * torch.randn(16_000, generator=g), 0.3 * torch.randn(40_000, generator=g)
    alone, batched = _alone_and_batched(encoder, short, long)
    assert torch.allclose(alone, batched, atol=1e-4)


@pytest.mark.parametrize("kernel, blocks", [(5, 3), (3, 1), (7, 0)])
def test_receptive_field_is_13_input_frames_plus_4_per_kernel_step(kernel, blocks):
    encoder = AudioEncoder(d_model=8, blocks=blocks, kernel=kernel)
    assert encoder.receptive_field == pytest.approx((13 + 4 * (kernel - 1) * blocks) * 0.01)
    if (kernel, blocks) == (5, 3):
        assert encoder.receptive_field == pytest.approx(0.61)
    assert AudioEncoder(d_model=8).receptive_field == pytest.approx(0.37)  # the default


def test_a_click_changes_only_the_frames_within_the_receptive_field():
    torch.manual_seed(0)
    encoder = AudioEncoder(d_model=8, blocks=2, kernel=5).eval()
    g = torch.Generator().manual_seed(0)
    quiet = 0.01 * torch.randn(1, 48_000, generator=g)  # 3 s
    click = quiet.clone()
    click[0, 24_000:24_016] += 0.5  # at 1.5 s
    samples = torch.tensor([48_000])
    with torch.no_grad():
        before, _ = encoder(quiet, samples)
        after, _ = encoder(click, samples)
    changed = (after[0] - before[0]).abs().amax(dim=-1) > 1e-5  # (T,)
    times = torch.arange(changed.numel()) * HOP_SECONDS  # frame t is centred at t * 0.04 s
    reach = encoder.receptive_field / 2 + 400 / 2 / 16_000  # half the field, half a window
    assert changed[round(1.5 / HOP_SECONDS)]
    assert not changed[(times - 1.5).abs() > reach + 1e-6].any()
    assert changed[(times - 1.5).abs() <= 0.1].all()


@pytest.mark.parametrize("kwargs", [{"kernel": 4}, {"d_model": 0}, {"blocks": -1}])
def test_encoder_rejects_bad_sizes(kwargs):
    with pytest.raises(ValueError, match="odd kernel"):
        AudioEncoder(**kwargs)
