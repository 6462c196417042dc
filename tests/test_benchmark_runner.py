"""`python -m benchmarks`: each benchmark starts as the machine does, and its stamp says so."""

import json
import sys
import types

import pytest
import torch

from benchmarks import __main__ as runner


@pytest.fixture
def two_benchmarks(monkeypatch, tmp_path):
    """bench_first drops to one thread (as the asr benchmark does); bench_second records."""
    seen = {}

    def first():
        torch.set_num_threads(1)
        return [{"benchmark": "first", "measure": "a figure", "value": 1.5, "unit": "s"}]

    def second():
        seen["threads"] = torch.get_num_threads()
        return [{"benchmark": "second", "measure": "figures", "value": {"x": 1, "y": 2}}]

    for name, run in (("first", first), ("second", second)):
        monkeypatch.setitem(sys.modules, f"benchmarks.bench_{name}", types.SimpleNamespace(run=run))
    monkeypatch.setattr(runner, "BENCHMARKS", ("first", "second"))
    monkeypatch.setattr(runner, "RESULTS", tmp_path)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    yield seen, tmp_path
    torch.set_num_threads(threads)


def test_each_benchmark_starts_with_the_threads_the_run_started_with(two_benchmarks):
    seen, results = two_benchmarks
    assert runner.main([]) == 0
    assert seen["threads"] == 2  # not the 1 that the first benchmark left behind
    for name in ("first", "second"):
        (row,) = json.loads((results / f"{name}.json").read_text())
        assert "2 threads" in row["machine"] and row["run_seconds"] >= 0 and row["date"]
    table = (results / "README.md").read_text()
    assert "## first" in table and "| a figure | 1.5 s |  |  |" in table
    assert "| figures | x 1, y 2 |  |  |" in table and "Measured " in table
