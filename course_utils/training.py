"""A small, generic training loop and safe checkpoints, shared by the lessons that train.

`fit` is deliberately plain: AdamW, optional gradient clipping, optional mixed precision on
CUDA, a progress bar, and an evaluation after each epoch. Each lesson supplies only what is
specific to it: a `loss_fn(model, batch)` and an `evaluate(model, loader, device)`. A loss
that turns NaN stops training at once, with the step where it happened.

Checkpoints are `torch.save` of a state dict plus JSON-like metadata, written atomically and
read back with `torch.load(weights_only=True)`, which cannot run code hidden in a file.

Notebook: 06_audio_classification (section "A training loop we can reuse").
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from .files import atomic_write

__all__ = ["History", "TrainConfig", "fit", "load_checkpoint", "save_checkpoint", "to_device"]


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

    Args:
        model: the network; moved to `device`, left in eval mode at the end.
        train_loader: iterable of batches (e.g. a DataLoader); any structure `to_device` takes.
        loss_fn: ``loss_fn(model, batch) -> scalar tensor``; the batch is already on `device`.
        config: epochs, learning rate, clipping, precision (see `TrainConfig`).
        device: where to train; chosen by the lesson, never by this function.
        val_loader: batches to evaluate on after each epoch (default None: no evaluation).
        evaluate: ``evaluate(model, val_loader, device) -> {"accuracy": ...}``, called under
            ``torch.no_grad()`` with the model in eval mode. Default: the mean `loss_fn` over
            `val_loader`, recorded as "val_loss".
        optimizer: default AdamW over all parameters with `config`'s rate and decay.
        scheduler: learning-rate scheduler, stepped after every optimisation step (e.g.
            OneCycleLR or a LambdaLR warm-up); per-epoch schedules need converting to steps.
        progress: show tqdm progress bars (default True).

    Returns:
        History with every step's loss and each epoch's metrics.

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
    device = torch.device(device)
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
    history, step = History(), 0
    epoch_bar = tqdm(range(1, config.epochs + 1), desc="epochs", disable=not progress)
    for epoch in epoch_bar:
        model.train()
        epoch_losses: list[float] = []
        step_bar = tqdm(train_loader, desc=f"epoch {epoch}", leave=False, disable=not progress)
        for batch in step_bar:
            batch = to_device(batch, device)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
                loss = loss_fn(model, batch)
            if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                raise TypeError(f"loss_fn must return a scalar tensor, got {loss!r:.80}")
            value = float(loss.detach())
            if not math.isfinite(value):
                raise RuntimeError(
                    f"loss is {value} at step {step + 1} (epoch {epoch}): training diverged. Try a"
                    f" lower learning rate (now {optimizer.param_groups[0]['lr']:g}), gradient"
                    " clipping (grad_clip), or check the batch for NaN or inf inputs."
                )
            scaler.scale(loss).backward()
            if config.grad_clip is not None:
                scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            if scheduler is not None:
                scheduler.step()
            history.train_losses.append(value)
            epoch_losses.append(value)
            step += 1
            if step % config.log_every == 0:
                recent = history.train_losses[-config.log_every :]
                step_bar.set_postfix(loss=f"{sum(recent) / len(recent):.4g}")
        if not epoch_losses:
            raise ValueError("train_loader yielded no batches")
        record = {"epoch": epoch, "train_loss": sum(epoch_losses) / len(epoch_losses)}
        if val_loader is not None:
            model.eval()
            with torch.no_grad():
                if evaluate is None:
                    metrics = _mean_loss(model, val_loader, loss_fn, device)
                else:
                    metrics = evaluate(model, val_loader, device)
            if not isinstance(metrics, Mapping):
                raise TypeError(f"evaluate must return a dict of floats, got {metrics!r:.80}")
            record.update({name: float(value) for name, value in metrics.items()})
        history.epochs.append(record)
        epoch_bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k != "epoch"})
    model.eval()
    return history


def _check_metadata(value: Any, where: str = "metadata") -> None:
    """Allow only what `torch.load(weights_only=True)` reads back: JSON-like values."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_metadata(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a non-string key {key!r}; use str keys")
            _check_metadata(item, f"{where}[{key!r}]")
        return
    raise TypeError(
        f"{where} is a {type(value).__name__}; checkpoint metadata may hold only str, int,"
        " float, bool, None, lists and dicts with str keys (convert arrays with .tolist())"
    )


