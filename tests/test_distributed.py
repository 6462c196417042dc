"""Tests for course_utils.distributed and `fit` under torchrun.

Outside torchrun every helper must be a no-op. Under torchrun, two CPU processes with a batch
of b each must train exactly like one process with a batch of 2b: the same per-step losses
and the same final weights (gradients are averaged, and the mean of two equal-sized batch
means is the mean over both).
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    DistributedSampler,
    IterableDataset,
    SequentialSampler,
    TensorDataset,
    WeightedRandomSampler,
)

from course_utils import distributed, distributed_data
from course_utils.training import TrainConfig, fit, save_checkpoint

REPOSITORY = Path(__file__).resolve().parents[1]


# A model whose loss calls its own method and submodule rather than forward: what a DDP
# wrapper hides, and what would escape gradient averaging if called on the bare model.
class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.head = nn.Linear(4, 8), nn.Linear(8, 1)

    def features(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.body(inputs))  # (batch, 8)


def regression_loss(model: TwoLayer, batch) -> torch.Tensor:
    inputs, targets = batch
    return nn.functional.mse_loss(model.head(model.features(inputs)), targets)


def regression_data() -> TensorDataset:
    """64 examples: (inputs (64, 4), targets (64, 1)), a noisy linear function."""
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(64, 4, generator=generator)
    noise = 0.1 * torch.randn(64, 1, generator=generator)
    targets = inputs @ torch.tensor([[1.0], [-2.0], [0.5], [0.0]]) + noise
    return TensorDataset(inputs, targets)


def train_regression(batch_size: int, progress: bool = False):
    """Train a seeded TwoLayer with SGD and clipping; (model, History)."""
    torch.manual_seed(0)
    model = TwoLayer()
    config = TrainConfig(epochs=2, grad_clip=0.5, seed=0)
    history = fit(
        model,
        DataLoader(regression_data(), batch_size=batch_size),
        regression_loss,
        config,
        "cpu",
        val_loader=DataLoader(regression_data(), batch_size=32),
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        progress=progress,
    )
    return model, history


def shuffled_run() -> dict:
    """Which examples each step saw (20 examples, batch 4, shuffled), and the scheduler steps."""
    seen: list[list[int]] = []

    def loss_fn(model, batch):
        (indices,) = batch
        seen.append(indices.flatten().long().tolist())
        return model(indices).pow(2).mean()

    model = nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(torch.arange(20.0)[:, None]), batch_size=4, shuffle=True)
    config = TrainConfig(epochs=2, seed=0)
    # Sized for one process, as the recipes do: it would raise if stepped past its end.
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=1e-3, total_steps=config.epochs * len(loader)
    )
    fit(model, loader, loss_fn, config, "cpu", optimizer=optimizer, scheduler=scheduler,
        progress=False)  # fmt: skip
    return {"seen": seen, "scheduler_steps": scheduler.last_epoch}


def run_in_child(out: Path) -> None:
    """What each torchrun process does (see `test_two_processes_train_like_one`)."""
    rank = distributed.rank()  # from torchrun's RANK: no process group before the first fit
    assert rank == int(os.environ["RANK"]) and not distributed.is_distributed()
    shown = io.StringIO()  # bars go to stderr in a terminal, epoch lines to stdout elsewhere
    with contextlib.redirect_stderr(shown), contextlib.redirect_stdout(shown):
        model, history = train_regression(batch_size=8, progress=True)
    result = {
        "world_size": distributed.world_size(),
        "train_losses": history.train_losses,
        "epochs": history.epochs,
        "state": model.state_dict(),
        "progress": shown.getvalue(),
        **shuffled_run(),
    }
    # Both processes save to one path without overwrite: only process 0 may write.
    save_checkpoint(out / "model.pt", model)
    unused = TwoLayer()  # `forward` is not defined and only `head` is trained below
    try:
        fit(unused, [(torch.randn(2, 8), torch.randn(2, 1))] * 2,
            lambda model, batch: nn.functional.mse_loss(model.head(batch[0]), batch[1]),
            TrainConfig(epochs=1), "cpu", progress=False)  # fmt: skip
    except ValueError as error:
        result["unused_error"] = str(error)
    torch.save(result, out / f"rank{rank}.pt")


CHILD = """
import sys
from pathlib import Path

sys.path.insert(0, sys.argv[2])
from test_distributed import run_in_child

run_in_child(Path(sys.argv[1]))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory) -> tuple[dict, dict, Path]:
    """Run `run_in_child` under torchrun in two CPU processes: rank 0's, rank 1's, folder.

    About 15 s on two cores, most of it each process importing torch and course_utils.
    """
    folder = tmp_path_factory.mktemp("torchrun")
    script = folder / "child.py"
    script.write_text(CHILD)
    env = {key: value for key, value in os.environ.items() if key not in ("RANK", "WORLD_SIZE")}
    env["OMP_NUM_THREADS"] = "1"  # two processes on a small machine
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPOSITORY), env.get("PYTHONPATH")]))
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
        "--master_addr=127.0.0.1", f"--master_port={free_port()}",
        str(script), str(folder), str(Path(__file__).parent),
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-8000:]
    rank0, rank1 = (torch.load(folder / f"rank{rank}.pt", weights_only=False) for rank in (0, 1))
    return rank0, rank1, folder


