"""Speech recognition, end to end: lesson 08's data, training recipe, scores and checkpoints.

- `asr_corpus_configs`: spoken digit strings and command sentences (unseen test voices), and
  `long_digits_config`: digit strings twice as long as any in training, for the
  content-against-location test;
- `FeatureSet`: log-mel features (standardised per utterance) and transcripts of a split;
- `train_recognizer`: VTLP and SpecAugment per batch, the joint loss, AdamW with a one-cycle
  schedule through `course_utils.fit`; validation CER after every epoch;
- `transcribe` and `score`: CTC greedy, attention greedy or beam search (with CTC
  rescoring), and CER / WER;
- `load_recognizer` / `build_checkpoints`: the recognisers shipped with the course, and the
  one command that rebuilds them: ``python -m course_utils.asr_recipe --overwrite``.

Notebook: 08_speech_recognition.
"""

from __future__ import annotations

import argparse
import copy
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torchaudio.functional as AF

from .asr import ASRConfig, CharTokenizer, Recognizer
from .asr_decoding import attention_beam_search, attention_greedy_decode, ctc_greedy_decode
from .batch_augment import FrequencyWarp
from .checks import check_float_waveform, check_sample_rate
from .classifiers import standardize
from .corpus import CorpusConfig, CorpusSplit, build_corpus, digits_config, sentences_config
from .features import LogMel
from .metrics import error_rate
from .profile import Profile, get_profile
from .specaugment import SpecAugment, SpecAugmentConfig
from .training import History, TrainConfig, fit, load_checkpoint, save_checkpoint, to_device

__all__ = [
    "CHECKPOINT_DIR",
    "ASRHistory",
    "ASRRecipe",
    "FeatureSet",
    "asr_corpus_configs",
    "build_checkpoints",
    "checkpoint_path",
    "demo_digits_config",
    "load_recognizer",
    "log_mel_features",
    "recognize",
    "long_digits_config",
    "score",
    "train_recognizer",
    "transcribe",
]

CHECKPOINT_DIR = Path(__file__).parent / "checkpoints"
SAMPLE_RATE, HOP_LENGTH, N_MELS = 16_000, 160, 40  # 10 ms frames; x4 subsampling: 40 ms
DECODERS = ("ctc", "attention", "beam")


def asr_corpus_configs(profile: Profile) -> tuple[CorpusConfig, CorpusConfig]:
    """Digit strings (3 to 7 digits) and command sentences, sized by `profile`."""
    return digits_config(profile), sentences_config(profile)


