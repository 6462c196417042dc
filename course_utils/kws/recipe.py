"""Keyword spotting, end to end: lesson 06's data, training recipe and evaluations.

The lesson builds each step in its cells; this module holds the same steps so that the
benchmark (`make bench`) and later lessons train and score the classifiers exactly as the
lesson does:

- `command_corpus_config`: digits, commands and an "unknown word" class (35 classes), and
  `clean_test_config`: the test voices without augmentation;
- `clips`: one split as a (clips, time) waveform tensor and its labels;
- `train_spotter`: per batch, an echo and noise at a random SNR (waveforms), log-mel, VTLP and
  SpecAugment (features), cross-entropy; AdamW with a one-cycle schedule through `course_utils.fit`;
- `predict_clips`, `accuracy_vs_snr`: scores on unseen voices, clean and in noise;
- `main`: ``python -m course_utils.kws`` trains the three spotters of the profile and
  prints their test accuracies (what the benchmark measures).

No checkpoint ships for lesson 06 (the lesson trains its spotters in minutes), so there is no
``load_`` or ``build_checkpoints`` here.

Notebook: 06_audio_classification.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from ..augment import (
    AugmentConfig,
    Echo,
    FrequencyWarp,
    NoiseMixer,
    SpecAugment,
    SpecAugmentConfig,
    colored_noise,
    snr_gain,
)
from ..core import Profile, check_waveform, get_profile, register_section, set_seed
from ..data import (
    COMMANDS,
    DIGITS,
    SPLITS,
    UNKNOWN_WORDS,
    CorpusConfig,
    CorpusSplit,
    build_corpus,
    words_config,
)
from ..metrics import accuracy, predict
from ..training import History, TrainConfig, adamw_one_cycle, fit
from .model import ClassifierConfig, KeywordSpotter, build_classifier

__all__ = [
    "KWSProfile",
    "KINDS",
    "SpotterRecipe",
    "accuracy_vs_snr",
    "clean_test_config",
    "clips",
    "command_corpus_config",
    "main",
    "new_spotter",
    "predict_clips",
    "train_spotter",
]


@dataclass(frozen=True)
class KWSProfile:
    """Lesson 06's sizes and thresholds in one profile (``get_profile().kws``)."""

    commands: int  # commands classified besides the 10 digits and "unknown"
    train_clips_per_word: int  # training clips per class
    epochs: int  # training epochs of each classifier (the same for all three)
    width: int  # channels of the CNN blocks, width of the KWT tokens
    min_accuracy: float  # best model's test accuracy (unseen voices, through recording devices)


register_section(
    "kws",
    full=KWSProfile(commands=24, train_clips_per_word=200, epochs=20, width=96, min_accuracy=0.93),
    ci=KWSProfile(commands=0, train_clips_per_word=100, epochs=12, width=64, min_accuracy=0.8),
)

KINDS = ("cnn_mean", "cnn_attention", "kwt")  # the three models lesson 06 compares


def command_corpus_config(profile: Profile, **overrides) -> CorpusConfig:
    """Digits, `profile.kws.commands` commands and one class for 20 out-of-vocabulary words.

    The full profile has 10 + 24 + 1 = 35 classes; the CI profile keeps digits and "unknown".
    The clips go through simulated recording devices (`AugmentConfig.recorded()`: microphones,
    8-12 kHz sound cards, codecs, hum, clipping) on top of the corpus's rooms and noise: on
    real speakers that is worth about ten points (`python -m benchmarks realspeech`).
    """
    sizes = (profile.kws.train_clips_per_word, profile.eval_clips_per_word,
             profile.eval_clips_per_word)  # fmt: skip
    words = DIGITS + COMMANDS[: profile.kws.commands]
    config = words_config(profile, words=words, clips_per_word=sizes, unknown_words=UNKNOWN_WORDS,
                          augment=AugmentConfig.recorded())  # fmt: skip
    return replace(config, **overrides)


def clean_test_config(profile: Profile) -> CorpusConfig:
    """The same test voices saying the same classes with no augmentation at all.

    Its score measures generalisation to new voices alone; the test split of
    `command_corpus_config` adds the corpus's noise, rooms and phone lines on top. Only the test
    split is generated (train and validation are empty).
    """
    n = profile.eval_clips_per_word
    return command_corpus_config(profile, augment=AugmentConfig.none(), clips_per_word=(0, 0, n))


