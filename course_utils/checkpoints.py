"""Safe checkpoints: a state dict plus JSON-like metadata, written atomically, loaded safely.

`save_checkpoint` writes ``torch.save`` of the state dict and its metadata to a temporary file
and moves it into place, refusing to replace a file unless told to; under `torchrun` only the
main process writes. `load_checkpoint` reads it back with ``torch.load(weights_only=True)``,
which cannot run code hidden in a file, and names the keys that do not match. `load_model`
is what the lessons' shipped models use: it checks that the file holds the model asked for
(its metadata's "model" tag), builds it from the saved config and loads it. `load_shipped`
finds a lesson's shipped file (package data) unless a path is given; `rebuild_command` is the
command line that rebuilds a lesson's shipped models (``python -m course_utils.<topic>``).

Notebook: 06_audio_classification (section "A training loop we can reuse").
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .core import atomic_write, get_device
from .distributed import is_main_process

__all__ = [
    "load_checkpoint",
    "load_model",
    "load_shipped",
    "read_checkpoint",
    "rebuild_command",
    "save_checkpoint",
]


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

    Under torchrun only the main process writes: after `fit` every process holds the same
    weights, and several processes writing one file would race. The others return at once.

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
    if not is_main_process():
        return Path(path)
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


def read_checkpoint(path: str | Path, map_location: Any = "cpu") -> tuple[dict, dict]:
    """The state dict and metadata of a checkpoint, without a model to load them into.

    What a loader reads first when the metadata says which model to build (its config).

    Args:
        path: a file written by `save_checkpoint`, or a bare state dict.
        map_location: where tensors are loaded (default "cpu").

    Returns:
        (state dict, metadata); the metadata is {} for a bare state dict.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the file is corrupt or not a checkpoint.

    Example:
        >>> import os, tempfile
        >>> target = os.path.join(tempfile.gettempdir(), "linear.pt")
        >>> path = save_checkpoint(target, nn.Linear(2, 1), overwrite=True, metadata={"a": 1})
        >>> state, metadata = read_checkpoint(path)
        >>> sorted(state), metadata
        (['bias', 'weight'], {'a': 1})
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises several types for damaged files
        raise ValueError(f"{path} is corrupt or not a PyTorch checkpoint: {error}") from error
    if isinstance(payload, dict) and "state_dict" in payload:
        return payload["state_dict"], payload.get("metadata", {})
    if isinstance(payload, dict) and all(isinstance(v, torch.Tensor) for v in payload.values()):
        return payload, {}
    raise ValueError(f"{path} is not a checkpoint: expected a state dict with tensors")


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
    state, metadata = read_checkpoint(path, map_location)
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


def load_model(
    path: str | Path, tag: str, build: Callable[[dict], nn.Module], what: str, command: str
) -> tuple[nn.Module, dict]:
    """A model saved with metadata {"model": tag, "config": {...}}, in eval mode, and that
    metadata: the tag checked, the model built by ``build(config)``, the weights loaded.

    Args:
        path: the checkpoint file.
        tag: the "model" its metadata must name, e.g. "Codec".
        build: makes an untrained model from the saved config dict.
        what: the model in words, for messages ("codec").
        command: the command that rebuilds it, for the message when the file is missing.

    Raises:
        FileNotFoundError: no file at `path` (the message names `command`).
        ValueError: a corrupt file, or a checkpoint of another model.

    Example:
        >>> import os, tempfile
        >>> target = os.path.join(tempfile.gettempdir(), "tagged.pt")
        >>> meta = {"model": "Linear", "config": {"in_features": 2, "out_features": 1}}
        >>> path = save_checkpoint(target, nn.Linear(2, 1), overwrite=True, metadata=meta)
        >>> model, _ = load_model(path, "Linear", lambda c: nn.Linear(**c), "layer", "make")
        >>> model.training
        False
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no {what} at {path}; build one with `{command}`")
    _, metadata = read_checkpoint(path)  # ValueError for a corrupt file
    if metadata.get("model") != tag:
        raise ValueError(
            f"{path} holds another model, not a {what} saved by `build_checkpoint` "
            f"(its metadata does not say model={tag!r})"
        )
    model = build(metadata["config"])
    load_checkpoint(path, model)  # half-precision weights are cast back to the model's dtype
    return model.eval(), metadata


def rebuild_command(
    topic: str,
    description: str,
    variants: Iterable[str],
    build: Callable[[str, Path | None, bool, torch.device], Path],
    argv: list[str] | None = None,
) -> list[Path]:
    """``python -m course_utils.<topic>``: rebuild the shipped models of one lesson.

    Options: ``--variant`` (default: all), ``--overwrite``, ``--folder`` (each variant is then
    written as ``<folder>/<variant>.pt``; without it, `build` writes to its own default in the
    data folder) and ``--device`` (default: the best there is).

    Args:
        topic: the package folder, e.g. "longform" (names the command in its help).
        description: the help's first line.
        variants: the variants one may rebuild.
        build: `(variant, path or None, overwrite, device) -> path written`, the recipe's
            `build_checkpoint`.
        argv: the arguments (default: the command line's).

    Returns:
        the paths written, one per variant.

    Notebook: 11_gan_audio_restoration.
    """
    variants = list(variants)
    parser = argparse.ArgumentParser(
        prog=f"python -m course_utils.{topic}", description=description
    )
    parser.add_argument("--variant", nargs="+", default=variants, choices=variants)
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")
    parser.add_argument("--folder", default=None, help="default: the data folder's checkpoints/")
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best)")
    args = parser.parse_args(argv)
    device = get_device(args.device)
    folder = Path(args.folder) if args.folder else None
    return [
        build(variant, folder / f"{variant}.pt" if folder else None, args.overwrite, device)
        for variant in args.variant
    ]


def load_shipped(package: str, name: str, path: str | Path | None, load: Callable[[Path], Any]):
    """`load(path)` when a path is given, else `load` of the checkpoint `name` shipped in
    `package`'s ``checkpoints/`` folder (package data, found with `importlib.resources`, a
    real file even from a zipped install).

    Example:
        >>> load_shipped("course_utils.asr", "asr_location.pt", None, lambda p: p.name)
        'asr_location.pt'

    Notebook: 08_speech_recognition.
    """
    if path is not None:
        return load(Path(path))
    shipped = resources.files(package).joinpath("checkpoints", name)
    with resources.as_file(shipped) as file:
        return load(Path(file))