def demo_digits_config(profile: Profile) -> CorpusConfig:
    """Short digit strings (2 to 4 digits) for lesson 08's side-by-side training runs."""
    n = profile.asr_demo_utterances
    return digits_config(profile, digits_per_string=(2, 4), utterances=(n, n // 4, n // 4))


def long_digits_config(profile: Profile, digits: int = 14) -> CorpusConfig:
    """Test voices saying strings of `digits` digits: twice the longest string in training."""
    n = profile.sentences_per_split // 8
    return digits_config(profile, digits_per_string=(digits, digits), utterances=(0, 0, n))


def log_mel_features(waveform: torch.Tensor, frontend: LogMel | None = None) -> torch.Tensor:
    """A 16 kHz waveform (time,) -> standardised log-mel features (n_mels, frames), as trained."""
    frontend = frontend or _frontend()
    return standardize(frontend(waveform)[None])[0]


def _frontend() -> LogMel:
    return LogMel(SAMPLE_RATE, hop_length=HOP_LENGTH, n_mels=N_MELS)


class FeatureSet:
    """Log-mel features and transcripts of corpus splits, ready for batching.

    Args:
        splits: one or more `CorpusSplit` (e.g. the digit and the sentence train splits).
        tokenizer: turns transcripts into ids.

    Attributes:
        features: list of (n_mels, frames) float tensors, each standardised on its own.
        texts: the transcripts, in the same order.
    """

    def __init__(self, splits: CorpusSplit | list[CorpusSplit], tokenizer: CharTokenizer):
        splits = [splits] if isinstance(splits, CorpusSplit) else list(splits)
        frontend = _frontend()
        self.tokenizer = tokenizer
        self.features, self.texts, self.voices = [], [], []
        for split in splits:
            if split.sample_rate != SAMPLE_RATE:
                raise ValueError(f"expected {SAMPLE_RATE} Hz speech, got {split.sample_rate} Hz")
            for i, item in enumerate(split.items):
                waveform = torch.from_numpy(split.waveform(i))
                self.features.append(log_mel_features(waveform, frontend))  # (n_mels, frames)
                self.texts.append(item["text"])
                self.voices.append(item["voice_variant"])
        if not self.features:
            raise ValueError("no utterances: the splits are empty")

    def __len__(self) -> int:
        return len(self.features)

    @classmethod
    def from_features(
        cls, features: list[torch.Tensor], texts: list[str], tokenizer: CharTokenizer,
        voices: list[str] | None = None,
    ) -> FeatureSet:  # fmt: skip
        """A FeatureSet of features already computed (with `log_mel_features`)."""
        data = cls.__new__(cls)
        data.features, data.texts, data.tokenizer = list(features), list(texts), tokenizer
        data.voices = list(voices) if voices is not None else [""] * len(data.features)
        return data

    def subset(self, indices: list[int]) -> FeatureSet:
        """A FeatureSet of the chosen utterances only (e.g. the first 100 for a slow decoder)."""
        pick = lambda values: [values[i] for i in indices]  # noqa: E731
        return FeatureSet.from_features(pick(self.features), pick(self.texts), self.tokenizer,
                                        pick(self.voices))  # fmt: skip

    def batch(self, indices: list[int]) -> dict:
        """Pad the chosen utterances: features (B, n_mels, frames), lengths, targets, texts."""
        chosen = [self.features[i] for i in indices]
        lengths = torch.tensor([f.shape[-1] for f in chosen])
        features = torch.zeros(len(chosen), N_MELS, int(lengths.max()))
        for row, f in enumerate(chosen):
            features[row, :, : f.shape[-1]] = f
        texts = [self.texts[i] for i in indices]
        targets, target_lengths = self.tokenizer.batch(texts)
        return {
            "features": features,  # (B, n_mels, frames)
            "lengths": lengths,  # (B,) valid frames
            "targets": targets,  # (B, max_tokens) character ids
            "target_lengths": target_lengths,  # (B,)
            "texts": texts,
            "indices": list(indices),  # positions in this FeatureSet
        }

    def batches(self, batch_size: int, generator: torch.Generator | None = None) -> list[dict]:
        """Batches of utterances of similar length (little padding); shuffled if `generator`."""
        order = sorted(range(len(self)), key=lambda i: self.features[i].shape[-1])
        groups = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        if generator is not None:
            groups = [groups[i] for i in torch.randperm(len(groups), generator=generator)]
        return [self.batch(group) for group in groups]


@dataclass(frozen=True)
class ASRRecipe:
    """How lesson 08 trains a recogniser."""

    epochs: int = 12  # passes over the training utterances
    batch_size: int = 32  # utterances per step
    learning_rate: float = 2e-3  # peak of the one-cycle schedule (AdamW)
    max_warp: float = 1.2  # VTLP: largest frequency stretch (1 = off)
    spec_augment: SpecAugmentConfig = field(
        default_factory=lambda: SpecAugmentConfig(freq_masks=2, freq_width=6, time_masks=2,
                                                  time_width=8, max_time_fraction=0.1)
    )  # fmt: skip
    seed: int = 0  # shuffling, dropout and the augmentation draws
    validation_utterances: int | None = 250  # scored after each epoch, evenly spread (None: all)


@dataclass
class ASRHistory(History):
    """`History` plus what a recogniser's training shows about its two losses and its attention."""

    ctc_losses: list[float] = field(default_factory=list)  # CTC term, every step
    attention_losses: list[float] = field(default_factory=list)  # speller term (empty: CTC alone)
    alignments: list[torch.Tensor] = field(default_factory=list)  # (tokens + 1, frames'), per epoch


class _Batches:
    """Re-shuffled bucketed batches at every epoch (what `fit` iterates over)."""

    def __init__(self, data: FeatureSet, batch_size: int, seed: int):
        self.data, self.batch_size = data, batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.n = len(data.batches(batch_size))

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        return iter(self.data.batches(self.batch_size, self.generator))


def train_recognizer(
    model: Recognizer,
    train: FeatureSet,
    validation: FeatureSet,
    recipe: ASRRecipe,
    device: torch.device | str,
    progress: bool = True,
    watch: int | None = None,
) -> ASRHistory:
    """Train `model` on `train` with `recipe`; validation CER (greedy) after every epoch.

    Args:
        watch: index of a validation utterance (among the `recipe.validation_utterances`
            scored) whose attention alignment (teacher-forced) is recorded after every epoch,
            in ``history.alignments``, to watch it form.

    Returns:
        an `ASRHistory`: per-step losses (total, CTC and speller terms), per-epoch validation
        "cer", and the watched alignments.
    """
    warp = FrequencyWarp(N_MELS, SAMPLE_RATE, max_factor=recipe.max_warp).to(device)
    masks = SpecAugment(recipe.spec_augment).to(device)
    if recipe.validation_utterances is not None and len(validation) > recipe.validation_utterances:
        step = len(validation) / recipe.validation_utterances
        validation = validation.subset([int(i * step) for i in range(recipe.validation_utterances)])
    validation_batches = validation.batches(64)

    ctc_losses, attention_losses = [], []

    def loss_fn(model, batch):
        with torch.no_grad():
            features = masks(warp(batch["features"]), batch["lengths"])
        out = model(features, batch["lengths"], batch["targets"], batch["target_lengths"])
        ctc_losses.append(float(out.ctc_loss.detach()))
        if out.attention_loss is not None:
            attention_losses.append(float(out.attention_loss.detach()))
        return out.loss

    alignments = []

    def evaluate(model, loader, device):
        cer = score(model, validation, "ctc" if model.decoder is None else "attention",
                    device, batches=loader)["cer"]  # fmt: skip
        if watch is not None and model.decoder is not None:
            item = to_device(validation.batch([watch]), device)
            out = model(item["features"], item["lengths"], item["targets"],
                        item["target_lengths"])  # fmt: skip
            alignments.append(out.alignments[0].cpu())  # (tokens + 1, frames')
        return {"cer": cer}

    loader = _Batches(train, recipe.batch_size, recipe.seed)
    config = TrainConfig(epochs=recipe.epochs, learning_rate=recipe.learning_rate,
                         seed=recipe.seed, grad_clip=5.0)  # fmt: skip
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate,
                                  weight_decay=config.weight_decay)  # fmt: skip
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=recipe.learning_rate, total_steps=recipe.epochs * len(loader),
        pct_start=0.15,
    )  # fmt: skip
    warp.train()
    masks.train()
    history = fit(model, loader, loss_fn, config, device, validation_batches, evaluate,
                  optimizer=optimizer, scheduler=scheduler, progress=progress)  # fmt: skip
    return ASRHistory(history.train_losses, history.epochs, ctc_losses, attention_losses,
                      alignments)  # fmt: skip


