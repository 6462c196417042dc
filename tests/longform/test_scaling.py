"""course_utils.longform.scaling: time and peak memory of attention, each in a fresh process;
course_utils.longform.gpu: the SDPA backends against the device's peak (CUDA only)."""

import pytest
import torch

from course_utils.longform import gpu, scaling

# name: (form, frames, measure's keyword arguments). Local runs one head (memory ~ heads, and
# 125 MB at 8,000 frames is far above the allocator's noise of about 1 MB), to save time.
RUNS = {
    "local 8k": ("local", 8_000, {"heads": 1}),
    "local 32k": ("local", 32_000, {"heads": 1}),
    "naive 1k": ("naive", 1_000, {}),
    "naive 4k": ("naive", 4_000, {}),
}


@pytest.fixture(scope="module")
def measured() -> dict[str, scaling.Measurement]:
    return {
        name: scaling.measure(form, frames, timeout=300, **kwargs)
        for name, (form, frames, kwargs) in RUNS.items()
    }


@pytest.mark.parametrize("name", ["local 8k", "naive 1k"])
def test_measure_reports_positive_time_and_memory(measured, name):
    result = measured[name]
    assert result.ok, result.error
    assert (result.form, result.frames) == RUNS[name][:2]
    assert not result.backward and not result.checkpoint
    assert result.seconds > 0 and result.peak_bytes > 0
    assert result.error is None


def test_a_checkpointed_backward_keeps_linear_memory():
    """Recomputation: 3x the frames, about 3x the memory; without it, about 9x."""
    growth = {}
    for checkpoint in (False, True):
        small, large = (
            scaling.measure("chunked", frames, backward=True, checkpoint=checkpoint, chunk=512)
            for frames in (1_500, 4_500)
        )
        assert small.ok and large.ok, (small.error, large.error)
        assert small.backward and small.checkpoint == checkpoint and small.seconds > 0
        growth[checkpoint] = large.peak_bytes / small.peak_bytes
    assert growth[True] < 5 < growth[False], growth


def test_local_memory_grows_linearly_and_naive_quadratically(measured):
    """The issue's test: extra peak memory in a fresh process, local ~ T and naive ~ T^2."""
    for result in measured.values():
        assert result.ok, result.error
    local = measured["local 32k"].peak_bytes / measured["local 8k"].peak_bytes  # 4x the frames
    naive = measured["naive 4k"].peak_bytes / measured["naive 1k"].peak_bytes  # 4x the frames
    assert local < 6, f"local attention's memory grew {local:.1f}x for 4x the frames"
    assert naive > 10, f"naive attention's memory grew only {naive:.1f}x for 4x the frames"
    # naive's extra memory is its weights: naive_bytes predicts it within a factor of 2
    assert 0.5 < measured["naive 4k"].peak_bytes / scaling.naive_bytes(4_000) < 2


def test_naive_is_refused_over_the_budget_without_running():
    result = scaling.measure("naive", 4_000, budget=1_000_000)
    assert not result.ok and result.seconds is None and result.peak_bytes is None
    assert "refused" in result.error and "budget" in result.error


def test_the_default_budget_is_a_share_of_the_ram():
    budget = scaling.memory_budget()
    if budget is None:
        pytest.skip("the RAM's size cannot be read here: no default guard")
    assert 10**8 < budget < 10**14
    # 360,000 frames (an hour of 10 ms frames) would need terabytes: refused, not swapped
    hour = scaling.measure("naive", 360_000)
    assert not hour.ok and "refused" in hour.error


def test_a_timed_out_child_is_reported_not_raised():
    result = scaling.measure("local", 2_000, timeout=0.2)
    assert not result.ok and "timed out" in result.error


def test_a_failure_in_the_process_is_reported_not_raised():
    result = scaling.measure("naive", 200_000, budget=10**15)  # 320 GB: the allocation fails
    assert not result.ok and result.seconds is None
    assert "allocate" in result.error or "died" in result.error, result.error


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"form": "bogus", "frames": 100}, "unknown form"),
        ({"form": "local", "frames": 0}, "frames must be a positive integer"),
        ({"form": "local", "frames": 100, "window": 2.5}, "window must be"),
        ({"form": "local", "frames": 100, "checkpoint": True}, "checkpoint applies"),
        ({"form": "fused", "frames": 100, "device": "tpu"}, "device must be"),
    ],
)
def test_bad_arguments_raise_before_any_process_starts(kwargs, message):
    with pytest.raises(ValueError, match=message):
        scaling.measure(**kwargs)


@pytest.mark.parametrize("power", [1, 2])
def test_log_log_slope_recovers_a_power_law(power):
    frames = [1_000, 2_000, 4_000, 8_000]
    assert scaling.log_log_slope(frames, [3.0 * t**power for t in frames]) == pytest.approx(power)


def test_log_log_slope_fits_the_last_points():
    frames = [10, 100, 1_000, 10_000]
    values = [5e6, 5e6, 1e7, 1e8]  # a constant floor, then linear growth
    assert scaling.log_log_slope(frames, values, last=2) == pytest.approx(1.0)
    assert scaling.log_log_slope(frames, values) < 0.9
    with pytest.raises(ValueError):
        scaling.log_log_slope(frames, values, last=1)
    with pytest.raises(ValueError):
        scaling.log_log_slope([1, 2], [1.0, 0.0])


def test_naive_bytes_counts_scores_and_weights():
    assert scaling.naive_bytes(1_000, heads=4, batch=2) == 2 * 2 * 4 * 1_000**2 * 4
    assert scaling.naive_bytes(10, dtype=torch.float16) == 2 * 4 * 100 * 2


def test_nominal_peaks_match_device_names():
    assert gpu.nominal_tflops("NVIDIA H100 80GB HBM3") == 989.0
    assert gpu.nominal_tflops("NVIDIA H100 PCIe") == 756.0
    assert gpu.nominal_tflops("Tesla T4") == 65.0
    assert gpu.nominal_tflops("NVIDIA L40S") is None  # not the L4


def test_scaling_curve_stops_at_the_first_failure():
    curve = scaling.scaling_curve("naive", [4_000, 8_000], budget=1)
    assert len(curve) == 1 and not curve[0].ok
    with pytest.raises(ValueError, match="increasing"):
        scaling.scaling_curve("local", [2_000, 1_000])


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_backend_table_rates_each_backend():
    rows = gpu.backend_table(4_096)
    assert {"math", "flash"} <= {row["backend"] for row in rows}
    assert all(row["matmul_tflops"] > 0 for row in rows)
    ran = [row for row in rows if row["error"] is None]
    assert {"math", "flash"} <= {row["backend"] for row in ran}, rows
    for row in ran:
        assert row["seconds"] > 0 and row["tflops"] > 0 and row["peak_bytes"] >= 0
        assert 0 < row["share_of_matmul"] < 1.5
