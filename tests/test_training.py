"""Tests for course_utils.training: the loop learns, guards fire, checkpoints round-trip."""

from __future__ import annotations

import dataclasses
import sys
from collections import OrderedDict, namedtuple

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_utils.core.files import FileExistsNotOverwrittenError
from course_utils.training import (
    History,
    TrainConfig,
    adamw_one_cycle,
    fit,
    load_checkpoint,
    save_checkpoint,
    to_device,
)


def separable_loaders(seed: int = 0) -> tuple[DataLoader, DataLoader]:
    """Two Gaussian blobs, linearly separable: (features (n, 2), labels (n,))."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (512,), generator=generator)
    features = torch.randn(512, 2, generator=generator) + 3.0 * (2.0 * labels[:, None] - 1.0)
    train = TensorDataset(features[:384], labels[:384])
    val = TensorDataset(features[384:], labels[384:])
    shuffle_generator = torch.Generator().manual_seed(seed)
    return (
        DataLoader(train, batch_size=32, shuffle=True, generator=shuffle_generator),
        DataLoader(val, batch_size=64),
    )


def classification_loss(model: nn.Module, batch) -> torch.Tensor:
    features, labels = batch
    return nn.functional.cross_entropy(model(features), labels)


def accuracy(model: nn.Module, loader, device) -> dict[str, float]:
    correct = total = 0
    for features, labels in loader:
        predictions = model(features.to(device)).argmax(dim=-1)
        correct += int((predictions == labels.to(device)).sum())
        total += labels.numel()
    return {"accuracy": correct / total}


@pytest.mark.parametrize("mixed_precision", [False, True])
def test_fit_learns_a_separable_problem(device, mixed_precision):
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    train, val = separable_loaders()
    config = TrainConfig(epochs=4, learning_rate=0.05, mixed_precision=mixed_precision)
    history = fit(model, train, classification_loss, config, device, val, accuracy, progress=False)
    assert len(history.train_losses) == 4 * len(train)
    first, last = history.train_losses[:3], history.train_losses[-3:]
    assert sum(last) / 3 < 0.2 * sum(first) / 3
    assert [record["epoch"] for record in history.epochs] == [1, 2, 3, 4]
    assert history.epochs[-1]["accuracy"] > 0.9
    assert history.best("accuracy")["accuracy"] > 0.9
    assert not model.training
    assert next(model.parameters()).device.type == device


def test_fit_defaults_to_validation_loss():
    torch.manual_seed(0)
    train, val = separable_loaders()
    history = fit(
        nn.Linear(2, 2),
        train,
        classification_loss,
        TrainConfig(epochs=2),
        "cpu",
        val_loader=val,
        progress=False,
    )
    assert set(history.epochs[0]) == {"epoch", "train_loss", "val_loss"}
    assert history.epochs[1]["val_loss"] < history.epochs[0]["val_loss"] * 1.5


def test_fit_evaluates_without_gradients_in_eval_mode():
    seen = []

    def evaluate(model, loader, device):
        seen.append((torch.is_grad_enabled(), model.training, str(device)))
        return {"score": 1.0}

    train, val = separable_loaders()
    fit(
        nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.1)),
        train,
        classification_loss,
        TrainConfig(epochs=2),
        "cpu",
        val,
        evaluate,
        progress=False,
    )
    assert seen == [(False, False, "cpu")] * 2


def gradient_norms(grad_clip: float | None) -> list[float]:
    """Global gradient norm seen by the optimiser at each step (after any clipping)."""
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    norms = []

    def record(optimizer, args, kwargs):
        grads = [p.grad.flatten() for g in optimizer.param_groups for p in g["params"]]
        norms.append(float(torch.cat(grads).norm()))

    optimizer.register_step_pre_hook(record)

    def huge_loss(model, batch):  # gradients in the thousands
        return 1000.0 * classification_loss(model, batch)

    train, _ = separable_loaders()
    fit(
        model,
        train,
        huge_loss,
        TrainConfig(epochs=1, grad_clip=grad_clip),
        "cpu",
        optimizer=optimizer,
        progress=False,
    )
    return norms


def test_grad_clip_bounds_the_gradient_norm():
    assert max(gradient_norms(None)) > 10.0  # without clipping the bound would be broken
    clipped = gradient_norms(0.5)
    assert len(clipped) == 12 and max(clipped) <= 0.5 + 1e-4


def test_non_finite_loss_names_the_step():
    calls = []

    def exploding_loss(model, batch):
        calls.append(1)
        loss = classification_loss(model, batch)
        return loss * float("nan") if len(calls) == 4 else loss

    train, _ = separable_loaders()
    with pytest.raises(RuntimeError, match=r"step 4 .*lower learning rate"):
        fit(nn.Linear(2, 2), train, exploding_loss, TrainConfig(epochs=1), "cpu", progress=False)


def test_scheduler_steps_once_per_optimisation_step():
    model = nn.Linear(2, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5**step)
    train, _ = separable_loaders()
    fit(
        model,
        train,
        classification_loss,
        TrainConfig(epochs=1),
        "cpu",
        optimizer=optimizer,
        scheduler=scheduler,
        progress=False,
    )
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.5 ** len(train))


@pytest.mark.parametrize("pct_start", [0.3, 0.15])
def test_adamw_one_cycle_is_the_recipes_construction_bit_for_bit(pct_start):
    """The helper builds what the recipes and lessons wrote by hand: same parameter group,
    same arguments, so training gives identical numbers."""
    config = TrainConfig(epochs=2, learning_rate=3e-3, seed=0)
    runs = []
    for by_hand in (True, False):
        train, _ = separable_loaders()  # its own shuffling generator, the same for both runs
        torch.manual_seed(0)
        model = nn.Linear(2, 2)
        if by_hand:
            optimizer = torch.optim.AdamW(
                model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
            )
            scheduler = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=config.learning_rate, total_steps=config.epochs * len(train),
                pct_start=pct_start,
            )  # fmt: skip
        else:
            optimizer, scheduler = adamw_one_cycle(model, config, len(train), pct_start)
        history = fit(model, train, classification_loss, config, "cpu", optimizer=optimizer,
                      scheduler=scheduler, progress=False)  # fmt: skip
        groups = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
        runs.append((history.train_losses, model.state_dict(), groups, scheduler.last_epoch))
    (losses, state, groups, steps), (losses2, state2, groups2, steps2) = runs
    assert losses == losses2 and groups == groups2 and steps == steps2 == 2 * len(train)
    assert all(torch.equal(state[key], state2[key]) for key in state)


def test_adamw_one_cycle_needs_a_train_config():
    with pytest.raises(TypeError, match="TrainConfig"):
        adamw_one_cycle(nn.Linear(2, 2), {"epochs": 1}, 10)


def _fit_once(progress: bool) -> None:
    train, val = separable_loaders()
    fit(nn.Linear(2, 2), train, classification_loss, TrainConfig(epochs=2), "cpu", val,
        progress=progress)  # fmt: skip


def test_progress_can_be_silenced(capsys):
    _fit_once(progress=False)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_progress_is_one_line_per_epoch_outside_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)  # a notebook, a log
    _fit_once(progress=True)
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert [line.split(" · ")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    assert all("train_loss" in line and "val_loss" in line for line in lines)
    assert captured.err == ""  # no bars


def test_progress_is_live_bars_in_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    _fit_once(progress=True)
    captured = capsys.readouterr()
    assert "epochs" in captured.err and captured.out == ""


def test_fit_rejects_bad_arguments():
    train, _ = separable_loaders()
    with pytest.raises(ValueError, match="val_loader"):
        fit(nn.Linear(2, 2), train, classification_loss, TrainConfig(), "cpu", evaluate=accuracy)
    with pytest.raises(TypeError, match="scalar"):
        fit(
            nn.Linear(2, 2),
            train,
            lambda m, b: m(b[0]),
            TrainConfig(epochs=1),
            "cpu",
            progress=False,
        )
    with pytest.raises(ValueError, match="no batches"):
        fit(nn.Linear(2, 2), [], classification_loss, TrainConfig(epochs=1), "cpu", progress=False)


@pytest.mark.parametrize(
    "kwargs", [{"epochs": 0}, {"learning_rate": 0.0}, {"grad_clip": -1.0}, {"log_every": 0}]
)
def test_train_config_validates(kwargs):
    with pytest.raises(ValueError):
        TrainConfig(**kwargs)


def test_history_best():
    history = History(
        epochs=[{"epoch": 1, "loss": 0.5, "acc": 0.8}, {"epoch": 2, "loss": 0.3, "acc": 0.7}]
    )
    assert history.best("acc")["epoch"] == 1
    assert history.best("loss", mode="min")["epoch"] == 2
    with pytest.raises(ValueError, match="acc"):
        history.best("f1")
    with pytest.raises(ValueError, match="mode"):
        history.best("acc", mode="highest")


Pair = namedtuple("Pair", ["left", "right"])


@dataclasses.dataclass
class Batch:
    waveform: torch.Tensor
    name: str


def test_to_device_moves_nested_tensors(device):
    batch = {
        "features": torch.zeros(2, 3),
        "lists": [torch.ones(1), (torch.ones(2), "text", 3)],
        "pair": Pair(torch.zeros(1), None),
        "record": Batch(torch.zeros(4), "clip"),
        "ordered": OrderedDict(a=torch.ones(1)),
    }
    moved = to_device(batch, device)
    tensors = [
        moved["features"],
        moved["lists"][0],
        moved["lists"][1][0],
        moved["pair"].left,
        moved["record"].waveform,
        moved["ordered"]["a"],
    ]
    assert all(t.device.type == device for t in tensors)
    assert isinstance(moved["pair"], Pair) and isinstance(moved["record"], Batch)
    assert isinstance(moved["lists"][1], tuple) and isinstance(moved["ordered"], OrderedDict)
    assert moved["lists"][1][1:] == ("text", 3) and moved["record"].name == "clip"
    assert moved["pair"].right is None
    torch.testing.assert_close(moved["lists"][1][0].cpu(), torch.ones(2))


def small_model() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def test_checkpoint_round_trip(tmp_path, device):
    torch.manual_seed(0)
    model = small_model().to(device)
    metadata = {
        "epochs": 3,
        "scores": [0.9, 0.95],
        "config": {"lr": 1e-3, "name": "kws"},
        "note": None,
        "ok": True,
    }
    path = save_checkpoint(tmp_path / "sub" / "model.pt", model, metadata=metadata)
    assert path.is_file()
    # Saved on CPU, readable by the safe loader on a machine without a GPU.
    raw = torch.load(path, weights_only=True)
    assert all(t.device.type == "cpu" for t in raw["state_dict"].values())
    torch.manual_seed(1)
    fresh = small_model().to(device)
    assert load_checkpoint(path, fresh) == metadata
    for (name, a), (_, b) in zip(
        model.state_dict().items(), fresh.state_dict().items(), strict=True
    ):
        torch.testing.assert_close(a, b, msg=name)
    assert next(fresh.parameters()).device.type == device


def test_load_checkpoint_accepts_a_bare_state_dict(tmp_path):
    model = small_model()
    torch.save(model.state_dict(), tmp_path / "bare.pt")
    fresh = small_model()
    assert load_checkpoint(tmp_path / "bare.pt", fresh) == {}
    torch.testing.assert_close(fresh[0].weight, model[0].weight)


def test_save_checkpoint_refuses_to_overwrite(tmp_path):
    path = save_checkpoint(tmp_path / "model.pt", nn.Linear(2, 1), metadata={"version": 1})
    with pytest.raises(FileExistsNotOverwrittenError, match="overwrite=True"):
        save_checkpoint(path, nn.Linear(2, 1), metadata={"version": 2})
    assert load_checkpoint(path, nn.Linear(2, 1)) == {"version": 1}
    save_checkpoint(path, nn.Linear(2, 1), overwrite=True, metadata={"version": 2})
    assert load_checkpoint(path, nn.Linear(2, 1)) == {"version": 2}


@pytest.mark.parametrize(
    "metadata", [{"weights": torch.ones(2)}, {1: "int key"}, {"nested": [object()]}, [1, 2]]
)
def test_save_checkpoint_rejects_non_json_metadata(tmp_path, metadata):
    with pytest.raises(TypeError, match="metadata"):
        save_checkpoint(tmp_path / "model.pt", nn.Linear(2, 1), metadata=metadata)
    assert list(tmp_path.iterdir()) == []


def test_load_checkpoint_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.pt"):
        load_checkpoint(tmp_path / "absent.pt", nn.Linear(2, 1))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "not_weights"])
def test_load_checkpoint_corrupt_file(tmp_path, damage):
    path = tmp_path / "broken.pt"
    if damage == "garbage":
        path.write_bytes(b"this is not a checkpoint" * 10)
    elif damage == "truncated":
        save_checkpoint(path, small_model())
        path.write_bytes(path.read_bytes()[:200])
    else:
        torch.save({"epochs": 3}, path)
    with pytest.raises(ValueError, match="broken.pt"):
        load_checkpoint(path, small_model())


def test_load_checkpoint_mismatch_lists_keys_and_changes_nothing(tmp_path):
    path = save_checkpoint(tmp_path / "model.pt", nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1)))
    other = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))  # index 1 -> 2
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(ValueError, match=r"missing keys \[2.bias, 2.weight\].*unexpected keys"):
        load_checkpoint(path, other)
    for key, value in other.state_dict().items():
        torch.testing.assert_close(value, before[key])
    load_checkpoint(path, other, strict=False)  # loads the layer that does match
    torch.testing.assert_close(other[0].weight, torch.load(path)["state_dict"]["0.weight"])
    with pytest.raises(ValueError, match="wrong shape"):
        load_checkpoint(path, nn.Sequential(nn.Linear(2, 5), nn.Linear(5, 1)))


def test_interrupted_save_leaves_nothing_behind(tmp_path, monkeypatch):
    def failing_save(obj, f, *args, **kwargs):
        with open(f, "wb") as handle:
            handle.write(b"half a checkpoint")
        raise KeyboardInterrupt  # as if the user stopped the kernel mid-write

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path / "model.pt", nn.Linear(2, 1))
    assert list(tmp_path.iterdir()) == []


def test_load_model_checks_the_tag_and_names_the_rebuild_command(tmp_path):
    from course_utils.checkpoints import load_model

    def build(config):
        return nn.Linear(**config)

    path = tmp_path / "layer.pt"
    config = {"in_features": 3, "out_features": 2}
    saved = nn.Linear(**config)
    save_checkpoint(path, saved, metadata={"model": "Linear", "config": config})
    model, metadata = load_model(path, "Linear", build, "layer", "make layer")
    assert not model.training and metadata["config"] == config
    assert torch.equal(model.weight, saved.weight)
    with pytest.raises(ValueError, match="another model, not a layer .*model='Codec'"):
        load_model(path, "Codec", build, "layer", "make layer")
    with pytest.raises(FileNotFoundError, match="no layer at .*build one with `make layer`"):
        load_model(tmp_path / "missing.pt", "Linear", build, "layer", "make layer")


def test_rebuild_command_passes_each_variant_its_path_and_options(tmp_path):
    from course_utils.checkpoints import rebuild_command

    calls = []

    def build(variant, path, overwrite, device):
        calls.append((variant, path, overwrite, device.type))
        return tmp_path / f"{variant}.pt"

    written = rebuild_command("demo", "Rebuild.", ["a", "b"], build, ["--device", "cpu"])
    assert written == [tmp_path / "a.pt", tmp_path / "b.pt"]
    assert calls == [("a", None, False, "cpu"), ("b", None, False, "cpu")]  # build's default
    calls.clear()
    argv = ["--variant", "b", "--folder", str(tmp_path), "--overwrite", "--device", "cpu"]
    rebuild_command("demo", "Rebuild.", ["a", "b"], build, argv)
    assert calls == [("b", tmp_path / "b.pt", True, "cpu")]
    with pytest.raises(SystemExit):  # argparse names the choices on stderr
        rebuild_command("demo", "Rebuild.", ["a", "b"], build, ["--variant", "c"])
