"""Lesson 07's sound event detection in the full profile: training time and test scores.

The recipe is the lesson's, from `course_utils.sed.recipe` (sections 2-7 of
notebooks/07_sound_event_detection.ipynb): the full-profile scenes, 64-band log-mels at a
20 ms hop, the CRNN and the CNN + self-attention model of `course_utils.sed` ("small" preset)
trained by `train_detector` (AdamW, one-cycle schedule, binary cross-entropy per frame and
class, validation frame F1 per epoch), the decoding threshold and median filter chosen per
class on the validation scenes, and sed_eval's scores on the unseen test scenes.

Targets (issue): event-based F1 >= 0.85 on the test scenes, the attention model >= the CRNN.
"""

from __future__ import annotations

import time

import torch

from course_utils.core.profiles import get_profile
from course_utils.data.scenes import build_scenes, scene_config
from course_utils.sed import recipe as sed_recipe
from course_utils.sed.model import SEDConfig

TARGET_EVENT_F1 = 0.85


def run() -> list[dict]:
    torch.set_num_threads(1)  # as the lesson does on a CPU: faster for these small models
    profile = get_profile("full")
    recipe = sed_recipe.SEDRecipe.for_profile(profile)
    started = time.perf_counter()
    data = build_scenes(scene_config(profile), progress=False)
    frontend = sed_recipe.frontend(recipe, data["train"].sample_rate)
    features = {name: sed_recipe.scene_features(split, frontend) for name, split in data.items()}
    labels = {name: sed_recipe.frame_labels(split, recipe) for name, split in data.items()}
    classes = data["train"].classes
    prepared = round(time.perf_counter() - started, 1)
    rows = [_row("scenes and log-mel features (scenes cached)", prepared, "s")]
    scores = {}
    for name, detector in sed_recipe.DETECTORS.items():
        torch.manual_seed(recipe.seed)
        model = detector(SEDConfig.preset("small", n_mels=recipe.n_mels, num_classes=len(classes)))
        start = time.perf_counter()
        sed_recipe.train_detector(model, (features["train"], labels["train"]),
                                  (features["validation"], labels["validation"]), recipe, "cpu",
                                  progress=False)  # fmt: skip
        seconds = time.perf_counter() - start
        validation = sed_recipe.predict(model, features["validation"], "cpu")
        setting = sed_recipe.tune(validation, data["validation"], recipe)
        probs = sed_recipe.predict(model, features["test"], "cpu")
        result = sed_recipe.evaluate(probs, labels["test"], data["test"], setting, recipe)
        event, frame = result["event_f1"], result["frame_f1"]
        scores[name] = event
        rows += [
            _row(f"{name}: training time, {recipe.epochs} epochs of "
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
