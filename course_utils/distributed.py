"""Helpers that let one training script run as several processes under `torchrun`.

`torchrun --nproc_per_node=N script.py` starts N copies of a script and tells each one who it
is through environment variables: ``WORLD_SIZE`` (N), ``RANK`` (0 to N-1) and ``LOCAL_RANK``
(its GPU on this machine). Data parallelism then needs only four things, which `fit` does with
these helpers: a process group to talk through (`init_distributed`), a model whose gradients
are averaged across processes after every backward pass (`wrap_loss`, `wrap_model`), a
different slice of the training data in every process (`distributed_data.distribute_loader`),
and numbers that
every process agrees on (`average`, `broadcast_object`, `broadcast_buffers`).

Outside torchrun (a notebook, a plain ``python -m ...``) every helper is a no-op: one process,
the same objects back, the same numbers as if this module did not exist.

Notebook: 06_audio_classification.
"""

from __future__ import annotations

import atexit
import functools
import os
from collections.abc import Callable
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

__all__ = [
    "average",
    "broadcast_buffers",
    "broadcast_object",
    "check_all_parameters_trained",
    "init_distributed",
    "is_distributed",
    "is_main_process",
    "launched_by_torchrun",
    "local_device",
    "rank",
    "world_size",
    "wrap_loss",
    "wrap_model",
]

TORCHRUN_VARIABLES = ("WORLD_SIZE", "RANK", "LOCAL_RANK")
BACKENDS = {"cpu": "gloo", "cuda": "nccl"}  # NCCL is the fast GPU-to-GPU one; gloo runs on CPU


def launched_by_torchrun() -> bool:
    """Whether torchrun started this process (it sets WORLD_SIZE, RANK and LOCAL_RANK)."""
    return all(name in os.environ for name in TORCHRUN_VARIABLES)


def is_distributed() -> bool:
    """Whether a process group is running, so that the other helpers act (not only torchrun's)."""
    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    """The number of processes training together (1 outside torchrun).

    Known from torchrun's variables even before `init_distributed`, so a script can test
    `is_main_process()` before its first `fit`.
    """
    if is_distributed():
        return dist.get_world_size()
    return int(os.environ["WORLD_SIZE"]) if launched_by_torchrun() else 1


def rank() -> int:
    """This process's number, 0 to `world_size() - 1` (0 outside torchrun)."""
    if is_distributed():
        return dist.get_rank()
    return int(os.environ["RANK"]) if launched_by_torchrun() else 0


def is_main_process() -> bool:
    """Whether this process is rank 0, the one that shows progress and writes files."""
    return rank() == 0


def local_device(device: torch.device | str) -> torch.device:
    """This process's device: under torchrun, a CUDA device becomes ``cuda:LOCAL_RANK``.

    Every process is handed the same ``--device cuda``; each must take its own GPU, which
    torchrun numbers with LOCAL_RANK. Other devices, and any device outside torchrun, are kept.

    Args:
        device: e.g. "cpu", "cuda", "cuda:0" or a torch.device.

    Returns:
        the torch.device this process should use.

    Raises:
        RuntimeError: LOCAL_RANK names a GPU that this machine does not have.

    Example:
        >>> local_device("cpu")
        device(type='cpu')
    """
    device = torch.device(device)
    if device.type != "cuda" or not launched_by_torchrun():
        return device
    local_rank, available = int(os.environ["LOCAL_RANK"]), torch.cuda.device_count()
    if local_rank >= available:
        raise RuntimeError(
            f"LOCAL_RANK is {local_rank} but only {available} CUDA device(s) are visible;"
            f" launch at most {available} processes per machine (--nproc_per_node)"
        )
    return torch.device("cuda", local_rank)


def init_distributed(device: torch.device | str) -> torch.device:
    """Join the process group that torchrun set up (once per process); return the local device.

    The backend follows the device: gloo for "cpu", NCCL for "cuda". The group lives until
    the process exits, so `fit` can be called again (e.g. for a second model). Outside
    torchrun, or when a group already runs, nothing is initialised.

    Args:
        device: the device asked for, e.g. "cuda"; see `local_device`.

    Returns:
        this process's device (``cuda:LOCAL_RANK`` under torchrun on GPUs).

    Raises:
        ValueError: torchrun was asked to train on a device without a backend here (e.g. mps).

    Example:
        >>> init_distributed("cpu")  # outside torchrun: nothing to join
        device(type='cpu')
    """
    device = local_device(device)
    if not launched_by_torchrun() or is_distributed():
        return device
    if device.type not in BACKENDS:
        raise ValueError(
            f"distributed training runs on {sorted(BACKENDS)}, got {device.type!r};"
            " pass --device cpu or cuda, or run without torchrun"
        )
    if device.type == "cuda":
        # "cuda" without an index means the current device, for our modules and the caller's.
        torch.cuda.set_device(device)
    dist.init_process_group(BACKENDS[device.type])  # reads MASTER_ADDR, RANK... from torchrun
    atexit.register(_destroy_process_group)
    return device


