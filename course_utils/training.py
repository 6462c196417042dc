"""A small, generic training loop, shared by the lessons that train.

`fit` is deliberately plain: AdamW (with a one-cycle schedule: `adamw_one_cycle`), optional
gradient clipping, optional mixed precision on CUDA, progress shown, and an evaluation after
each epoch. Each lesson supplies only what is
specific to it: a `loss_fn(model, batch)` and an `evaluate(model, loader, device)`. A loss
that turns NaN stops training at once, with the step where it happened.

The same loop runs as several processes under `torchrun` (`distributed`, `distributed_data`).
Checkpoints (`save_checkpoint`, `load_checkpoint`) live in `checkpoints` and are re-exported
here.

Notebook: 06_audio_classification (section "A training loop we can reuse").
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from .checkpoints import load_checkpoint, save_checkpoint
from .distributed import (
    average,
    broadcast_buffers,
    broadcast_object,
    check_all_parameters_trained,
    init_distributed,
    is_distributed,
    is_main_process,
    world_size,
    wrap_loss,
)
from .distributed_data import distribute_loader, set_epoch

__all__ = [
    "History",
    "TrainConfig",
    "adamw_one_cycle",
    "fit",
    "load_checkpoint",
    "save_checkpoint",
    "to_device",
]


@dataclass
class TrainConfig:
    """Settings of one training run (see `fit`)."""

    epochs: int = 10  # passes over the training set
    learning_rate: float = 1e-3  # AdamW step size
    weight_decay: float = 0.01  # AdamW decoupled weight decay (Loshchilov and Hutter, 2019)
    grad_clip: float | None = 1.0  # max global gradient norm before each step; None: no clip
    mixed_precision: bool = True  # CUDA only: bfloat16 autocast, or float16 with GradScaler
    log_every: int = 20  # steps between updates of the running loss on the progress bar
    seed: int | None = None  # torch.manual_seed at the start of fit (shuffling, dropout)

    def __post_init__(self) -> None:
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {self.epochs!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate!r}")
        if not self.weight_decay >= 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ValueError(f"grad_clip must be positive or None, got {self.grad_clip!r}")
        if not isinstance(self.log_every, int) or self.log_every < 1:
            raise ValueError(f"log_every must be a positive integer, got {self.log_every!r}")


@dataclass
class History:
    """What `fit` measured.

    Attributes:
        train_losses: the loss of every optimisation step, in order.
        epochs: one dict per epoch: "epoch" (1-based), "train_loss" (the epoch's mean), and
            the validation metrics ("val_loss", or whatever `evaluate` returned).
    """

    train_losses: list[float] = field(default_factory=list)
    epochs: list[dict[str, float]] = field(default_factory=list)

    def best(self, metric: str, mode: str = "max") -> dict[str, float]:
        """Return the record of the epoch with the highest ("max") or lowest ("min") `metric`.

        Example:
            >>> History(epochs=[{"epoch": 1, "acc": 0.7}, {"epoch": 2, "acc": 0.9}]).best("acc")
            {'epoch': 2, 'acc': 0.9}
        """
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        records = [record for record in self.epochs if metric in record]
        if not records:
            known = sorted({key for record in self.epochs for key in record})
            raise ValueError(f"no epoch recorded {metric!r}; recorded metrics: {known}")
        choose = max if mode == "max" else min
        return choose(records, key=lambda record: record[metric])


def adamw_one_cycle(
    model: nn.Module, config: TrainConfig, steps_per_epoch: int, pct_start: float = 0.3
) -> tuple[torch.optim.AdamW, torch.optim.lr_scheduler.OneCycleLR]:
    """AdamW over all of `model`'s parameters and a one-cycle schedule for `config`'s run.

    The schedule every lesson trains with (Smith and Topin 2019): the rate warms up from
    ``config.learning_rate / 25`` to ``config.learning_rate`` over the first `pct_start` of
    the steps, then anneals (cosine) to nearly 0. Pass both to `fit`, which steps the schedule
    after every optimisation step.

    Args:
        model: the network; one parameter group with all its parameters.
        config: `learning_rate` (the peak), `weight_decay` and `epochs`.
        steps_per_epoch: batches per epoch, ``len(train_loader)`` (in one process).
        pct_start: share of the steps spent warming up (default 0.3, OneCycleLR's).

    Returns:
        (optimizer, scheduler).

    Example:
        >>> optimizer, scheduler = adamw_one_cycle(nn.Linear(3, 1), TrainConfig(epochs=2), 5)
        >>> scheduler.total_steps, optimizer.param_groups[0]["weight_decay"]
        (10, 0.01)

    Notebook: 06_audio_classification (section "A training loop we can reuse").
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.learning_rate, total_steps=config.epochs * steps_per_epoch,
        pct_start=pct_start,
    )  # fmt: skip
    return optimizer, scheduler


def to_device(batch: Any, device: torch.device | str) -> Any:
    """Move every tensor inside dicts, lists, tuples, named tuples and dataclasses to `device`.

    Args:
        batch: a tensor or a nested structure; anything that is not a tensor is kept as is.
        device: e.g. "cpu", "cuda" or a torch.device.

    Returns:
        the same structure (same container types) with tensors on `device`.

    Example:
        >>> to_device({"waveform": torch.zeros(2, 160), "labels": [torch.ones(2)]}, "cpu")["labels"]
        [tensor([1., 1.])]

    Notebook: 06_audio_classification.
    """
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, Mapping):
        return type(batch)({key: to_device(value, device) for key, value in batch.items()})
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # a named tuple
        return type(batch)(*(to_device(value, device) for value in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(value, device) for value in batch)
    if dataclasses.is_dataclass(batch) and not isinstance(batch, type):
        changes = {
            f.name: to_device(getattr(batch, f.name), device)
            for f in dataclasses.fields(batch)
            if f.init
        }
        return dataclasses.replace(batch, **changes)
    return batch


def _mean_loss(model, loader, loss_fn, device) -> dict[str, float]:
    losses = [float(loss_fn(model, to_device(batch, device))) for batch in loader]
    return {"val_loss": sum(losses) / max(len(losses), 1)}


def _step_scheduler(scheduler: Any, times: int) -> None:
    """Step `times` times: once per loader-sized batch consumed, as in a single process.

    Under torchrun (times > 1) the padding of the shards can add a few batches to an epoch;
    a schedule sized for one process then stops at its end (OneCycleLR would raise), as
    Hugging Face Accelerate's AcceleratedScheduler does.
    """
    total = getattr(scheduler, "total_steps", None)
    for _ in range(times):
        if times > 1 and total is not None and scheduler.last_epoch >= total:
            return
        scheduler.step()


def fit(
    model: nn.Module,
    train_loader: Iterable,
    loss_fn: Callable[[nn.Module, Any], torch.Tensor],
    config: TrainConfig,
    device: torch.device | str,
    val_loader: Iterable | None = None,
    evaluate: Callable[[nn.Module, Iterable, torch.device], dict[str, float]] | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any | None = None,
    progress: bool = True,
) -> History:
    """Train `model` for `config.epochs` epochs and evaluate it after each one.

    Under ``torchrun --nproc_per_node=N`` the same call trains on N processes (data
    parallelism, see `course_utils.distributed`): each process takes its own 1/N of
    `train_loader` (a DataLoader gets a DistributedSampler; another sized iterable is split
    batch by batch and must yield the same batches in every process), steps see
    N x batch_size examples, gradients are averaged, and "cuda" means ``cuda:LOCAL_RANK``.
    The scheduler steps N times per step, so a schedule sized for one process
    (``total_steps = epochs * len(train_loader)``) still ends on time. Every process
    returns the same History and holds the same weights. Outside torchrun nothing changes.

    Args:
        model: the network; moved to `device`, left in eval mode at the end.
        train_loader: iterable of batches (e.g. a DataLoader); any structure `to_device` takes.
        loss_fn: ``loss_fn(model, batch) -> scalar tensor``; the batch is already on `device`.
            It always receives `model` itself (never a DDP wrapper), so it may call the
            model's own methods and attributes; under torchrun every trainable parameter
            must get a gradient at every step.
        config: epochs, learning rate, clipping, precision (see `TrainConfig`).
        device: where to train; chosen by the lesson, never by this function.
        val_loader: batches to evaluate on after each epoch (default None: no evaluation).
        evaluate: ``evaluate(model, val_loader, device) -> {"accuracy": ...}``, called under
            ``torch.no_grad()`` with the model in eval mode. Default: the mean `loss_fn` over
            `val_loader`, recorded as "val_loss". Under torchrun each process evaluates all
            of `val_loader`.
        optimizer: default AdamW over all parameters with `config`'s rate and decay.
        scheduler: learning-rate scheduler, stepped after every optimisation step (e.g.
            OneCycleLR, see `adamw_one_cycle`, or a LambdaLR warm-up); per-epoch schedules
            need converting to steps.
        progress: show progress (default True; under torchrun, in process 0 only): live tqdm
            bars in a terminal, one printed line per epoch elsewhere (a notebook, a log),
            which stays readable in a saved notebook or a rendered page.

    Returns:
        History with every step's loss (averaged over processes) and each epoch's metrics.

    Raises:
        RuntimeError: the loss became NaN or infinite (the message gives the step).

    Example:
        >>> model = nn.Linear(3, 1)
        >>> data = [(torch.randn(8, 3), torch.randn(8, 1)) for _ in range(4)]
        >>> def loss_fn(model, batch):
        ...     inputs, targets = batch
        ...     return nn.functional.mse_loss(model(inputs), targets)
        >>> history = fit(model, data, loss_fn, TrainConfig(epochs=2), "cpu", progress=False)
        >>> len(history.train_losses)
        8

    Notebook: 06_audio_classification.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if evaluate is not None and val_loader is None:
        raise ValueError("evaluate was given without a val_loader to evaluate on")
    device = init_distributed(device)  # torch.device(device) outside torchrun
    # The same seed in every process: an iterable split by `shard_batches` must shuffle alike.
    if config.seed is not None:
        torch.manual_seed(config.seed)
    model.to(device)
    if optimizer is None:
        optimizer = torch.optim.AdamW(
            model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        )
    # Autocast on CUDA only: CPU autocast is slow for most layers and gains nothing here.
    use_amp = config.mixed_precision and device.type == "cuda"
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
    # float16 overflows in gradients without loss scaling; bfloat16 has float32's range.
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    # DDP wraps the whole loss computation (not the model), so loss_fn gets `model` itself.
    compute_loss = wrap_loss(model, loss_fn, device)
    train_loader = distribute_loader(train_loader, seed=config.seed or 0)
    show = progress and is_main_process()
    bars = show and sys.stderr.isatty()  # a terminal: live bars; a notebook or a log: lines
    history, step = History(), 0
    epoch_bar = tqdm(range(1, config.epochs + 1), desc="epochs", disable=not bars)
    for epoch in epoch_bar:
        epoch_started = time.perf_counter()
        model.train()
        set_epoch(train_loader, epoch)  # a new shuffle in every epoch
        epoch_losses: list[float] = []
        step_bar = tqdm(train_loader, desc=f"epoch {epoch}", leave=False, disable=not bars)
        for batch in step_bar:
            batch = to_device(batch, device)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
                loss = compute_loss(batch)
            if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                raise TypeError(f"loss_fn must return a scalar tensor, got {loss!r:.80}")
            # Averaged before the check, so that every process stops together on a NaN.
            value = average(loss.detach())
            if not math.isfinite(value):
                raise RuntimeError(
                    f"loss is {value} at step {step + 1} (epoch {epoch}): training diverged. Try a"
                    f" lower learning rate (now {optimizer.param_groups[0]['lr']:g}), gradient"
                    " clipping (grad_clip), or check the batch for NaN or inf inputs."
                )
            scaler.scale(loss).backward()  # under torchrun, also averages the gradients
            if step == 0 and is_distributed():
                check_all_parameters_trained(model)
            if config.grad_clip is not None:
                scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            if scheduler is not None:
                _step_scheduler(scheduler, world_size())
            history.train_losses.append(value)
            epoch_losses.append(value)
            step += 1
            if step % config.log_every == 0:
                recent = history.train_losses[-config.log_every :]
                step_bar.set_postfix(loss=f"{sum(recent) / len(recent):.4g}")
        if not epoch_losses:
            raise ValueError("train_loader yielded no batches")
        broadcast_buffers(model)  # e.g. BatchNorm statistics, which each process updated alone
        record = {"epoch": epoch, "train_loss": sum(epoch_losses) / len(epoch_losses)}
        if val_loader is not None:
            record.update(_validate(model, val_loader, loss_fn, evaluate, device))
        # Every process evaluated the same weights on the same data: the records agree, but
        # process 0's is made everyone's, so that Histories match exactly.
        history.epochs.append(broadcast_object(record))
        epoch_bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k != "epoch"})
        if show and not bars:
            seconds = time.perf_counter() - epoch_started
            print(epoch_line(record, config.epochs, seconds), flush=True)
    model.eval()
    return history


def epoch_line(record: Mapping[str, float], epochs: int, seconds: float) -> str:
    """One epoch's progress line: its number, its metrics, the seconds it took.

    Example:
        >>> epoch_line({"epoch": 3, "train_loss": 0.23414, "accuracy": 0.94}, 12, 2.06)
        'epoch  3/12 · train_loss 0.2341 · accuracy 0.94 · 2.1 s'
    """
    width = len(str(epochs))
    metrics = [f"{k} {v:.4g}" for k, v in record.items() if k != "epoch"]
    return " · ".join([f"epoch {record['epoch']:>{width}}/{epochs}", *metrics, f"{seconds:.1f} s"])


def _validate(model, val_loader, loss_fn, evaluate, device) -> dict[str, float]:
    """`evaluate` (default: the mean loss) in eval mode without gradients, as floats.

    Under torchrun every process evaluates all of `val_loader` with the plain model: the
    metrics need no gathering (a CER or an F1 is not the mean of per-shard values), any
    `evaluate` works unchanged, and no process waits idle at a collective for another.
    Validation sets here are small, so the repeated work costs little.
    """
    model.eval()
    with torch.no_grad():
        if evaluate is None:
            metrics = _mean_loss(model, val_loader, loss_fn, device)
        else:
            metrics = evaluate(model, val_loader, device)
    if not isinstance(metrics, Mapping):
        raise TypeError(f"evaluate must return a dict of floats, got {metrics!r:.80}")
    return {name: float(value) for name, value in metrics.items()}
