"""SpecAugment: frequency and time masking of log-mel features (Park et al., 2019).

SpecAugment hides random bands of mel bins and random spans of frames while a model trains,
so that it cannot lean on any one band or moment and must use the whole spectrogram; it is
cheap (no audio is touched) and it is the augmentation lesson 06's classifiers train with.

Following Park et al. (2019, section 2): each frequency mask covers f consecutive mel bins
[f0, f0 + f), with f drawn uniformly from {0, ..., F} and f0 from {0, ..., n_mels - f}; each
time mask covers t consecutive frames, t uniform in {0, ..., min(T, floor(p * frames))}, where
`frames` counts the example's *valid* frames. Masked cells get one constant: the example's
mean (the paper fills with 0 on features normalised to mean 0, which is the same thing) or
zero. torchaudio's `FrequencyMasking` / `TimeMasking` do the same with widths drawn from
{0, ..., F - 1}; its `p` argument is our `max_time_fraction`.

Features keep torchaudio's layout (batch, n_mels, frames); masks are boolean tensors of the
same shape, True = masked (as `padding_mask` is True = padding). Padding frames are never
masked nor filled.

Notebook: 05_audio_features_and_data (section "SpecAugment"); used by 06_audio_classification.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..core import check_integer, check_number

__all__ = ["SpecAugmentConfig", "SpecAugment", "spec_augment", "spec_augment_mask"]

_FILLS = ("mean", "zero")


@dataclass(frozen=True)
class SpecAugmentConfig:
    """How many masks of which widths; presets `none()`, `light()` and `default()`.

    Widths are maxima: each mask's width is drawn uniformly from 0 up to them, inclusive.
    The defaults suit 40 mel bins at a 10 ms hop (a 1 s word is 101 frames); Park et al.'s
    LibriSpeech policies (F = 27 of 80 bins, T = 100 frames) are for long utterances.
    """

    freq_masks: int = 2  # frequency masks per example (m_F in Park et al. 2019)
    freq_width: int = 8  # maximum width of each, in mel bins (F)
    time_masks: int = 2  # time masks per example (m_T)
    time_width: int = 10  # maximum width of each, in frames (T)
    max_time_fraction: float = 0.2  # a time mask covers at most this share of valid frames (p)
    fill: str = "mean"  # "mean" (each example's mean over its valid cells) or "zero"

    def __post_init__(self) -> None:
        for name in ("freq_masks", "freq_width", "time_masks", "time_width"):
            check_integer(getattr(self, name), name, minimum=0)
        fraction = check_number(self.max_time_fraction, "max_time_fraction")
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"max_time_fraction must be in (0, 1], got {fraction!r}")
        if self.fill not in _FILLS:
            raise ValueError(f"fill must be one of {_FILLS}, got {self.fill!r}")

    @classmethod
    def none(cls) -> SpecAugmentConfig:
        """No masks at all: `spec_augment` returns an unchanged copy."""
        return cls(freq_masks=0, time_masks=0)

    @classmethod
    def light(cls) -> SpecAugmentConfig:
        """One narrow mask of each kind: for small models or little data."""
        return cls(freq_masks=1, freq_width=4, time_masks=1, time_width=5)

    @classmethod
    def default(cls) -> SpecAugmentConfig:
        """Two masks of each kind (the class defaults): what lesson 06 starts from."""
        return cls()

    @property
    def is_identity(self) -> bool:
        """True when no cell can ever be masked."""
        no_freq = self.freq_masks == 0 or self.freq_width == 0
        no_time = self.time_masks == 0 or self.time_width == 0
        return no_freq and no_time


def _check_inputs(
    features: torch.Tensor, lengths: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """Validate; return features as (batch, n_mels, frames), lengths (batch,) and whether
    the input was unbatched."""
    if not isinstance(features, torch.Tensor):
        raise TypeError(f"features must be a torch tensor, got {type(features).__name__}")
    if features.ndim not in (2, 3):
        raise ValueError(
            f"features must have shape (batch, n_mels, frames) or (n_mels, frames), "
            f"got {tuple(features.shape)}"
        )
    if not features.is_floating_point():
        raise ValueError(f"features must be floating point (log-mel in dB), got {features.dtype}")
    if features.numel() == 0:
        raise ValueError(f"features are empty: shape {tuple(features.shape)}")
    if not torch.isfinite(features).all():
        raise ValueError(
            "features contain NaN or inf; take the log with a floor (e.g. LogMel's top_db, "
            "or log(x + 1e-10)) before masking"
        )
    unbatched = features.ndim == 2
    batch = features.unsqueeze(0) if unbatched else features  # (batch, n_mels, frames)
    n_batch, _, frames = batch.shape
    if lengths is None:
        return batch, torch.full((n_batch,), frames, device=features.device), unbatched
    lengths = torch.as_tensor(lengths, device=features.device)
    if lengths.is_floating_point() or lengths.dtype == torch.bool or lengths.is_complex():
        raise ValueError(f"lengths must hold integer frame counts, got dtype {lengths.dtype}")
    if lengths.numel() != n_batch or lengths.ndim > 1:
        raise ValueError(
            f"lengths must have shape (batch,) = ({n_batch},), one count of valid frames per "
            f"example, got {tuple(lengths.shape)}"
        )
    lengths = lengths.reshape(n_batch)
    if (lengths < 1).any() or (lengths > frames).any():
        raise ValueError(
            f"lengths must be between 1 and frames = {frames}, got {lengths.tolist()} "
            "(are they sample counts? convert with features.frame_lengths)"
        )
    return batch, lengths.to(torch.int64), unbatched


def _band_mask(
    count: int, max_width: torch.Tensor, size: torch.Tensor, axis_size: int,
    generator: torch.Generator | None, device: torch.device,
) -> torch.Tensor:  # fmt: skip
    """`count` random bands per example along an axis: bool (batch, axis_size), True = masked.

    Example b draws widths uniformly from {0, ..., max_width[b]} and starts uniformly from
    {0, ..., size[b] - width}, so every band lies inside the first size[b] positions.
    """
    n_batch = size.shape[0]
    draw_device = generator.device if generator is not None else device
    u_width = torch.rand(n_batch, count, generator=generator, device=draw_device).to(device)
    u_start = torch.rand(n_batch, count, generator=generator, device=draw_device).to(device)
    max_width, size = max_width[:, None], size[:, None]  # (batch, 1)
    # floor(u * (n + 1)) is uniform on {0, ..., n}; the clamp guards against u rounding to 1.
    widths = torch.minimum((u_width * (max_width + 1)).long(), max_width)  # (batch, count)
    room = size - widths  # last allowed start
    starts = torch.minimum((u_start * (room + 1)).long(), room)  # (batch, count)
    positions = torch.arange(axis_size, device=device)  # (axis,)
    starts, ends = starts[..., None], (starts + widths)[..., None]  # (batch, count, 1)
    inside = (positions >= starts) & (positions < ends)  # (batch, count, axis)
    return inside.any(dim=1)  # (batch, axis)


def _draw_mask(
    batch: torch.Tensor, lengths: torch.Tensor, config: SpecAugmentConfig,
    generator: torch.Generator | None,
) -> torch.Tensor:  # fmt: skip
    """Masks for validated (batch, n_mels, frames) features: bool, same shape, True = masked."""
    n_batch, n_mels, frames = batch.shape
    device = batch.device
    valid = torch.arange(frames, device=device) < lengths[:, None]  # (batch, frames)
    freq = torch.zeros(n_batch, n_mels, dtype=torch.bool, device=device)
    time = torch.zeros(n_batch, frames, dtype=torch.bool, device=device)
    if config.freq_masks > 0:
        max_width = torch.full((n_batch,), min(config.freq_width, n_mels), device=device)
        size = torch.full((n_batch,), n_mels, device=device)
        freq = _band_mask(config.freq_masks, max_width, size, n_mels, generator, device)
    if config.time_masks > 0:
        # Park et al.: t <= p * tau, with tau the example's own length (its valid frames).
        cap = torch.floor(lengths.double() * config.max_time_fraction).long()
        max_width = torch.clamp(cap, max=config.time_width)
        time = _band_mask(config.time_masks, max_width, lengths, frames, generator, device)
    return (freq[:, :, None] | time[:, None, :]) & valid[:, None, :]  # (batch, n_mels, frames)


def _check_config(config: SpecAugmentConfig) -> None:
    if not isinstance(config, SpecAugmentConfig):
        raise TypeError(f"config must be a SpecAugmentConfig, got {type(config).__name__}")


def spec_augment_mask(
    features: torch.Tensor,
    config: SpecAugmentConfig = SpecAugmentConfig(),
    lengths: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw SpecAugment's masks: which cells `spec_augment` would fill, True = masked.

    Args:
        features: (batch, n_mels, frames) or (n_mels, frames); only its shape, device and
            validity are used.
        config: numbers and maximum widths of the masks (default `SpecAugmentConfig()`).
        lengths: (batch,) valid frames per example (None: every frame is valid). Time
            masks stay inside the valid frames; padding frames are never masked.
        generator: source of randomness (None: torch's global generator). Draws happen on
            the generator's device, so a CPU generator gives the same masks on any device.

    Returns:
        bool tensor of the features' shape: frequency bands (whole rows over the valid
        frames) and time spans (whole columns), drawn independently for each example.
        `spec_augment` with the same generator state fills exactly these cells.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> mask = spec_augment_mask(torch.zeros(2, 40, 101), generator=g)
        >>> mask.shape, mask.dtype
        (torch.Size([2, 40, 101]), torch.bool)

    Notebook: 05_audio_features_and_data.
    """
    _check_config(config)
    batch, lengths, unbatched = _check_inputs(features, lengths)
    mask = _draw_mask(batch, lengths, config, generator)  # (batch, n_mels, frames)
    return mask[0] if unbatched else mask


