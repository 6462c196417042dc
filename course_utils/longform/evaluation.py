"""Keywords found in a long recording, and how well: detection, scoring and a baseline.

- `detect`: one recording of any length (16 kHz, checked first) -> events (onset, offset,
  keyword): the detector's frame classes (argmax of K + 1), a median filter, runs of one
  keyword read off as events, blips dropped;
- `score`: event-based F1 (`sed.events.event_f1`: onset collar 0.2 s as DCASE, offsets
  within max(0.2 s, 20 % of the word)) over fixed recordings, in points (F1 x 100), with
  the inference time per recording;
- `energy_baseline`: what an energy detector does: every loud stretch (a word, a filler,
  a distractor) labelled with one keyword, the most frequent in training. A detector that
  learned nothing about words scores about this.

Shapes: S samples, F input frames, T output frames, C classes.

Notebook: 12_long_audio_efficient_attention.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

import numpy as np
import torch

from ..core import check_sample_rate, check_waveform
from ..sed.events import event_f1, frames_to_events
from .data import KEYWORDS, Recording
from .model import LongformDetector

__all__ = [
    "MEDIAN_FRAMES",
    "MIN_SECONDS",
    "check_recording",
    "decode",
    "detect",
    "energy_baseline",
    "score",
]

MEDIAN_FRAMES = 5  # median filter over 5 output frames (0.2 s): fills gaps, removes blips
MIN_SECONDS = 0.1  # shorter detections are dropped: no word is this short


def check_recording(waveform, sample_rate: int, expected_rate: int = 16_000) -> torch.Tensor:
    """`waveform` as a float32 (S,) tensor if it is a usable recording at `expected_rate`;
    ValueError naming the problem otherwise (another rate, not 1-D, empty, NaN or infinite
    samples, silence, shorter than 0.1 s)."""
    if isinstance(waveform, np.ndarray):
        waveform = torch.from_numpy(np.ascontiguousarray(waveform))
    check_waveform(waveform, "waveform")  # a tensor or array, 1-D, not empty, finite
    if check_sample_rate(sample_rate) != expected_rate:
        raise ValueError(
            f"the detector takes recordings at {expected_rate} Hz, got {sample_rate} Hz: "
            "resample first (course_utils.audio.resample)"
        )
    waveform = waveform.detach().to("cpu", torch.float32)
    if waveform.numel() < expected_rate // 10:
        raise ValueError(f"waveform is too short: {waveform.numel()} samples, need 0.1 s")
    if not waveform.abs().max() > 0:
        raise ValueError("waveform is silent (all zeros): there is nothing to detect")
    return waveform


def decode(logits: torch.Tensor, hop_seconds: float, keywords: Sequence[str]) -> list:
    """Logits (T, C) of one recording -> events: argmax per frame, a median filter over
    `MEDIAN_FRAMES`, runs of a keyword as (onset, offset, keyword), shorter than
    `MIN_SECONDS` dropped.

    Example:
        >>> logits = torch.zeros(10, 3); logits[2:6, 1] = 5.0
        >>> decode(logits, 0.04, ["yes", "no"])
        [(0.08, 0.24, 'yes')]
    """
    if logits.ndim != 2 or logits.shape[1] != len(keywords) + 1:
        raise ValueError(f"logits must be (frames, {len(keywords) + 1}), got {tuple(logits.shape)}")
    best = logits.argmax(-1)  # (T,)
    onehot = torch.nn.functional.one_hot(best, len(keywords) + 1)[:, 1:]  # (T, K)
    return frames_to_events(
        onehot.numpy(),
        hop_seconds,
        list(keywords),
        median_frames=MEDIAN_FRAMES,
        min_duration=MIN_SECONDS,
    )


def detect(
    model: LongformDetector,
    waveform,
    sample_rate: int,
    keywords: Sequence[str] | None = None,
    device: torch.device | str | None = None,
) -> list:
    """The keywords in one recording of any length, as events.

    Args:
        model: a detector (`load_detector`), put in eval mode.
        waveform: (S,) float samples, numpy or torch, at the model's rate (16 kHz).
        sample_rate: the recording's rate; another one than the model's raises ValueError.
        keywords: class names 1..K (default `KEYWORDS`, the shipped detectors' classes; a
            checkpoint's are in its ``metadata["keywords"]``).
        device: where to run (default: where the model is).

    Returns:
        events (onset_s, offset_s, keyword), sorted by onset.

    Example:
        >>> from course_utils.longform.model import DetectorConfig
        >>> model = LongformDetector(DetectorConfig.preset("tiny", num_classes=3))
        >>> noise = 0.01 * torch.randn(32000)
        >>> isinstance(detect(model, noise, 16000, ["yes", "no"]), list)
        True

    Notebook: 12_long_audio_efficient_attention.
    """
    keywords = KEYWORDS if keywords is None else keywords
    if len(keywords) + 1 != model.config.num_classes:
        raise ValueError(
            f"the model has {model.config.num_classes - 1} keywords, got {len(keywords)} names"
        )
    waveform = check_recording(waveform, sample_rate, model.config.sample_rate)
    device = device or next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        features = model.features(waveform.to(device)[None])  # (1, M, F)
        logits = model(features)[0].float().cpu()  # (T, C)
    return decode(logits, model.config.output_hop_seconds, keywords)


def _points(scores: dict) -> dict:
    return {
        "f1": round(100 * scores["f1"], 2),
        "precision": round(100 * scores["precision"], 2),
        "recall": round(100 * scores["recall"], 2),
    }


def score(
    model: LongformDetector,
    recordings: Sequence[Recording],
    keywords: Sequence[str] | None = None,
    device: torch.device | str | None = None,
) -> dict:
    """Event-based F1, precision and recall in points over `recordings`, and the seconds
    that detection took per recording (features included, wall clock, no gradients).

    Returns:
        {"f1", "precision", "recall" (points), "seconds_per_recording", "recordings",
        "keywords" (reference events), "detections"}.

    Notebook: 12_long_audio_efficient_attention.
    """
    keywords = KEYWORDS if keywords is None else keywords
    if not recordings:
        raise ValueError("score needs at least one recording")
    estimated, seconds = [], []
    for recording in recordings:
        start = time.perf_counter()
        estimated.append(detect(model, recording.waveform, recording.sample_rate, keywords, device))
        seconds.append(time.perf_counter() - start)
    reference = [r.events for r in recordings]
    return {
        **_points(event_f1(reference, estimated, list(keywords))),
        "seconds_per_recording": round(float(np.mean(seconds)), 4),
        "recordings": len(recordings),
        "keywords": sum(map(len, reference)),
        "detections": sum(map(len, estimated)),
    }


def _energy_events(waveform: np.ndarray, sample_rate: int, label: str, threshold_db: float) -> list:
    """Stretches whose 10-ms frame energy is `threshold_db` over the recording's floor
    (its 20th percentile), median-filtered, as events of `label`."""
    hop = sample_rate // 100
    frames = waveform[: waveform.size // hop * hop].reshape(-1, hop)
    energy_db = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    active = energy_db > np.percentile(energy_db, 20) + threshold_db  # (F,)
    return frames_to_events(
        active[:, None].astype(np.float32),
        hop / sample_rate,
        [label],
        median_frames=11,
        min_duration=MIN_SECONDS,
    )


def energy_baseline(
    recordings: Sequence[Recording],
    keywords: Sequence[str] | None = None,
    training: Sequence[Recording] | None = None,
    threshold_db: float = 6.0,
) -> dict:
    """The score of a voice-activity detector that cannot tell words apart: every stretch
    `threshold_db` louder than the floor becomes an event of one keyword, the most frequent
    in `training` (recordings; default: the first keyword; keywords are drawn uniformly,
    so none is much more frequent than another). Scored as `score` does.

    Returns:
        {"f1", "precision", "recall" (points), "label", "detections"}.

    Notebook: 12_long_audio_efficient_attention.
    """
    keywords = KEYWORDS if keywords is None else keywords
    counts = Counter(label for r in training or () for *_, label in r.events)
    label = counts.most_common(1)[0][0] if counts else keywords[0]
    estimated = [_energy_events(r.waveform, r.sample_rate, label, threshold_db) for r in recordings]
    scores = event_f1([r.events for r in recordings], estimated, list(keywords))
    return {**_points(scores), "label": label, "detections": sum(map(len, estimated))}
