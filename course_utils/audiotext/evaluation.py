"""Scoring lesson 13's models on voices never heard in training, and searching one recording.

- `search`: a waveform at any rate and a typed word -> whether it is said and where;
- `detection_scores`: F1 of presence (scikit-learn) and the share of detected words whose
  attention peak lies within 100 ms of the word's true span;
- `distinct`, `retrieval_scores`: recall@1 and @5 of the dual encoder among candidate
  transcripts that all differ, both ways (audio -> text, text -> audio);
- `order_scores`: accuracy of an `OrderClassifier`; `compare_fusions`: both fusions trained
  on the same frozen encoders and scored on unseen voices.

Shapes: N utterances, Q queries, T frames, D embedding size.

Notebook: 13_multimodal_audio_text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from .audio_encoder import HOP_SECONDS, prepare_audio
from .contrastive import DualEncoder, recall_at_k
from .data import UtteranceSet
from .fusion import FUSIONS, OrderClassifier, SpokenTermDetector
from .text import encode_texts
from .train import (
    Schedule,
    audio_batch,
    encode_pairs,
    encode_queries,
    order_pairs,
    presence_queries,
    train_order,
)

__all__ = [
    "Found",
    "compare_fusions",
    "detection_scores",
    "distinct",
    "order_scores",
    "retrieval_scores",
    "search",
]


@dataclass(frozen=True)
class Found:
    """What `search` found: the presence probability, where attention peaked, the weights."""

    query: str
    probability: float  # sigmoid of the presence logit
    seconds: float  # centre of the frame with the largest weight
    weights: np.ndarray  # (T,), one per 40 ms frame, summing to 1

    @property
    def said(self) -> bool:
        return self.probability > 0.5


@torch.no_grad()
def search(detector: SpokenTermDetector, waveform, query: str, sample_rate: int = 16_000) -> Found:
    """Is `query` said in `waveform`, and where? Audio at another rate is resampled.

    Raises:
        ValueError: empty or non-finite audio, an empty query, characters outside a-z, ' and
            space, a query longer than the detector reads.

    Example:
        >>> from course_utils.audiotext.fusion import DetectorConfig
        >>> found = search(SpokenTermDetector(DetectorConfig(d_model=8)).eval(),
        ...                np.zeros(8000), "fan", sample_rate=8000)
        >>> found.weights.shape, round(float(found.weights.sum()), 4)
        ((26,), 1.0)
    """
    ids, lengths = encode_texts([query], detector.config.max_chars)
    waves, samples = prepare_audio(waveform, sample_rate)
    device = next(detector.parameters()).device
    detector.eval()
    logits, weights = detector(
        waves.to(device), samples.to(device), ids[None].to(device), lengths[None].to(device)
    )
    weights = weights[0, 0].cpu().numpy()
    return Found(
        query, float(torch.sigmoid(logits[0, 0])), float(weights.argmax()) * HOP_SECONDS, weights
    )


@torch.no_grad()
def detection_scores(
    detector: SpokenTermDetector,
    utterances: UtteranceSet,
    tolerance: float = 0.1,
    seed: int = 0,
    batch_size: int = 50,
) -> dict:
    """Presence F1 on one said and one unsaid query per utterance, and localisation.

    Returns:
        {"f1", "precision", "recall", "accuracy" (percent), "localised" (percent of the said queries
        detected whose attention peak lies within `tolerance` seconds of the word's span),
        "located" (how many those are), "records": one (text, query, label, probability,
        peak seconds, span or None) per query}.
    """
    rng = np.random.default_rng([seed, 1313])
    device = next(detector.parameters()).device
    detector.eval()
    records = []
    for start in range(0, len(utterances), batch_size):
        idx = list(range(start, min(start + batch_size, len(utterances))))
        waves, samples = audio_batch(utterances, idx)
        queries, labels = presence_queries([utterances.texts[i] for i in idx], rng)
        ids, lengths = encode_queries(queries, detector.config.max_chars, device)
        logits, weights = detector(waves.to(device), samples.to(device), ids, lengths)
        probs, peaks = torch.sigmoid(logits).cpu(), weights.argmax(-1).cpu() * HOP_SECONDS
        for row, i in enumerate(idx):
            for q, query in enumerate(queries[row]):
                records.append(
                    (
                        utterances.texts[i],
                        query,
                        int(labels[row, q]),
                        float(probs[row, q]),
                        float(peaks[row, q]),
                        utterances[i].span_of(query),
                    )
                )
    truth = [r[2] for r in records]
    said = [int(r[3] > 0.5) for r in records]
    hits = [
        a - tolerance <= peak <= b + tolerance
        for _, _, label, p, peak, span in records
        if label and p > 0.5
        for a, b in [span]
    ]
    return {
        "f1": 100 * f1_score(truth, said),
        "precision": 100 * precision_score(truth, said, zero_division=0),
        "recall": 100 * recall_score(truth, said),
        "accuracy": 100 * accuracy_score(truth, said),
        "localised": 100 * float(np.mean(hits)) if hits else 0.0,
        "located": len(hits),
        "records": records,
    }


def distinct(texts: list[str], count: int) -> list[int]:
    """Indices of the first `count` utterances whose transcripts all differ.

    Example:
        >>> distinct(["a", "b", "a", "c"], 3)
        [0, 1, 3]
    """
    seen, picked = set(), []
    for i, text in enumerate(texts):
        if text not in seen:
            seen.add(text)
            picked.append(i)
        if len(picked) == count:
            return picked
    raise ValueError(f"only {len(picked)} distinct transcripts among {len(texts)}; need {count}")


@torch.no_grad()
def retrieval_scores(
    model: DualEncoder, utterances: UtteranceSet, candidates: int = 100, batch_size: int = 50
) -> dict:
    """Each of `candidates` utterances with distinct transcripts against those transcripts.

    Returns:
        {"recall@1", "recall@5" (audio -> text, percent), "text recall@1", "text recall@5"
        (text -> audio), "similarity" (N, N) tensor (row: utterance, column: transcript),
        "texts", "indices"}.
    """
    idx = distinct(utterances.texts, candidates)
    texts = [utterances.texts[i] for i in idx]
    device = next(model.parameters()).device
    model.eval()
    audio = []
    for start in range(0, len(idx), batch_size):
        waves, samples = audio_batch(utterances, idx[start : start + batch_size])
        audio.append(model.embed_audio(waves.to(device), samples.to(device)))
    ids, lengths = encode_texts(texts, model.config.max_chars)
    text = model.embed_text(ids.to(device), lengths.to(device))
    similarity = (torch.cat(audio) @ text.T).cpu()  # (N, N)
    targets = torch.arange(len(idx))
    scores = {f"recall@{k}": 100 * recall_at_k(similarity, targets, k) for k in (1, 5)}
    scores |= {f"text recall@{k}": 100 * recall_at_k(similarity.T, targets, k) for k in (1, 5)}
    return scores | {"similarity": similarity, "texts": texts, "indices": idx}


@torch.no_grad()
def order_scores(model, encoded, labels: torch.Tensor, batch_size: int = 256) -> float:
    """Accuracy (percent) of an `OrderClassifier` on `encode_pairs` output and labels."""
    frames, padding, pairs = encoded
    model.eval()
    logits = torch.cat(
        [
            model(
                frames[i : i + batch_size], padding[i : i + batch_size], pairs[i : i + batch_size]
            )
            for i in range(0, len(labels), batch_size)
        ]
    )
    return 100 * ((logits > 0).float().cpu() == labels).double().mean().item()


def compare_fusions(
    detector: SpokenTermDetector,
    train: UtteranceSet,
    test: UtteranceSet,
    schedule: Schedule,
    device="cpu",
) -> dict:
    """ "Is word A said before word B?" with each fusion on `detector`'s frozen encoders:
    pairs drawn from the word lists (seeds 1 and 2), the encoders run once, each fusion
    trained with `schedule` (torch seed 0) and scored on `test`.

    Returns:
        {"models": {fusion: OrderClassifier}, "histories": {fusion: history},
        "accuracy": {fusion: percent}, "pairs": test pairs, "labels": test labels,
        "encoded": the test set through the encoders}.
    """
    train_pairs, train_labels = order_pairs(train.texts, np.random.default_rng(1))
    test_pairs, test_labels = order_pairs(test.texts, np.random.default_rng(2))
    models = {name: OrderClassifier(detector, name).to(device) for name in FUSIONS}
    encoded_train = encode_pairs(models["cross"], train, train_pairs, device)
    encoded_test = encode_pairs(models["cross"], test, test_pairs, device)
    histories, accuracy = {}, {}
    for name, model in models.items():
        torch.manual_seed(0)
        histories[name] = train_order(model, encoded_train, train_labels, schedule, progress=False)
        accuracy[name] = order_scores(model, encoded_test, test_labels)
    return {
        "models": models,
        "histories": histories,
        "accuracy": accuracy,
        "pairs": test_pairs,
        "labels": test_labels,
        "encoded": encoded_test,
    }