@torch.no_grad()
def transcribe(
    model: Recognizer,
    data: FeatureSet,
    decoder: str,
    device: torch.device | str,
    beam_size: int = 4,
    ctc_weight: float = 0.3,
    ctc_mode: str = "rescore",
    batches: list[dict] | None = None,
) -> list[str]:
    """Transcripts of every utterance of `data`, in its order.

    Args:
        decoder: "ctc" (greedy CTC), "attention" (greedy speller) or "beam" (speller beam
            search of `beam_size` with CTC weighted by `ctc_weight`, either re-ranking the
            finished hypotheses, ``ctc_mode="rescore"``, or scoring every step, "prefix";
            see `course_utils.asr_decoding.attention_beam_search`).
        batches: `data.batches(...)` to reuse (default: made here).
    """
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
    was_training = model.training
    model.eval().to(device)
    decode = data.tokenizer.decode
    hypotheses: list[str] = [""] * len(data)
    if decoder == "beam":
        for i, features in enumerate(data.features):
            best = attention_beam_search(model, features.to(device), beam_size=beam_size,
                                         ctc_weight=ctc_weight, ctc_mode=ctc_mode)  # fmt: skip
            hypotheses[i] = decode(best[0].tokens if best else [])
    else:  # greedy decoders run on batches
        for batch in batches if batches is not None else data.batches(64):
            features, lengths = batch["features"].to(device), batch["lengths"].to(device)
            if decoder == "ctc":
                encoded, encoder_lengths = model.encode(features, lengths)
                ids = ctc_greedy_decode(model.ctc_log_probs(encoded), encoder_lengths)
            else:
                ids, _ = attention_greedy_decode(model, features, lengths)
            for index, row in zip(batch["indices"], ids, strict=True):
                hypotheses[index] = decode(row)
    model.train(was_training)
    return hypotheses


def score(
    model: Recognizer,
    data: FeatureSet,
    decoder: str,
    device: torch.device | str,
    **options,
) -> dict[str, float]:
    """CER and WER of `model` on `data` with `decoder` (options: see `transcribe`)."""
    hypotheses = transcribe(model, data, decoder, device, **options)
    return {
        "cer": error_rate(data.texts, hypotheses, "char"),
        "wer": error_rate(data.texts, hypotheses, "word"),
    }


@torch.no_grad()
def recognize(
    model: Recognizer,
    waveform: torch.Tensor,
    sample_rate: int,
    tokenizer: CharTokenizer | None = None,
    decoder: str = "attention",
) -> str:
    """Transcribe one utterance at any sample rate: resample to 16 kHz, features, decode.

    Args:
        waveform: (time,) float audio in [-1, 1].
        sample_rate: its rate in Hz (resampled to 16 kHz when different).
        decoder: "ctc", "attention" or "beam" (see `transcribe`).
    """
    waveform = torch.as_tensor(waveform, dtype=torch.float32)
    check_float_waveform(waveform.numpy(), "waveform")
    check_sample_rate(sample_rate)
    if sample_rate != SAMPLE_RATE:
        waveform = AF.resample(waveform, sample_rate, SAMPLE_RATE)
    tokenizer = tokenizer or CharTokenizer()
    data = FeatureSet.from_features([log_mel_features(waveform)], [""], tokenizer)
    device = next(model.parameters()).device
    return transcribe(model, data, decoder, device)[0]


