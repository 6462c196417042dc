"""Lesson 12's long audio: time and peak memory of attention against length, and the long task.

Each measurement runs in a fresh process (`course_utils.longform.scaling.measure`): batch 1,
4 heads of 64, float32, on the CPU with torch's default threads; peak memory is the extra
over the process's baseline (inputs made, the op warmed up at a tiny length).

1. Forward of naive (weights written out), fused (`F.scaled_dot_product_attention`), chunked
   (1024 x 1024 tiles) and local (window 256) attention at T = 1,000 ... 60,000 frames, each
   up to the largest T it fits (naive stops at the budget guard, half the RAM); the memory
   slope (log-log, largest 3 points) of each.
2. Forward + backward: local at every T; chunked without and with checkpointing up to 15,000
   (without, autograd keeps every tile: ~T^2).
3. Targets (issue): at T = 60,000, exact attention's forward (fused, chunked) and local
   attention's forward + backward run, with a memory slope <= 1.1.
4. The long task (`task_rows`): F1 and seconds per recording of the shipped local and full
   detectors at each test length of the full profile, and the energy baseline's F1; each
   detector's time and peak memory on one recording of the longest length (fresh process).
5. On CUDA: `backend_table` (time, TFLOP/s, share of peak per SDPA backend) at T = 4,096,
   16,384 and 65,536, fp16.

`python -m benchmarks longform` runs it all: 7.5 minutes on a quiet 2-core CPU (14-15 minutes
with another job on the cores), a third of it chunked attention's forward at 30,000 and
60,000 frames. With COURSE_PROFILE=ci the lengths stop at 4,000: a smoke check, no target rows.
"""

from __future__ import annotations

import torch

from course_utils.core.profiles import get_profile
from course_utils.longform.gpu import backend_table
from course_utils.longform.scaling import log_log_slope, scaling_curve

LENGTHS = (1_000, 2_000, 4_000, 8_000, 15_000, 30_000, 60_000)
BACKWARD_CHUNKED = 15_000  # chunked forward + backward stops here (minutes, and ~T^2 memory)
QUICK = 4_000  # the longest T with COURSE_PROFILE=ci
TARGET_T, TARGET_SLOPE = 60_000, 1.1
GPU_LENGTHS = (4_096, 16_384, 65_536)
TIMEOUT = 1_200.0  # seconds for one measurement (chunked forward at 60,000 took 213-281 s)
SETTING = "batch 1, 4 heads x 64, CPU"


def _row(measure: str, value, unit: str = "", target: str = "", met: bool | None = None) -> dict:
    return {
        "benchmark": "longform",
        "measure": measure,
        "value": value,
        "unit": unit,
        "target": target,
        "met": met,
    }


def curve(label: str, form: str, lengths, **kwargs) -> tuple[list[dict], dict]:
    """One form's scaling curve: a row per length, one for the slope, and a summary."""
    measured = scaling_curve(form, lengths, window=256, timeout=TIMEOUT, **kwargs)
    rows, fits = [], [m for m in measured if m.ok]
    for m in measured:
        value = (
            {"seconds": round(m.seconds, 3), "peak_mib": round(m.peak_bytes / 2**20, 1)}
            if m.ok
            else f"stopped: {m.error}"
        )
        rows.append(_row(f"{label}, T={m.frames:,} ({SETTING})", value))
    slope = None
    if len(fits) >= 2:
        slope = log_log_slope([m.frames for m in fits], [max(m.peak_bytes, 1) for m in fits], 3)
        rows.append(
            _row(
                f"{label}: memory slope, largest 3 T up to {fits[-1].frames:,}",
                round(slope, 2),
                "(log-log)",
            )
        )
    return rows, {"largest": fits[-1].frames if fits else 0, "slope": slope}


def target_row(label: str, summary: dict) -> dict:
    """The issue's target: runs at TARGET_T frames, memory slope <= TARGET_SLOPE."""
    slope = summary["slope"]
    met = summary["largest"] >= TARGET_T and slope is not None and slope <= TARGET_SLOPE
    value = f"largest T {summary['largest']:,}, slope {'-' if slope is None else f'{slope:.2f}'}"
    return _row(f"{label} at T={TARGET_T:,}", value, "", f"runs, slope <= {TARGET_SLOPE}", met)