def new_spotter(
    kind: str, labels: tuple[str, ...], profile: Profile, sample_rate: int = 16_000
) -> KeywordSpotter:
    """Lesson 06's spotter of `kind` ("cnn_mean", "cnn_attention" or "kwt") for `labels`."""
    config = ClassifierConfig.preset("small", len(labels), kind, width=profile.kws.width)
    return KeywordSpotter(build_classifier(config), labels, sample_rate)


def _check_clips(waveforms: torch.Tensor, labels: torch.Tensor | None, name: str,
                 num_classes: int | None = None) -> None:  # fmt: skip
    """The checks a model's forward no longer makes at every step: once, on the CPU data."""
    check_waveform(waveforms, f"{name} waveforms", ndims=(2,))
    if labels is None:
        return
    if labels.shape != (len(waveforms),):
        raise ValueError(
            f"{name} labels must have shape (clips,) = ({len(waveforms)},), got "
            f"{tuple(labels.shape)}"
        )
    if num_classes is not None and len(labels):
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= num_classes:
            raise ValueError(
                f"{name} labels must be class indices in [0, {num_classes}), got {low}..{high}"
            )


def clips(split: CorpusSplit) -> tuple[torch.Tensor, torch.Tensor]:
    """All clips of a words split: waveforms (clips, time) float32 and labels (clips,) int64."""
    lengths = np.diff(split.offsets)
    if len(lengths) == 0 or (lengths != lengths[0]).any():
        raise ValueError("clips() needs a non-empty words split whose clips share one length")
    waveforms = torch.from_numpy(split.audio.reshape(len(split), -1).astype(np.float32) / 32768)
    labels = torch.tensor([item["label"] for item in split.items])
    return waveforms, labels


@dataclass(frozen=True)
class SpotterRecipe:
    """How lesson 06 trains a keyword spotter; the same for the three models."""

    epochs: int = 20  # passes over the training clips
    batch_size: int = 64  # clips per step
    learning_rate: float = 3e-3  # peak of the one-cycle schedule (AdamW)
    noise_prob: float = 0.5  # chance that a clip gets fresh noise in a batch
    snr_db_range: tuple[float, float] = (-5.0, 30.0)  # that noise's SNR, dB
    echo_prob: float = 0.3  # chance of one strong reflection, 30-250 ms late
    max_warp: float = 1.25  # VTLP: largest frequency stretch (1 = off)
    spec_augment: SpecAugmentConfig = field(default_factory=SpecAugmentConfig)  # masks
    seed: int = 0  # shuffling, dropout and the augmentation draws


def train_spotter(
    spotter: KeywordSpotter,
    train: tuple[torch.Tensor, torch.Tensor],
    validation: tuple[torch.Tensor, torch.Tensor],
    recipe: SpotterRecipe,
    device: torch.device | str,
    progress: bool = True,
) -> History:
    """Train `spotter` on (waveforms, labels) with `recipe`; validation accuracy per epoch.

    Args:
        spotter: a `KeywordSpotter` (its classifier is trained, its front end is fixed).
        train, validation: (waveforms (clips, time) at the spotter's rate, labels (clips,)).
        recipe: the settings (see `SpotterRecipe`).
        device: where to train.
        progress: show progress bars (default True).

    Returns:
        the `History` of `course_utils.fit` (per-epoch "accuracy" on `validation`).

    Raises:
        ValueError: waveforms that are not (clips, time), hold NaN or inf, or labels that do
            not match them (checked once here, not at every step).
    """
    for name, (waveforms, labels) in (("train", train), ("validation", validation)):
        _check_clips(waveforms, labels, name, len(spotter.labels))
    sample_rate = spotter.sample_rate
    frontend = spotter.frontend
    echo = Echo(sample_rate, recipe.echo_prob)
    mixer = NoiseMixer(sample_rate, recipe.noise_prob, recipe.snr_db_range, seed=recipe.seed)
    warp = FrequencyWarp(frontend.n_mels, sample_rate, max_factor=recipe.max_warp)
    masks = SpecAugment(recipe.spec_augment)
    augmenters = torch.nn.ModuleList([echo, mixer, warp, masks]).to(device)

    def loss_fn(model, batch):
        waveforms, labels = batch
        with torch.no_grad():
            features, _ = model.features(mixer(echo(waveforms)))  # (batch, n_mels, frames)
            features = masks(warp(features))
        return F.cross_entropy(model.model(features).logits, labels)

    def evaluate(model, loader, device):
        return {"accuracy": accuracy(*predict(model, loader, device))}

    generator = torch.Generator().manual_seed(recipe.seed)
    loader = DataLoader(TensorDataset(*train), recipe.batch_size, shuffle=True,
                        generator=generator)  # fmt: skip
    val_loader = DataLoader(TensorDataset(*validation), batch_size=256)
    config = TrainConfig(epochs=recipe.epochs, learning_rate=recipe.learning_rate,
                         seed=recipe.seed)  # fmt: skip
    optimizer, scheduler = adamw_one_cycle(spotter, config, len(loader))
    augmenters.train()
    return fit(spotter, loader, loss_fn, config, device, val_loader, evaluate,
               optimizer=optimizer, scheduler=scheduler, progress=progress)  # fmt: skip


