"""Helpers that make the exercises' test inputs and recognise their symptoms (bank-private).

Notebook: 01_attention_as_weighted_average.
"""

from __future__ import annotations

import torch


def _randn(generator: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=generator)


def _sums_to_one(x: torch.Tensor, dim: int) -> bool:
    return bool(((x.detach().double().sum(dim) - 1).abs() < 1e-4).all())


def _random_mask(generator: torch.Generator, *shape: int) -> torch.Tensor:
    """A random mask (True = may attend) with at least one True per row."""
    mask = torch.rand(*shape, generator=generator) < 0.5
    keep = torch.randint(shape[-1], (*shape[:-1], 1), generator=generator)
    return mask.scatter(-1, keep, True)