def task_rows() -> list[dict]:
    """F1 and seconds per recording of the shipped detectors at each test length (full
    profile), against lesson 12's thresholds (`LongformProfile`)."""
    try:
        from course_utils.longform.recipe import (
            VARIANTS,
            detector_footprint,
            evaluate_variants,
            load_detector,
        )

        models = {variant: load_detector(variant)[0] for variant in VARIANTS}
    except (ImportError, FileNotFoundError, ValueError) as error:
        return [_row("long task: shipped detectors", f"not measured: {error}")]
    profile = get_profile("full")
    bar = profile.longform
    results = evaluate_variants(models, profile)
    rows = []
    for seconds, scores in results.items():
        for name, score in scores.items():
            value = {k: score[k] for k in ("f1", "seconds_per_recording") if k in score}
            measure = f"long task, {name}, {float(seconds):.0f} s recordings"
            if name == "baseline":
                rows.append(_row(measure, value, "F1 points"))
            else:
                rows.append(
                    _row(
                        measure,
                        value,
                        "F1 points, s",
                        f"F1 >= {bar.min_f1}",
                        score["f1"] >= bar.min_f1,
                    )
                )
    longest = results[max(results, key=float)]
    local, full = longest["local"], longest["full"]
    speedup = full["seconds_per_recording"] / local["seconds_per_recording"]
    gap = full["f1"] - local["f1"]
    rows.append(
        _row(
            "long task, longest recordings: full / local detection time",
            round(speedup, 2),
            "x",
            f">= {bar.min_speedup}",
            speedup >= bar.min_speedup,
        )
    )
    rows.append(
        _row(
            "long task, longest recordings: F1 of full minus local",
            round(gap, 2),
            "points",
            f"<= {bar.max_f1_gap}",
            gap <= bar.max_f1_gap,
        )
    )
    longest_seconds = max(float(seconds) for seconds in results)
    for variant in models:
        used = detector_footprint(variant, longest_seconds, timeout=TIMEOUT)
        value = (
            {"seconds": round(used.seconds, 2), "peak_mib": round(used.peak_bytes / 2**20, 1)}
            if used.ok
            else f"failed: {used.error}"
        )
        rows.append(
            _row(
                f"long task, {variant}: one {longest_seconds:.0f} s recording, fresh process", value
            )
        )
    return rows


def gpu_rows() -> list[dict]:
    """`backend_table` at each of GPU_LENGTHS, and the peak it measures against."""
    rows, keep = [], ("seconds", "tflops", "peak_bytes", "share_of_matmul", "share_of_nominal")
    for frames in GPU_LENGTHS:
        table = backend_table(frames)
        for row in table:
            value = {k: row[k] for k in keep if row[k] is not None} or f"failed: {row['error']}"
            rows.append(
                _row(
                    f"SDPA {row['backend']}, T={frames:,} (batch 1, 4 heads x 64, fp16, CUDA)",
                    value,
                )
            )
    measured, nominal = table[0]["matmul_tflops"], table[0]["nominal_tflops"]
    rows.append(
        _row(
            f"{torch.cuda.get_device_name()}: fp16 peak, 8192^3 matmul (datasheet)",
            f"{measured} ({nominal})",
            "TFLOP/s",
        )
    )
    return rows


def run() -> list[dict]:
    full = get_profile().name == "full"
    lengths = LENGTHS if full else tuple(t for t in LENGTHS if t <= QUICK)
    rows, summaries = [], {}
    for form in ("naive", "fused", "chunked", "local"):
        label = f"{form} forward" + (" (window 256)" if form == "local" else "")
        new, summaries[form] = curve(label, form, lengths)
        rows += new
    new, summaries["local backward"] = curve(
        "local forward+backward (window 256)", "local", lengths, backward=True
    )
    rows += new
    for checkpoint in (False, True):
        label = f"chunked forward+backward, checkpoint={checkpoint}"
        short = tuple(t for t in lengths if t <= BACKWARD_CHUNKED)
        rows += curve(label, "chunked", short, backward=True, checkpoint=checkpoint)[0]
    if full:
        rows.append(target_row("fused forward", summaries["fused"]))
        rows.append(target_row("chunked forward", summaries["chunked"]))
        rows.append(target_row("local forward+backward", summaries["local backward"]))
        rows += task_rows()
    if torch.cuda.is_available():
        rows += gpu_rows()
    return rows