def spec_augment(
    features: torch.Tensor,
    config: SpecAugmentConfig = SpecAugmentConfig(),
    lengths: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Mask random frequency bands and time spans of each example (Park et al., 2019).

    Args:
        features: (batch, n_mels, frames) or (n_mels, frames), e.g. log-mel in dB.
        config: numbers and maximum widths of the masks, and the fill (default
            `SpecAugmentConfig()`; `SpecAugmentConfig.none()` masks nothing).
        lengths: (batch,) valid frames per example, e.g. from `features.frame_lengths`
            (None: all frames are valid). Time masks stay inside the valid frames, padding
            is never filled, and the "mean" fill averages the valid cells only.
        generator: source of randomness (None: torch's global generator); the same
            generator state gives the same masks.

    Returns:
        a new tensor of the input's shape, dtype and device (the input is untouched).
        Masked cells hold the example's mean (detached: a constant, so gradients reach
        exactly the unmasked cells) or zero.

    Example:
        >>> x = torch.randn(4, 40, 101)
        >>> g = torch.Generator().manual_seed(0)
        >>> y = spec_augment(x, SpecAugmentConfig.light(), generator=g)
        >>> y.shape, bool((y != x).any())
        (torch.Size([4, 40, 101]), True)

    Notebook: 05_audio_features_and_data.
    """
    _check_config(config)
    batch, lengths, unbatched = _check_inputs(features, lengths)  # (batch, n_mels, frames)
    mask = _draw_mask(batch, lengths, config, generator)
    if config.fill == "zero":
        fill = torch.zeros((), device=batch.device, dtype=batch.dtype)
    else:
        # Sum in float32 at least: a float16 sum of a few thousand dB values overflows.
        work = torch.promote_types(batch.dtype, torch.float32)
        valid = torch.arange(batch.shape[-1], device=batch.device) < lengths[:, None]
        valid = valid[:, None, :].to(work)  # (batch, 1, frames)
        total = (batch.detach().to(work) * valid).sum(dim=(1, 2), keepdim=True)  # (batch, 1, 1)
        count = valid.sum(dim=(1, 2), keepdim=True) * batch.shape[1]  # valid cells per example
        fill = (total / count).to(batch.dtype)  # (batch, 1, 1)
    out = torch.where(mask, fill, batch)  # a new tensor; the input stays as it was
    return out[0] if unbatched else out


class SpecAugment(nn.Module):
    """SpecAugment as a layer: masks in training mode, the identity in eval mode.

    Put it after the feature extractor and before the model, so evaluation sees clean
    features: ``nn.Sequential(LogMel(), SpecAugment(), model)`` (with `lengths` passed
    separately when batches are padded). Randomness comes from torch's global generator,
    so `course_utils.set_seed` makes training runs repeatable.

    Args:
        config: numbers and widths of the masks (default `SpecAugmentConfig()`).

    Shapes:
        features (batch, n_mels, frames) or (n_mels, frames) -> the same shape.

    Example:
        >>> layer = SpecAugment(SpecAugmentConfig.light()).eval()
        >>> x = torch.randn(2, 40, 101)
        >>> layer(x) is x
        True

    Notebook: 05_audio_features_and_data (and 06_audio_classification).
    """

    def __init__(self, config: SpecAugmentConfig = SpecAugmentConfig()) -> None:
        super().__init__()
        _check_config(config)
        self.config = config

    def forward(self, features: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Masked copy of `features` in training mode; `features` itself in eval mode."""
        if not self.training:
            return features
        return spec_augment(features, self.config, lengths)

    def extra_repr(self) -> str:
        return repr(self.config)