@pytest.mark.slow
def test_two_processes_train_like_one(two_processes):
    rank0, rank1, _ = two_processes
    assert rank0["world_size"] == rank1["world_size"] == 2
    model, history = train_regression(batch_size=16)  # one process, the same global batch
    assert len(rank0["train_losses"]) == len(history.train_losses) == 8
    torch.testing.assert_close(rank0["train_losses"], history.train_losses, rtol=1e-5, atol=1e-6)
    for name, value in model.state_dict().items():
        torch.testing.assert_close(rank0["state"][name], value, rtol=1e-5, atol=1e-5)
    assert [e["epoch"] for e in rank0["epochs"]] == [1, 2]
    for ours, reference in zip(rank0["epochs"], history.epochs, strict=True):
        assert ours["val_loss"] == pytest.approx(reference["val_loss"], rel=1e-5)
        assert ours["train_loss"] == pytest.approx(reference["train_loss"], rel=1e-5)


@pytest.mark.slow
def test_every_process_ends_with_the_same_history_and_weights(two_processes):
    rank0, rank1, _ = two_processes
    assert rank0["train_losses"] == rank1["train_losses"]
    assert rank0["epochs"] == rank1["epochs"]
    for name, value in rank0["state"].items():
        torch.testing.assert_close(rank1["state"][name], value, rtol=0, atol=0)


@pytest.mark.slow
def test_only_process_zero_shows_progress_and_writes(two_processes):
    rank0, rank1, folder = two_processes
    assert "epoch 1/" in rank0["progress"] and rank1["progress"] == ""
    saved = torch.load(folder / "model.pt", weights_only=True)["state_dict"]
    for name, value in rank0["state"].items():
        torch.testing.assert_close(saved[name], value)


@pytest.mark.slow
def test_shuffled_loader_is_split_and_reshuffled_every_epoch(two_processes):
    rank0, rank1, _ = two_processes
    steps = 3  # 10 examples per process, batches of 4
    for epoch in range(2):
        mine = [rank["seen"][epoch * steps : (epoch + 1) * steps] for rank in (rank0, rank1)]
        flat = [sorted(i for batch in part for i in batch) for part in mine]
        assert sorted(flat[0] + flat[1]) == list(range(20))  # disjoint halves, all examples
    assert rank0["seen"][:steps] != rank0["seen"][steps:]  # set_epoch: a new order
    # Two scheduler steps per step (one per batch of 4 taken), stopped at the schedule's end:
    # 2 x 3 steps per epoch, one more batch than the 5 of one process, which padding added.
    assert rank0["scheduler_steps"] == rank1["scheduler_steps"] == 2 * 5


@pytest.mark.slow
def test_unused_parameters_are_named(two_processes):
    for rank in two_processes[:2]:
        assert "body.weight" in rank["unused_error"] and "requires_grad_" in rank["unused_error"]


# Outside torchrun: everything is a no-op.


@pytest.fixture
def no_torchrun(monkeypatch):
    for name in distributed.TORCHRUN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert not distributed.is_distributed()


def test_helpers_are_no_ops_outside_torchrun(no_torchrun):
    assert not distributed.launched_by_torchrun()
    assert distributed.world_size() == 1 and distributed.rank() == 0
    assert distributed.is_main_process()
    assert distributed.init_distributed("cpu") == torch.device("cpu")
    assert distributed.local_device("cuda:1") == torch.device("cuda", 1)
    assert not distributed.is_distributed()
    model = nn.Linear(2, 1)
    assert distributed.wrap_model(model, "cpu") is model
    loader = DataLoader(TensorDataset(torch.zeros(6, 2)), batch_size=2, shuffle=True)
    assert distributed_data.distribute_loader(loader) is loader
    batches = [1, 2, 3]
    assert distributed_data.distribute_loader(batches) is batches
    assert distributed.average(2.5) == 2.5 and distributed.average(torch.tensor([0.25])) == 0.25
    record = {"epoch": 1}
    assert distributed.broadcast_object(record) is record
    sampler = DistributedSampler(range(4), num_replicas=2, rank=0)
    distributed_data.set_epoch(DataLoader(range(4), sampler=sampler), 3)
    assert sampler.epoch == 0


def test_wrap_loss_is_the_plain_loss_outside_torchrun(no_torchrun):
    torch.manual_seed(0)
    model, batch = TwoLayer(), (torch.randn(5, 4), torch.randn(5, 1))
    step = distributed.wrap_loss(model, regression_loss, "cpu")
    assert torch.equal(step(batch), regression_loss(model, batch))