def _destroy_process_group() -> None:
    if is_distributed():
        dist.destroy_process_group()


def wrap_model(
    model: nn.Module, device: torch.device | str, find_unused_parameters: bool = False
) -> nn.Module:
    """Wrap `model` in DistributedDataParallel, which averages its gradients in `backward`.

    DDP wraps the same module: its parameters are `model`'s, so `model` holds the trained
    weights afterwards. The wrapper does not forward attribute access (``wrapped.decoder``
    fails; use ``wrapped.module.decoder``), and gradients are averaged only for a forward
    pass through the wrapper itself; see `wrap_loss`.

    Args:
        model: the network, already on `device`.
        device: where it is; a CUDA device is handed to DDP as its single device.
        find_unused_parameters: let some trainable parameters get no gradient in a step
            (default False: DDP then waits for every one; True costs a graph walk per step).

    Returns:
        the DDP wrapper, or `model` itself outside torchrun.
    """
    if not is_distributed():
        return model
    device = torch.device(device)
    if device.type == "cuda":
        index = torch.cuda.current_device() if device.index is None else device.index
        return DistributedDataParallel(
            model, device_ids=[index], find_unused_parameters=find_unused_parameters
        )
    return DistributedDataParallel(model, find_unused_parameters=find_unused_parameters)


class _Loss(nn.Module):
    """``loss_fn(model, batch)`` as a module, so that DDP's forward pass covers all of it."""

    def __init__(self, model: nn.Module, loss_fn: Callable[[nn.Module, Any], torch.Tensor]):
        super().__init__()
        self.model, self.loss_fn = model, loss_fn

    def forward(self, batch: Any) -> torch.Tensor:
        return self.loss_fn(self.model, batch)


def wrap_loss(
    model: nn.Module, loss_fn: Callable[[nn.Module, Any], torch.Tensor], device: torch.device | str
) -> Callable[[Any], torch.Tensor]:
    """``batch -> loss_fn(model, batch)``, with gradients averaged across processes.

    DDP averages gradients only for a forward pass through its wrapper, and its wrapper
    hides the model's own methods and attributes (a loss may call ``model.features(...)``
    or read ``model.decoder``). So we wrap the whole loss computation instead of the model:
    `loss_fn` still receives the caller's own `model`, and every parameter it touches is a
    parameter of the wrapped module, so its gradient is averaged.

    Args:
        model: the network, already on `device`.
        loss_fn: ``loss_fn(model, batch) -> scalar tensor``.
        device: where `model` is.

    Returns:
        a callable ``step(batch) -> loss``; outside torchrun, exactly ``loss_fn(model, batch)``.

    Example:
        >>> step = wrap_loss(nn.Linear(2, 1), lambda model, x: model(x).sum(), "cpu")
        >>> step(torch.ones(3, 2)).shape
        torch.Size([])
    """
    if not is_distributed():
        return functools.partial(loss_fn, model)
    return wrap_model(_Loss(model, loss_fn), device)


def check_all_parameters_trained(model: nn.Module) -> None:
    """Raise if a trainable parameter got no gradient in the last backward pass.

    DDP (without ``find_unused_parameters``) waits for a gradient of every trainable
    parameter; one that gets none leaves the averaging unfinished, and PyTorch then fails
    at the next step with a message about indices. Call this after the first backward pass.

    Raises:
        ValueError: naming the parameters without a gradient.
    """
    unused = [name for name, p in model.named_parameters() if p.requires_grad and p.grad is None]
    if unused:
        more = f" and {len(unused) - 5} more" if len(unused) > 5 else ""
        raise ValueError(
            f"parameters {', '.join(unused[:5])}{more} got no gradient from loss_fn; training"
            " on several processes needs every trainable parameter used at every step: freeze"
            " the others with requires_grad_(False)"
        )


def _collective_device() -> torch.device:
    # NCCL moves CUDA tensors only; gloo takes CPU ones.
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def average(value: float | torch.Tensor) -> float:
    """The mean of a scalar over all processes (e.g. each process's loss on its own batch).

    Args:
        value: a number, or a tensor with one element.

    Returns:
        the mean across processes, the same in every process; ``float(value)`` outside torchrun.

    Example:
        >>> average(torch.tensor(0.5))
        0.5
    """
    if not is_distributed():
        return float(value)
    total = torch.tensor(float(value), dtype=torch.float64, device=_collective_device())
    dist.all_reduce(total)
    return float(total) / world_size()


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """Process `src`'s copy of a picklable object, in every process (e.g. a metrics dict)."""
    if not is_distributed():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src, device=_collective_device())
    return box[0]


def broadcast_buffers(model: nn.Module, src: int = 0) -> None:
    """Copy process `src`'s buffers (e.g. BatchNorm running statistics) into every process.

    DDP copies rank 0's buffers at the start of each forward pass, so after the last training
    step each process still holds the statistics of its own batch.
    """
    if not is_distributed():
        return
    for buffer in model.buffers():
        dist.broadcast(buffer, src=src)