# --------------------------------------------------------------------------- checkpoints


def checkpoint_path(attention: str = "location") -> Path:
    """Where the shipped recogniser with `attention` ("location" or "content") lives."""
    return CHECKPOINT_DIR / f"asr_{attention}.pt"


def load_recognizer(
    path: str | Path | None = None, attention: str = "location"
) -> tuple[Recognizer, dict]:
    """A shipped (or any saved) recogniser in eval mode, and its metadata (config, scores)."""
    path = Path(path) if path is not None else checkpoint_path(attention)
    if not path.is_file():
        raise FileNotFoundError(
            f"no recogniser at {path}; build it with `python -m course_utils.asr_recipe`"
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        config = ASRConfig(**payload["metadata"]["config"])
    except Exception as error:  # torch raises several types for damaged files
        raise ValueError(
            f"{path} is corrupt or not a recogniser saved by `build_checkpoints`: {error}"
        ) from error
    model = Recognizer(config)
    metadata = load_checkpoint(path, model)
    return model.eval(), metadata


def build_checkpoints(
    attentions: tuple[str, ...] = ("location", "content"),
    profile: Profile | None = None,
    recipe: ASRRecipe = ASRRecipe(),
    folder: str | Path = CHECKPOINT_DIR,
    overwrite: bool = False,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> list[Path]:
    """Train the course's recognisers from scratch and save them (what ships with the course).

    One `Recognizer` per attention kind, the joint loss, `recipe`, the full profile's digit
    strings and sentences. The metadata records the config, recipe, training time and the
    test scores, so a learner can compare a rebuilt checkpoint with the shipped one.

    Returns:
        the paths written. Existing files are kept unless `overwrite` (FileExistsError).
    """
    profile = profile or get_profile("full")
    folder = Path(folder)
    targets = [folder / checkpoint_path(kind).name for kind in attentions]
    existing = [str(path) for path in targets if path.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{existing} exist; pass overwrite=True (--overwrite) to replace")
    tokenizer = CharTokenizer()
    corpora = [build_corpus(config, progress=progress) for config in asr_corpus_configs(profile)]
    train = FeatureSet([corpus["train"] for corpus in corpora], tokenizer)
    validation = FeatureSet([corpus["validation"] for corpus in corpora], tokenizer)
    test = FeatureSet([corpus["test"] for corpus in corpora], tokenizer)
    for kind, path in zip(attentions, targets, strict=True):
        torch.manual_seed(recipe.seed)
        model = Recognizer(ASRConfig(vocab_size=len(tokenizer), attention=kind))
        start = time.perf_counter()
        history = train_recognizer(model, train, validation, recipe, device, progress)
        seconds = time.perf_counter() - start
        model.cpu()
        scores = {decoder: score(model, test, decoder, "cpu") for decoder in ("ctc", "attention")}
        metadata = {
            "config": model.config.to_dict(),
            "recipe": {
                "epochs": recipe.epochs,
                "batch_size": recipe.batch_size,
                "learning_rate": recipe.learning_rate,
                "max_warp": recipe.max_warp,
                "seed": recipe.seed,
            },  # fmt: skip
            "train_seconds": round(seconds, 1),
            "threads": torch.get_num_threads(),
            "device": str(device),
            "validation_cer": [round(e["cer"], 4) for e in history.epochs],
            "test": scores,
        }
        save_checkpoint(path, _half(model), overwrite=overwrite, metadata=metadata)
        if progress:
            print(f"{path}: {seconds:.0f} s of training, test {scores}")
    return targets


def _half(model: Recognizer) -> Recognizer:
    """A float16 copy: half the file size; `load_recognizer` casts it back to float32."""
    return copy.deepcopy(model).half()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Rebuild lesson 08's shipped recognisers (course_utils/checkpoints/)."
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing checkpoints")
    parser.add_argument(
        "--attention", nargs="+", default=["location", "content"],
        choices=["location", "content"], help="which recognisers to build",
    )  # fmt: skip
    parser.add_argument("--folder", default=str(CHECKPOINT_DIR), help="where to write them")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    args = parser.parse_args(argv)
    build_checkpoints(tuple(args.attention), folder=args.folder, overwrite=args.overwrite,
                      device=args.device)  # fmt: skip


if __name__ == "__main__":
    main()