@pytest.mark.parametrize(("length", "parts"), [(10, 3), (9, 3), (4, 4), (7, 1)])
def test_shard_batches_takes_every_parts_th_batch(length, parts):
    shards = [
        list(distributed_data.shard_batches(range(length), part, parts)) for part in range(parts)
    ]
    assert all(len(shard) == length // parts for shard in shards)
    taken = sorted(i for shard in shards for i in shard)
    assert taken == list(range(length // parts * parts))  # disjoint; the tail left out
    assert shards[0] == list(range(0, length // parts * parts, parts))


def test_shard_batches_rejects_bad_parts():
    with pytest.raises(ValueError, match="part must be in"):
        distributed_data.shard_batches(range(4), part=2, parts=2)
    with pytest.raises(ValueError, match="1 batch"):
        distributed_data.shard_batches([0], part=0, parts=2)


def test_torchrun_needs_a_supported_device(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("LOCAL_RANK", str(torch.cuda.device_count()))  # one GPU too far
    with pytest.raises(ValueError, match="'mps'"):
        distributed.init_distributed("mps")
    with pytest.raises(RuntimeError, match="nproc_per_node"):
        distributed.local_device("cuda")
    assert not distributed.is_distributed()


def test_check_all_parameters_trained_names_them():
    model = TwoLayer()
    model.head(torch.randn(2, 8)).sum().backward()
    with pytest.raises(ValueError, match=r"body\.weight, body\.bias got no gradient"):
        distributed.check_all_parameters_trained(model)
    model.body.requires_grad_(False)
    distributed.check_all_parameters_trained(model)


# One process in a real process group: the helpers act, with world_size 1.


@pytest.fixture
def one_process_group(no_torchrun):
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1
    )
    yield
    dist.destroy_process_group()


def test_fit_in_a_one_process_group_matches_plain_fit(no_torchrun):
    plain_model, plain = train_regression(batch_size=16)
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1
    )
    try:
        model, history = train_regression(batch_size=16)
    finally:
        dist.destroy_process_group()
    torch.testing.assert_close(history.train_losses, plain.train_losses)
    for ours, reference in zip(history.epochs, plain.epochs, strict=True):
        assert ours == pytest.approx(reference)
    for name, value in plain_model.state_dict().items():
        torch.testing.assert_close(model.state_dict()[name], value)


def collate(items):
    return torch.stack([item[0] for item in items])


def test_distribute_loader_keeps_the_loader_settings(one_process_group):
    dataset = TensorDataset(torch.arange(10.0))
    loader = DataLoader(dataset, batch_size=3, shuffle=True, collate_fn=collate, drop_last=True)
    ours = distributed_data.distribute_loader(loader, seed=5)
    assert isinstance(ours.sampler, DistributedSampler) and ours.sampler.shuffle
    assert ours.sampler.seed == 5 and ours.sampler.num_replicas == 1
    assert ours.dataset is dataset and ours.batch_size == 3
    assert ours.collate_fn is collate and ours.drop_last
    assert len(ours) == 3 and all(len(batch) == 3 for batch in ours)
    assert distributed_data.distribute_loader(ours) is ours  # already distributed
    distributed_data.set_epoch(ours, 4)
    assert ours.sampler.epoch == 4
    plain = distributed_data.distribute_loader(DataLoader(dataset, batch_size=4))
    assert not plain.sampler.shuffle
    assert torch.cat([batch for (batch,) in plain]).tolist() == list(range(10))
    assert len(distributed_data.distribute_loader([1, 2, 3])) == 3


class Stream(IterableDataset):
    def __iter__(self):
        return iter(range(4))


@pytest.mark.parametrize(
    ("make_loader", "message"),
    [
        (lambda d: DataLoader(Stream(), batch_size=2), "IterableDataset"),
        (
            lambda d: DataLoader(d, batch_sampler=BatchSampler(SequentialSampler(d), 2, False)),
            "batch_sampler",
        ),
        (
            lambda d: DataLoader(d, sampler=WeightedRandomSampler([1.0] * 10, 10)),
            "WeightedRandomSampler",
        ),
        (lambda d: (batch for batch in [1, 2]), "length"),
    ],
)
def test_distribute_loader_says_what_it_expected(one_process_group, make_loader, message):
    loader = make_loader(TensorDataset(torch.arange(10.0)))
    with pytest.raises(TypeError, match=message) as error:
        distributed_data.distribute_loader(loader)
    assert "expected" in str(error.value)


def test_collectives_in_a_one_process_group(one_process_group):
    assert distributed.is_distributed() and distributed.world_size() == 1
    assert distributed.average(torch.tensor(0.75)) == 0.75
    assert distributed.broadcast_object({"val_loss": 0.5}) == {"val_loss": 0.5}
    model = nn.BatchNorm1d(3)
    distributed.broadcast_buffers(model)
    torch.testing.assert_close(model.running_mean, torch.zeros(3))
    wrapped = distributed.wrap_model(nn.Linear(2, 1), "cpu")
    assert isinstance(wrapped, nn.parallel.DistributedDataParallel)
