"""A different slice of the training data in every process, when `fit` runs under `torchrun`.

A `DataLoader` is rebuilt with a `DistributedSampler` (every setting copied); any other
iterable of batches with a length is split batch by batch (`shard_batches`). Every process
then takes the same number of steps, and `set_epoch` reshuffles each epoch. Outside torchrun
the loader comes back unchanged.

Notebook: 06_audio_classification.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from torch.utils.data import (
    DataLoader,
    DistributedSampler,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
)

from .distributed import is_distributed, rank, world_size

__all__ = ["distribute_loader", "set_epoch", "shard_batches"]


def distribute_loader(loader: Iterable, seed: int = 0) -> Iterable:
    """Give each process its own part of the training batches.

    A DataLoader is rebuilt with the same dataset, batch_size, collate_fn, workers and so on,
    and a DistributedSampler: each process loads 1/world_size of the examples, `batch_size` at
    a time (so a step sees world_size x batch_size examples). Its shuffling must be the
    loader's own (``shuffle=True`` or False); call `set_epoch` before each epoch to reshuffle.
    Any other iterable with a length is split by `shard_batches`.

    Args:
        loader: a DataLoader, or a sized iterable of batches (e.g. a list) that yields the
            same batches in the same order in every process (seed any shuffling).
        seed: the DistributedSampler's shuffling seed; the same in every process.

    Returns:
        the loader for this process; `loader` itself outside torchrun, or when it already
        has a DistributedSampler.

    Raises:
        TypeError: a loader that cannot be split (a custom sampler or batch_sampler, an
            IterableDataset, or an iterable without a length); the message says what fits.
    """
    if not is_distributed():
        return loader
    if isinstance(loader, DataLoader):
        return _with_distributed_sampler(loader, seed)
    if not hasattr(loader, "__len__"):
        raise TypeError(
            f"cannot split a {type(loader).__name__} across processes: expected a DataLoader"
            " or an iterable of batches with a length (e.g. a list)"
        )
    return shard_batches(loader)


def _with_distributed_sampler(loader: DataLoader, seed: int) -> DataLoader:
    if isinstance(loader.sampler, DistributedSampler):
        return loader
    expected = (
        "expected a DataLoader over a map-style dataset with batch_size and shuffle=True or"
        " False, whose sampler can be replaced by a DistributedSampler"
    )
    if isinstance(loader.dataset, IterableDataset):
        raise TypeError(f"{expected}; got an IterableDataset: split it by rank() inside it")
    if loader.batch_size is None and loader.batch_sampler is not None:
        name = type(loader.batch_sampler).__name__
        raise TypeError(f"{expected}; got a custom batch_sampler ({name})")
    sampler = loader.sampler
    shuffle = type(sampler) is RandomSampler
    if not shuffle and type(sampler) is not SequentialSampler:
        raise TypeError(f"{expected}; got a custom sampler ({type(sampler).__name__})")
    if shuffle and (sampler.replacement or sampler.num_samples != len(loader.dataset)):
        raise TypeError(f"{expected}; got a RandomSampler with replacement or num_samples")
    return DataLoader(
        loader.dataset,
        batch_size=loader.batch_size,
        sampler=DistributedSampler(
            loader.dataset, num_replicas=world_size(), rank=rank(), shuffle=shuffle, seed=seed
        ),
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        drop_last=loader.drop_last,
        timeout=loader.timeout,
        worker_init_fn=loader.worker_init_fn,
        multiprocessing_context=loader.multiprocessing_context,
        generator=loader.generator,
        prefetch_factor=loader.prefetch_factor,
        persistent_workers=loader.persistent_workers,
        pin_memory_device=loader.pin_memory_device,
        in_order=loader.in_order,
    )


class _Shard:
    """Every `parts`-th batch of `batches`, starting at `part`; re-iterable like a loader."""

    def __init__(self, batches: Iterable, part: int, parts: int):
        self.batches, self.part, self.parts = batches, part, parts
        self.steps = len(batches) // parts

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator:
        return itertools.islice(self.batches, self.part, self.steps * self.parts, self.parts)


def shard_batches(batches: Iterable, part: int | None = None, parts: int | None = None) -> Iterable:
    """Process `part` of `parts` takes batches part, part + parts, part + 2 parts, ...

    Every process must take the same number of steps (each step averages gradients across
    all of them), so the last ``len(batches) % parts`` batches are left out; a loader that
    reshuffles every epoch leaves out different ones each time.

    Args:
        batches: a sized, re-iterable sequence of batches, the same in every process.
        part: this process (default: `rank()`).
        parts: the number of processes (default: `world_size()`).

    Returns:
        a re-iterable of ``len(batches) // parts`` batches.

    Raises:
        ValueError: fewer batches than processes, or `part` not in [0, parts).

    Example:
        >>> list(shard_batches(range(10), part=1, parts=3))
        [1, 4, 7]
    """
    part = rank() if part is None else part
    parts = world_size() if parts is None else parts
    if not 0 <= part < parts:
        raise ValueError(f"part must be in [0, {parts}), got {part}")
    if len(batches) < parts:
        raise ValueError(f"{len(batches)} batch(es) cannot be split across {parts} processes")
    return _Shard(batches, part, parts)


def set_epoch(loader: Iterable, epoch: int) -> None:
    """Tell a DistributedSampler the epoch, so that its shuffling changes from epoch to epoch."""
    sampler = getattr(loader, "sampler", None)
    if is_distributed() and isinstance(sampler, DistributedSampler):
        sampler.set_epoch(epoch)
