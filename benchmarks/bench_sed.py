"""Lesson 07's sound event detection in the full profile: training time and test scores.

The recipe is the lesson's (sections 2-7 of notebooks/07_sound_event_detection.ipynb): the
full-profile scenes, 64-band log-mels at a 20 ms hop, the CRNN and the CNN + self-attention
model of `course_utils.sed` ("small" preset) trained with `cu.fit` (AdamW, one-cycle schedule,
binary cross-entropy per frame and class), the decoding threshold and median filter chosen per
class on the validation scenes, and sed_eval's scores on the unseen test scenes.

Targets (issue): event-based F1 >= 0.85 on the test scenes, the attention model >= the CRNN.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from course_utils import detection, scenes, sed
from course_utils.audio.features import LogMel
from course_utils.core.profiles import get_profile
from course_utils.training import TrainConfig, fit

HOP, N_MELS, N_FFT = 320, 64, 1024  # as the lesson
LEARNING_RATE, BATCH_SIZE = 3e-3, 16
TARGET_EVENT_F1 = 0.85


def _features(split, frontend, batch: int = 50) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([frontend(torch.from_numpy(split.waveforms(start, start + batch)))
                          for start in range(0, len(split), batch)])  # fmt: skip


def _probs(model, features: torch.Tensor) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return torch.cat([torch.sigmoid(model(x).logits) for x in features.split(64)])


def _loss(model, batch):
    x, y = batch
    return F.binary_cross_entropy_with_logits(model(x).logits, y)


def run() -> list[dict]:
    torch.set_num_threads(1)  # as the lesson does on a CPU: faster for these small models
    profile = get_profile("full")
    started = time.perf_counter()
    config = scenes.scene_config(profile)
    data = scenes.build_scenes(config, progress=False)
    frontend = LogMel(sample_rate=config.sample_rate, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS)
    features = {name: _features(split, frontend) for name, split in data.items()}
    labels = {name: torch.from_numpy(split.frame_labels(HOP)) for name, split in data.items()}
    hop_s, classes = HOP / config.sample_rate, config.classes
    prepared = round(time.perf_counter() - started, 1)
    rows = [_row("scenes and log-mel features (scenes cached)", prepared, "s")]
    scores = {}
    for name, cls in (("CRNN", sed.CRNN), ("CNN + self-attention", sed.CNNTransformer)):
        torch.manual_seed(0)
        model = cls(sed.sed_config("small", n_mels=N_MELS, num_classes=len(classes)))
        loader = DataLoader(TensorDataset(features["train"], labels["train"]),
                            batch_size=BATCH_SIZE, shuffle=True)  # fmt: skip
        train_config = TrainConfig(epochs=profile.sed_epochs, learning_rate=LEARNING_RATE, seed=0)
        optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE,
                                      weight_decay=train_config.weight_decay)  # fmt: skip
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=LEARNING_RATE, total_steps=train_config.epochs * len(loader)
        )
        start = time.perf_counter()
        fit(model, loader, _loss, train_config, "cpu", optimizer=optimizer, scheduler=schedule,
            progress=False)  # fmt: skip
        seconds = time.perf_counter() - start
        setting = detection.tune_decoding(
            _probs(model, features["validation"]), data["validation"].events, hop_s, classes,
            thresholds=(0.3, 0.4, 0.5, 0.6), medians=(1, 9))  # fmt: skip
        probs = _probs(model, features["test"])
        estimated = [
            detection.frames_to_events(
                p, hop_s, classes, setting["threshold"], setting["median_frames"]
            )
            for p in probs.numpy()
        ]
        event = detection.event_f1(data["test"].events, estimated, classes)["f1"]
        frame = detection.frame_f1(probs, labels["test"])["f1"]
        scores[name] = event
        rows += [
            _row(f"{name}: training time, {profile.sed_epochs} epochs of "
                 f"{len(data['train'])} scenes (1 thread)", round(seconds), "s"),
            _row(f"{name}: frame F1 (threshold 0.5), test scenes", round(frame, 3), ""),
            _row(f"{name}: event-based F1 (200 ms collar), test scenes", round(event, 3), "",
                 f">= {TARGET_EVENT_F1}", event >= TARGET_EVENT_F1),
        ]  # fmt: skip
    attention, crnn = scores["CNN + self-attention"], scores["CRNN"]
    rows.append(_row("event F1, attention minus CRNN", round(attention - crnn, 3), "", ">= 0",
                     attention >= crnn))  # fmt: skip
    rows.append(_row("total (scenes, features, both models, scoring)",
                     round(time.perf_counter() - started), "s"))  # fmt: skip
    return rows


def _row(measure, value, unit, target="", met=None) -> dict:
    return {"benchmark": "sed", "measure": measure, "value": value, "unit": unit,
            "target": target, "met": met}  # fmt: skip