def save_checkpoint(
    path: str | Path, model: nn.Module, overwrite: bool = False, metadata: dict | None = None
) -> Path:
    """Save the model's weights (on CPU) and metadata, atomically.

    Args:
        path: file to write, e.g. "checkpoints/kws.pt"; its folder is created if missing.
        model: the network whose `state_dict()` is saved.
        overwrite: replace an existing file (default False: raise FileExistsError instead).
        metadata: JSON-like facts to keep with the weights (config, scores, seed).

    Returns:
        the path written.

    Example:
        >>> import os, tempfile
        >>> target = os.path.join(tempfile.gettempdir(), "linear.pt")
        >>> path = save_checkpoint(target, nn.Linear(2, 1), overwrite=True,
        ...                        metadata={"epochs": 3})

    Notebook: 06_audio_classification.
    """
    metadata = {} if metadata is None else metadata
    if not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    _check_metadata(metadata)
    state = {
        key: value.detach().cpu() if isinstance(value, torch.Tensor) else value
        for key, value in model.state_dict().items()
    }
    with atomic_write(path, overwrite=overwrite) as tmp:
        torch.save({"state_dict": state, "metadata": metadata}, tmp)
    return Path(path)


def _shorten(keys: Iterable[str], limit: int = 5) -> str:
    keys = sorted(keys)
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def load_checkpoint(
    path: str | Path, model: nn.Module, map_location: Any = "cpu", strict: bool = True
) -> dict:
    """Load weights saved by `save_checkpoint` (or a bare state dict) into `model`.

    Nothing in `model` changes unless the whole load succeeds.

    Args:
        path: the checkpoint file.
        model: a network with the same architecture.
        map_location: where tensors are loaded (default "cpu"; the model's own parameters
            keep their device, since loading copies into them).
        strict: require exactly the same parameter names (default True); if False, names
            missing on either side are skipped.

    Returns:
        the metadata dict saved with the weights ({} for a bare state dict).

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the file is corrupt or not a checkpoint, or its weights do not fit.

    Example:
        >>> model = nn.Linear(2, 1)
        >>> import os, tempfile
        >>> target = os.path.join(tempfile.gettempdir(), "linear.pt")
        >>> path = save_checkpoint(target, model, overwrite=True, metadata={"a": 1})
        >>> load_checkpoint(path, model)
        {'a': 1}

    Notebook: 06_audio_classification.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises several types for damaged files
        raise ValueError(f"{path} is corrupt or not a PyTorch checkpoint: {error}") from error
    if isinstance(payload, dict) and "state_dict" in payload:
        state, metadata = payload["state_dict"], payload.get("metadata", {})
    elif isinstance(payload, dict) and all(isinstance(v, torch.Tensor) for v in payload.values()):
        state, metadata = payload, {}
    else:
        raise ValueError(f"{path} is not a checkpoint: expected a state dict with tensors")
    expected = model.state_dict()
    missing, unexpected = expected.keys() - state.keys(), state.keys() - expected.keys()
    if strict and (missing or unexpected):
        raise ValueError(
            f"{path} does not fit the model: missing keys [{_shorten(missing)}],"
            f" unexpected keys [{_shorten(unexpected)}]"
        )
    wrong = [
        f"{key} {tuple(state[key].shape)} vs model {tuple(expected[key].shape)}"
        for key in sorted(expected.keys() & state.keys())
        if isinstance(state[key], torch.Tensor) and state[key].shape != expected[key].shape
    ]
    if wrong:
        raise ValueError(f"{path} has weights of the wrong shape: {_shorten(wrong, 3)}")
    model.load_state_dict(state, strict=strict)
    return metadata
