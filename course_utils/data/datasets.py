"""Torch datasets over the course corpus, and a collate function that pads and keeps lengths.

A batch of speech has utterances of different lengths. `collate_padded` pads them with
zeros to the longest and returns `lengths`, so that models can build a padding mask
(True = padding) and never attend to the zeros.

Notebook: 00_welcome_and_setup (section "The corpus"), used from lesson 02 on.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.utils.data import Dataset

from ..core import pad_batch

__all__ = ["SpeechDataset", "collate_padded"]


class SpeechDataset(Dataset):
    """Items of one corpus split as tensors.

    Args:
        split: a `CorpusSplit` (e.g. ``corpus["train"]``).
        transform: optional function applied to each waveform tensor (time,), e.g. a
            feature extractor; its output replaces the waveform.

    Each item is a dict: ``waveform`` float32 (time,) (or the transform's output),
    ``length`` (samples, before any transform), ``label`` (int, -1 for sentences),
    ``text`` (the transcript) and ``voice`` (the speaker variant).
    """

    def __init__(self, split, transform: Callable[[torch.Tensor], torch.Tensor] | None = None):
        self.split = split
        self.transform = transform

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for a split of {len(self)} items")
        waveform = torch.from_numpy(self.split.waveform(index))
        item = self.split.items[index]
        return {
            "waveform": self.transform(waveform) if self.transform else waveform,
            "length": waveform.shape[-1],
            "label": item["label"],
            "text": item["text"],
            "voice": item["voice_variant"],
        }


def collate_padded(batch: list[dict]) -> dict:
    """Stack a list of items into a batch, zero-padding the last axis to the longest.

    Args:
        batch: items from `SpeechDataset` (waveforms (time,) or features (..., frames)).

    Returns:
        dict with ``waveform`` (batch, time) or (batch, ..., frames_max), ``lengths`` (batch,)
        long: the unpadded size of the last axis of each item, ``labels`` (batch,) long,
        ``texts`` and ``voices`` lists.

    Example:
        >>> items = [{"waveform": torch.ones(3), "label": 0, "text": "a", "voice": "m1"},
        ...          {"waveform": torch.ones(5), "label": 1, "text": "b", "voice": "f2"}]
        >>> out = collate_padded(items)
        >>> out["waveform"].shape, out["lengths"].tolist()
        (torch.Size([2, 5]), [3, 5])
    """
    if not batch:
        raise ValueError("cannot collate an empty batch")
    padded, lengths = pad_batch([item["waveform"] for item in batch])
    return {
        "waveform": padded,
        "lengths": lengths,
        "labels": torch.tensor([item["label"] for item in batch], dtype=torch.long),
        "texts": [item["text"] for item in batch],
        "voices": [item["voice"] for item in batch],
    }
