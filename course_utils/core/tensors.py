"""Two small tensor helpers the package shares: back to numpy, and padding a batch.

- `to_numpy`: a tensor (on any device, with or without gradients) or an array-like as a numpy
  array, for plots, scipy and sed_eval;
- `pad_batch`: sequences of different lengths zero-padded along their last axis into one
  tensor, with their lengths (waveforms, features, token ids).

Shapes: B batch, T the padded last axis (samples, frames or tokens).

Notebook: 00_welcome_and_setup (section "The corpus": `collate_padded`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

__all__ = ["pad_batch", "to_numpy"]


def to_numpy(
    array: np.ndarray | torch.Tensor | Sequence, floating: torch.dtype | None = None
) -> np.ndarray:
    """A numpy array of `array`: tensors are detached and copied to the CPU first.

    Args:
        array: a torch tensor, a numpy array, or anything `np.asarray` takes.
        floating: cast floating-point *tensors* to this dtype first (e.g. ``torch.float32``);
            None (default) keeps their dtype, except bfloat16, which numpy lacks (float32).
            Arrays that are not tensors are never cast.

    Returns:
        the numpy array (a view of a CPU tensor's memory when no copy is needed).

    Example:
        >>> to_numpy(torch.ones(2, dtype=torch.bfloat16, requires_grad=True)).dtype
        dtype('float32')
    """
    if not isinstance(array, torch.Tensor):
        return np.asarray(array)
    array = array.detach().cpu()
    if array.is_floating_point():
        if floating is not None:
            array = array.to(floating)
        elif array.dtype == torch.bfloat16:
            array = array.float()
    return array.numpy()


def pad_batch(
    sequences: Sequence[torch.Tensor], min_length: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad tensors along their last axis to the longest and stack them.

    Args:
        sequences: tensors of one dtype whose shapes agree except in the last axis, e.g.
            waveforms (time,) or features (n_mels, frames).
        min_length: the padded length is at least this (default 0), e.g. 1 so that a batch
            of empty token sequences still has a column.

    Returns:
        padded (B, ..., T) with the first tensor's dtype and device, T = max(longest,
        `min_length`), and lengths (B,) int64: the unpadded size of each last axis.

    Example:
        >>> padded, lengths = pad_batch([torch.ones(3), torch.ones(5)])
        >>> padded.shape, lengths.tolist()
        (torch.Size([2, 5]), [3, 5])
    """
    if not sequences:
        raise ValueError("cannot pad an empty batch")
    leading = {tuple(t.shape[:-1]) for t in sequences}
    if len(leading) != 1:
        raise ValueError(f"items differ in shape before the last axis: {sorted(leading)}")
    lengths = torch.tensor([t.shape[-1] for t in sequences], dtype=torch.long)
    longest = max(int(lengths.max()), min_length)
    first = sequences[0]
    padded = first.new_zeros((len(sequences), *first.shape[:-1], longest))  # (B, ..., T)
    for i, sequence in enumerate(sequences):
        padded[i, ..., : sequence.shape[-1]] = sequence
    return padded, lengths
