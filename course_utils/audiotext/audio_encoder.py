"""Audio in: waveforms to a batch, and an encoder from log-mel frames to local vectors.

- `prepare_audio`: one or more waveforms at any sample rate -> a padded (B, S) batch at the
  model's rate and the lengths, with clear errors for empty, silent-free-of-samples,
  non-finite or multi-channel audio;
- `AudioEncoder`: log-mel (the course's `LogMel`, lesson 05) -> two stride-2 convolutions
  (25 frames a second) -> `blocks` residual depthwise convolutions. It has no attention and
  no positions: each output frame describes about 0.4 s of sound around it (`receptive_field`)
  and nothing else, so where a model attends over these frames is where it listens.

Shapes: B batch, S samples, M mel bands, F input frames (100 a second), T output frames
(25 a second, 40 ms apart), E d_model.

Notebook: 13_multimodal_audio_text.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..audio import LogMel, resample
from ..core import check_sample_rate, check_waveform

__all__ = ["HOP_SECONDS", "AudioEncoder", "output_lengths", "prepare_audio"]

SAMPLE_RATE = 16_000
HOP_LENGTH = 160  # 10 ms input frames
HOP_SECONDS = 4 * HOP_LENGTH / SAMPLE_RATE  # 0.04 s between output frames


def prepare_audio(waveforms, sample_rate: int = SAMPLE_RATE) -> tuple[torch.Tensor, torch.Tensor]:
    """One waveform (S,) or a list of them, at `sample_rate` -> a zero-padded float32 batch
    (B, S') at 16 kHz and the samples of each (B,). Other rates are resampled (lesson 05);
    integer samples (int16 from a file) are scaled to [-1, 1).

    Example:
        >>> batch, lengths = prepare_audio([np.zeros(8000), np.ones(4000)], 8000)
        >>> batch.shape, lengths.tolist()
        (torch.Size([2, 16000]), [16000, 8000])
    """
    check_sample_rate(sample_rate)
    if isinstance(waveforms, (np.ndarray, torch.Tensor)):
        waveforms = [waveforms]
    if not len(waveforms):
        raise ValueError("expected at least one waveform, got an empty list")
    clips = []
    for i, wave in enumerate(waveforms):
        check_waveform(wave, name=f"waveform {i}")
        wave = np.asarray(wave)
        if np.issubdtype(wave.dtype, np.integer):  # e.g. int16 from a file: to [-1, 1)
            wave = wave / float(2 ** (8 * wave.dtype.itemsize - 1))
        clip = resample(torch.as_tensor(wave.astype(np.float32)), sample_rate, SAMPLE_RATE)
        if clip.numel() < 2 * HOP_LENGTH * 4:
            raise ValueError(
                f"waveform {i} lasts {clip.numel() / SAMPLE_RATE:.3f} s; "
                f"the model needs at least {8 * HOP_LENGTH / SAMPLE_RATE:.2f} s"
            )
        clips.append(clip)
    lengths = torch.tensor([c.numel() for c in clips])
    batch = torch.zeros(len(clips), int(lengths.max()))
    for i, clip in enumerate(clips):
        batch[i, : clip.numel()] = clip
    return batch, lengths


def output_lengths(samples: torch.Tensor) -> torch.Tensor:
    """Output frames of waveforms of `samples` samples: 1 + S // 160 input frames, then
    ceil(ceil(F / 2) / 2)."""
    frames = 1 + samples // HOP_LENGTH
    return ((frames + 1) // 2 + 1) // 2


class AudioEncoder(nn.Module):
    """Waveforms -> one vector per 40 ms, each describing only its neighbourhood.

    Args:
        d_model: features per output frame (E).
        blocks: residual depthwise-convolution blocks after the subsampling.
        kernel: their kernel, in output frames (odd).
        n_mels: mel bands of the front end.

    Shapes:
        waveforms (B, S), samples (B,) -> frames (B, T, E), padding mask (B, T) (True = padding).

    Example:
        >>> encoder = AudioEncoder(d_model=16)
        >>> frames, padding = encoder(torch.randn(2, 16000), torch.tensor([16000, 8000]))
        >>> frames.shape, padding.sum(dim=1).tolist()
        (torch.Size([2, 26, 16]), [0, 13])
    """

    def __init__(self, d_model: int = 128, blocks: int = 3, kernel: int = 3, n_mels: int = 40):
        super().__init__()
        if kernel % 2 == 0 or min(d_model, blocks + 1, kernel, n_mels) < 1:
            raise ValueError("need d_model >= 1, blocks >= 0, n_mels >= 1 and an odd kernel")
        self.d_model, self.kernel, self.blocks_count = d_model, kernel, blocks
        self.frontend = LogMel(SAMPLE_RATE, 400, HOP_LENGTH, n_mels, top_db=None)
        self.input_norm = nn.BatchNorm1d(n_mels)  # learns the dB scale of the features
        self.subsample = nn.Sequential(
            nn.Conv1d(n_mels, d_model, 5, stride=2, padding=2),
            nn.GELU(),
            nn.Conv1d(d_model, d_model, 5, stride=2, padding=2),
            nn.GELU(),
        )
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(blocks))
        self.depthwise = nn.ModuleList(
            nn.Conv1d(d_model, d_model, kernel, padding=kernel // 2, groups=d_model)
            for _ in range(blocks)
        )
        self.pointwise = nn.ModuleList(nn.Linear(d_model, d_model) for _ in range(blocks))
        self.norm = nn.LayerNorm(d_model)

    @property
    def receptive_field(self) -> float:
        """Seconds of audio one output frame depends on (0.37 s by default)."""
        frames = 13 + 4 * (self.kernel - 1) * self.blocks_count  # input frames (10 ms)
        return frames * HOP_LENGTH / SAMPLE_RATE

    def forward(
        self, waveforms: torch.Tensor, samples: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # Zeros after every clip, as its batch neighbours' padding gives it, so that a clip's
        # frames are the same alone and in a batch (the STFT would reflect a lone clip's end).
        padded = F.pad(waveforms, (0, self.frontend.n_fft // 2))
        features = self.frontend(padded)[..., : 1 + waveforms.shape[-1] // HOP_LENGTH]  # (B, M, F)
        valid = 1 + samples.to(features.device) // HOP_LENGTH  # input frames
        x = _zero_after(self.input_norm(features), valid)
        for conv, act in zip(self.subsample[0::2], self.subsample[1::2], strict=True):
            valid = (valid + 1) // 2
            x = _zero_after(act(conv(x)), valid)  # padding never leaks into the next layer
        x = x.transpose(1, 2)  # (B, T, E)
        padding = torch.arange(x.shape[1], device=x.device)[None, :] >= valid[:, None]  # (B, T)
        for norm, depthwise, pointwise in zip(
            self.norms, self.depthwise, self.pointwise, strict=True
        ):
            h = norm(x).masked_fill(padding[..., None], 0.0).transpose(1, 2)  # (B, E, T)
            x = x + pointwise(F.gelu(depthwise(h).transpose(1, 2)))  # (B, T, E)
        return self.norm(x).masked_fill(padding[..., None], 0.0), padding


def _zero_after(x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """(B, C, F) with every frame from valid[b] on set to zero."""
    frames = torch.arange(x.shape[-1], device=x.device)
    return x.masked_fill(frames >= valid[:, None, None], 0.0)
