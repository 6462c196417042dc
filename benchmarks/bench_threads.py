"""CPU threads for the course's models: time per training step, idle and beside a busy process.

The course's rule (`course_utils.cpu_threads`) leaves one core free; these figures are why.
For three models the lessons train (lesson 02's kind of attention-pooling classifier, lesson
06's keyword spotter, lesson 08's small recogniser), the median time of a training step
(forward, backward, AdamW) is measured with 1 thread and with every core, first on an idle
machine, then with one other process spinning on a core (a browser tab, a second kernel, a
build: what a learner's laptop usually has).

Run alone (`python -m benchmarks threads`): other jobs on the machine change the idle figures.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import torch
from torch import nn

from course_utils.asr.model import ASRConfig, Recognizer
from course_utils.core.runtime import cpu_threads, default_threads
from course_utils.kws.model import ClassifierConfig, build_classifier

STEPS = 30  # timed steps per measurement, after 5 warm-up steps


def _classifier_step(width: int, batch: int, frames: int):
    torch.manual_seed(0)
    model = build_classifier(ClassifierConfig.preset("small", 10, "cnn_attention", width=width))
    features, labels = torch.randn(batch, 40, frames), torch.randint(0, 10, (batch,))
    optimizer = torch.optim.AdamW(model.parameters())

    def step() -> None:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(features).logits, labels).backward()
        optimizer.step()

    return step


def _recognizer_step():
    torch.manual_seed(0)
    model = Recognizer(ASRConfig.preset("small"))
    features, lengths = torch.randn(8, 40, 150), torch.full((8,), 150)
    targets = torch.randint(2, 30, (8, 20))
    target_lengths = torch.full((8,), 20)
    optimizer = torch.optim.AdamW(model.parameters())

    def step() -> None:
        optimizer.zero_grad()
        model(features, lengths, targets, target_lengths).loss.backward()
        optimizer.step()

    return step


MODELS = {
    "CNN + attention pooling, width 32 (about lesson 02's size; batch 32, 1 s)":
        lambda: _classifier_step(width=32, batch=32, frames=101),
    "keyword spotter (lesson 06: batch 64, 1 s at 10 ms)":
        lambda: _classifier_step(width=96, batch=64, frames=101),
    "small recogniser (lesson 08: batch 8, 1.5 s)": _recognizer_step,
}  # fmt: skip


def _median_ms(step, threads: int) -> float:
    torch.set_num_threads(threads)
    for _ in range(5):
        step()
    times = []
    for _ in range(STEPS):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def _measure(label: str, thread_counts: list[int]) -> list[dict]:
    rows = []
    for name, make in MODELS.items():
        step = make()
        for threads in thread_counts:
            ms = round(_median_ms(step, threads), 1)
            rows.append({"benchmark": "threads", "unit": "ms/step", "value": ms,
                         "measure": f"{name}, {threads} thread(s), {label}"})  # fmt: skip
    return rows


def run() -> list[dict]:
    cores = default_threads()
    counts = sorted({1, cores})
    rows = _measure("idle machine", counts)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(1.0)
        rows += _measure("one other busy process", counts)
    finally:
        busy.kill()
        busy.wait()
    torch.set_num_threads(cpu_threads())
    rows.append({"benchmark": "threads", "measure": f"course rule on this machine ({cores} cores)",
                 "value": cpu_threads(), "unit": "thread(s)"})  # fmt: skip
    return rows