def predict_clips(
    spotter: KeywordSpotter, waveforms: torch.Tensor, device: torch.device | str,
    batch_size: int = 256,
) -> torch.Tensor:  # fmt: skip
    """Predicted classes (clips,) of (clips, time) waveforms at the spotter's sample rate."""
    _check_clips(waveforms, None, "predicted")
    dummy = torch.zeros(len(waveforms), dtype=torch.long)
    loader = DataLoader(TensorDataset(waveforms, dummy), batch_size=batch_size)
    return predict(spotter, loader, device)[0]


def accuracy_vs_snr(
    spotter: KeywordSpotter,
    waveforms: torch.Tensor,
    labels: torch.Tensor,
    snrs_db: tuple[float, ...],
    device: torch.device | str,
    color: str = "pink",
    seed: int = 0,
) -> list[float]:
    """Accuracy when each clip gets `color` noise at each SNR (dB, over the whole clip).

    The same noise clip is used for every SNR (only its level changes), so the curve shows
    the effect of the level alone.
    """
    rng = np.random.default_rng(seed)
    noise = torch.from_numpy(
        np.stack([colored_noise(waveforms.shape[1], color, rng) for _ in range(len(waveforms))])
    ).float()  # (clips, time)
    _check_clips(waveforms, labels, "scored")
    power = waveforms.pow(2).mean(dim=1, keepdim=True).clamp_min(1e-10)
    noise = noise * snr_gain(power, noise.pow(2).mean(dim=1, keepdim=True), 0.0)  # 0 dB
    scores = []
    for snr in snrs_db:
        noisy = waveforms + noise * 10 ** (-snr / 20)  # the same noise, snr dB quieter
        predictions = predict_clips(spotter, noisy, device)
        scores.append(accuracy(predictions, labels))
    return scores


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Train lesson 06's three spotters (`KINDS`) and print their test accuracies.

    ``python -m course_utils.kws [--profile ci] [--device cuda] [--kinds kwt]``: the
    corpus of `command_corpus_config`, `SpotterRecipe` with the profile's epochs, a fresh
    seed (0) before each model, as the benchmark (`make bench`) does.

    Returns:
        {kind: {"accuracy": test accuracy, "noisy accuracy": with pink noise at 0 dB}}.
    """
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.kws", description="Train lesson 06's keyword spotters."
    )
    parser.add_argument("--profile", default="full", help="full or ci (default full)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    args = parser.parse_args(argv)
    profile = get_profile(args.profile)
    corpus = build_corpus(command_corpus_config(profile), progress=False)
    train, validation, test = (clips(corpus[split]) for split in SPLITS)
    recipe = SpotterRecipe(epochs=profile.kws.epochs)
    results = {}
    for kind in args.kinds:
        set_seed(recipe.seed)
        spotter = new_spotter(kind, corpus.labels, profile, corpus.config.sample_rate)
        train_spotter(spotter, train, validation, recipe, args.device, progress=False)
        scores = {
            "accuracy": accuracy(predict_clips(spotter, test[0], args.device), test[1]),
            "noisy accuracy": accuracy_vs_snr(spotter, *test, (0.0,), args.device)[0],
        }
        results[kind] = scores
        print(f"{kind}: test accuracy {scores['accuracy']:.4f}, at 0 dB pink noise "
              f"{scores['noisy accuracy']:.4f}")  # fmt: skip
    return results


if __name__ == "__main__":
    main()
