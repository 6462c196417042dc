"""How lesson 10's codecs are trained, and the two the course ships.

- `CodecRecipe`: the training settings (frozen), stored whole in every checkpoint;
- `codec_loss`: reconstruction (log magnitudes for the spectral decoder, multi-resolution
  STFT + log-mel for a waveform one) + commitment, one quantiser depth per batch;
- `train_codec`: the training loop (`course_utils.fit`, AdamW with one cycle);
- `load_codec` / `build_checkpoint`: the codecs shipped with the course, with and without
  transformer layers (`VARIANTS`; package data of `course_utils.codec`, found with
  `importlib.resources`), and what rebuilds them;
- `main`: ``python -m course_utils.codec`` rebuilds them into the data folder
  (``data/checkpoints/``), or where ``--folder`` says;
- `CodecProfile`: the lesson's sizes and thresholds (``get_profile().codec``).

Quantiser dropout (Zeghidour et al. 2021): every batch draws how many residual-VQ stages
it uses from `n_q_choices`, so one model learns to decode 1.5, 3 and 6 kbps.

Shapes: B batch, S samples, Q stages, T frames.

Notebook: 10_neural_audio_compression.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass, replace
from importlib import resources
from pathlib import Path

import torch

from ..checkpoints import load_model, load_shipped
from ..core import data_dir, get_device, get_profile, register_section
from ..data import build_corpus
from ..training import History, TrainConfig, adamw_one_cycle, fit, save_checkpoint
from .data import CodecSpeech, RandomCrops, codec_corpus_configs, load_codec_speech
from .losses import LogMagnitudeLoss, MelLoss, MultiResolutionSTFTLoss
from .model import Codec, CodecConfig

__all__ = [
    "CHECKPOINT_DIR",
    "CHECKPOINT_NAME",
    "VARIANTS",
    "CodecProfile",
    "CodecRecipe",
    "build_checkpoint",
    "checkpoint_name",
    "checkpoint_path",
    "codec_loss",
    "load_codec",
    "main",
    "save_codec",
    "test_clips",
    "train_codec",
]

CHECKPOINT_NAME = "codec.pt"
# The shipped codecs: the attention variant (what the lesson uses) and, for the comparison of
# lesson 10's section 9, the same recipe without the transformer layers.
VARIANTS = {"attention": 2, "conv": 0}  # variant -> transformer_layers


@dataclass(frozen=True)
class CodecRecipe:
    """Training settings of the shipped codecs: 8,000 steps of 8 one-second crops, about half
    an hour on one CPU thread (33 min with the transformer layers, 28 without)."""

    preset: str = "small"  # CodecConfig.preset
    transformer_layers: int = 2  # the attention variant ships; 0 trains the conv-only one
    epochs: int = 80
    batches_per_epoch: int = 100
    batch_size: int = 8  # crops per batch
    crop_seconds: float = 1.0
    learning_rate: float = 1e-3  # peak of the one-cycle schedule
    warmup: float = 0.05  # share of the steps warming up
    grad_clip: float = 1.0
    n_q_choices: tuple[int, ...] = (3, 6, 12)  # quantiser dropout: 1.5, 3 and 6 kbps
    autoencoder_steps: int = 400  # first steps without the quantiser (see CodecLoss)
    mel_weight: float = 1.0  # waveform ("conv") decoders: weight of the log-mel loss
    commitment_weight: float = 1.0
    validation_crops: int = 32
    seed: int = 0

    def config(self) -> CodecConfig:
        return CodecConfig.preset(self.preset, transformer_layers=self.transformer_layers)


class CodecLoss(torch.nn.Module):
    """Reconstruction plus weighted commitment, with a random number of stages
    (`n_q_choices`) in training and all of them in eval. Reconstruction: `LogMagnitudeLoss`
    for a magnitude decoder; multi-resolution STFT + weighted log-mel for a waveform one.

    The first `autoencoder_steps` training calls skip the quantiser: an untrained encoder's
    latents carry next to nothing, and codebooks initialised on them by k-means collapse onto
    a few codes. After those steps the codebooks start from k-means of informative latents.
    In eval mode the quantiser is used once its codebooks exist.
    """

    def __init__(self, recipe: CodecRecipe, config: CodecConfig):
        super().__init__()
        if max(recipe.n_q_choices) > config.n_q or min(recipe.n_q_choices) < 1:
            raise ValueError(
                f"n_q_choices {recipe.n_q_choices} must lie between 1 and the codec's "
                f"{config.n_q} stages"
            )
        self.recipe = recipe
        if config.decoder == "magnitude":
            self.magnitude = LogMagnitudeLoss(config.n_fft, config.hop // 2, config.sample_rate)
        else:
            self.stft, self.mel = MultiResolutionSTFTLoss(), MelLoss(config.sample_rate)
        self.steps = 0  # training calls so far

    def forward(self, model: Codec, batch: torch.Tensor, n_q: int | None = None) -> torch.Tensor:
        if model.training:
            quantize = self.steps >= self.recipe.autoencoder_steps
            self.steps += 1
        else:  # evaluation quantises once the codebooks exist
            quantize = bool(model.quantizer.stages[0].initialized)
        if n_q is None and model.training:
            choices = self.recipe.n_q_choices
            n_q = choices[int(torch.randint(len(choices), ()))]
        output, _, commitment = model(batch, n_q, quantize)
        if model.config.decoder == "magnitude":
            reconstruction = self.magnitude(output, model.pad(batch))
        else:
            output = output[..., : batch.shape[-1]]
            mel = self.mel(output, batch)
            reconstruction = self.stft(output, batch) + self.recipe.mel_weight * mel
        return reconstruction + self.recipe.commitment_weight * commitment


def codec_loss(recipe: CodecRecipe, config: CodecConfig | None = None) -> CodecLoss:
    """The loss `train_codec` minimises, as ``loss(model, batch[, n_q])``, for a codec built
    with `config` (default ``recipe.config()``)."""
    return CodecLoss(recipe, config or recipe.config())


def train_codec(
    model: Codec,
    train: CodecSpeech,
    validation: CodecSpeech,
    recipe: CodecRecipe = CodecRecipe(),
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> History:
    """Train `model` on random crops of `train`; after every epoch the validation loss
    (all stages) on fixed crops of `validation`."""
    samples = int(recipe.crop_seconds * model.config.sample_rate)
    loader = RandomCrops(train, samples, recipe.batch_size, recipe.batches_per_epoch, recipe.seed)
    held_out = list(RandomCrops(validation, samples, recipe.validation_crops, 1, recipe.seed + 1))
    loss = codec_loss(recipe, model.config).to(device)
    config = TrainConfig(epochs=recipe.epochs, learning_rate=recipe.learning_rate,
                         grad_clip=recipe.grad_clip, seed=recipe.seed)  # fmt: skip
    optimizer, scheduler = adamw_one_cycle(model, config, len(loader), pct_start=recipe.warmup)
    return fit(model, loader, loss, config, device, held_out, optimizer=optimizer,
               scheduler=scheduler, progress=progress)  # fmt: skip


# --------------------------------------------------------------------------- checkpoint


@dataclass(frozen=True)
class CodecProfile:
    """Lesson 10's sizes and thresholds in one profile (``get_profile().codec``)."""

    eval_clips: int  # test clips (unseen voices) every system is scored on
    demo_steps: int  # steps of the lesson's own short training runs (tiny codec)
    demo_min_gain_db: float  # its mel distance falls at least this much below an untrained one
    min_stoi_6kbps: float  # the shipped codec's STOI at 6 kbps, at least
    min_stoi_1_5kbps: float  # ... at 1.5 kbps
    min_codebook_use: float  # share of the codes every stage uses over the test utterances
    max_cer_ratio: float  # CER at 6 kbps over the CER of the originals, at most


# Shipped-codec thresholds, below what the shipped codec measured (1 December 2026): on the
# full profile's 48 test clips STOI 0.859 at 6 kbps and 0.835 at 1.5 kbps, CER 1.4 % as on
# the originals; on the CI profile's 12 clips 0.845 and 0.820, CER 3.1 % (4.1 % on the
# originals). Codebook use is counted over every test utterance of the profile (1,000 in the
# full profile: 98 % of the codes in every stage; 100 in the CI profile: 86 %): a few clips
# have too few frames to show 1,024 codes, however evenly they are used.
register_section(
    "codec",
    full=CodecProfile(eval_clips=48, demo_steps=600, demo_min_gain_db=10.0, min_stoi_6kbps=0.84,
                      min_stoi_1_5kbps=0.81, min_codebook_use=0.8, max_cer_ratio=1.5),
    ci=CodecProfile(eval_clips=12, demo_steps=120, demo_min_gain_db=3.0, min_stoi_6kbps=0.82,
                    min_stoi_1_5kbps=0.79, min_codebook_use=0.7, max_cer_ratio=1.5),
)  # fmt: skip

# The shipped codec: package data of course_utils.codec (pyproject's package-data), found
# through importlib.resources so that a wheel finds it as an editable install does.
CHECKPOINT_DIR = Path(str(resources.files(__package__) / "checkpoints"))


def checkpoint_name(variant: str = "attention") -> str:
    """The file name of a shipped codec: "codec.pt" or "codec_conv.pt"."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
    return CHECKPOINT_NAME if variant == "attention" else f"codec_{variant}.pt"


def checkpoint_path(variant: str = "attention") -> Path:
    """Where a shipped codec lives (package data of `course_utils.codec`)."""
    return CHECKPOINT_DIR / checkpoint_name(variant)


def load_codec(path: str | Path | None = None, variant: str = "attention") -> tuple[Codec, dict]:
    """A shipped (or any saved) codec in eval mode, and its metadata (recipe, scores).

    Args:
        path: a file written by `build_checkpoint`; None (default) loads a shipped one.
        variant: which shipped codec, "attention" (default: with the latent transformers)
            or "conv" (the same recipe without them).

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: a corrupt file, a checkpoint of another model, an unknown variant.
    """
    return load_shipped(__package__, checkpoint_name(variant), path, _load)


def _load(path: Path) -> tuple[Codec, dict]:
    def build(config: dict) -> Codec:
        return Codec(CodecConfig(**{**config, "strides": tuple(config["strides"])}))

    return load_model(path, "Codec", build, "codec", "python -m course_utils.codec")


def save_codec(path: str | Path, model: Codec, metadata: dict, overwrite: bool = False) -> Path:
    """Save `model` in half precision (half the size; the codec sounds the same) with
    `metadata` (its config is added), atomically; FileExistsError unless `overwrite`."""
    half = Codec(model.config)
    half.load_state_dict(model.state_dict())
    metadata = {"model": "Codec", "config": asdict(model.config), **metadata}
    return save_checkpoint(path, half.half(), overwrite=overwrite, metadata=metadata)


def build_checkpoint(
    path: str | Path | None = None,
    variant: str = "attention",
    recipe: CodecRecipe | None = None,
    overwrite: bool = False,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> Path:
    """Train the course's codec from scratch, score it and save it (what ships).

    The metadata records the config, the whole recipe (`dataclasses.asdict`), the training
    time, the validation losses per epoch and the codec's scores on the full profile's
    test clips (`rate_distortion` without the classic codecs, lesson 08's recogniser judging).

    Args:
        path: where to write; None (default) is ``cu.data_dir() / "checkpoints" /
            checkpoint_name(variant)``. The shipped files are replaced only when told so:
            pass ``checkpoint_path(variant)`` (``--folder course_utils/codec/checkpoints``).
        variant: "attention" (default) or "conv" (no transformer layers).
        recipe: default ``CodecRecipe(transformer_layers=VARIANTS[variant])``.
        overwrite: replace an existing file (default False: FileExistsError).
    """
    from ..asr import load_recognizer
    from .evaluation import codebook_use, rate_distortion

    name = checkpoint_name(variant)
    recipe = recipe or CodecRecipe(transformer_layers=VARIANTS[variant])
    path = Path(path) if path is not None else data_dir() / "checkpoints" / name
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite) to replace it")
    profile = get_profile("full")
    train, validation = (
        load_codec_speech(profile, "train"),
        load_codec_speech(profile, "validation"),
    )
    torch.manual_seed(recipe.seed)
    model = Codec(recipe.config())
    start = time.perf_counter()
    history = train_codec(model, train, validation, recipe, device, progress)
    seconds = time.perf_counter() - start
    model.cpu().eval()
    test = test_clips(profile)
    metadata = {
        "recipe": asdict(recipe),  # all of it: the run can be repeated from the file
        "train_seconds": round(seconds, 1),
        "threads": torch.get_num_threads(),
        "device": str(device),
        "validation": [round(e["val_loss"], 4) for e in history.epochs],
        "test": rate_distortion(model, test, recognizer=load_recognizer()[0], classic=False),
        "codebook_use": codebook_use(model, test.waves),
    }
    save_codec(path, model, metadata, overwrite=overwrite)
    if progress:
        print(f"{path}: {seconds:.0f} s of training, test {metadata['test']}")
    return path


def test_clips(profile=None) -> CodecSpeech:
    """The clips the lesson and the benchmark score every system on: `eval_clips` utterances
    of the test voices (never heard in training), half digit strings, half command sentences,
    clean (no augmentation). Only the test split is generated, so this is quick."""
    profile = profile or get_profile()
    n = profile.codec.eval_clips
    waves, texts = [], []
    for config in codec_corpus_configs(profile):
        corpus = build_corpus(replace(config, utterances=(0, 0, n // 2)), progress=False)["test"]
        waves += [corpus.waveform(i) for i in range(len(corpus))]
        texts += [item["text"] for item in corpus.items]
    return CodecSpeech(waves, texts, corpus.sample_rate)


def main(argv: list[str] | None = None) -> list[Path]:
    """``python -m course_utils.codec``: rebuild lesson 10's codecs (about an hour each on 2
    cores)."""
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.codec",
        description="Rebuild lesson 10's codecs (the shipped ones are in "
        "course_utils/codec/checkpoints/).",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")
    parser.add_argument("--variant", nargs="+", default=list(VARIANTS), choices=list(VARIANTS),
                        help="which codecs to build")  # fmt: skip
    parser.add_argument(
        "--folder", default=None, help="where to write it (default: the data folder's checkpoints/)"
    )
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best)")
    args = parser.parse_args(argv)
    device = get_device(args.device)  # also sets the CPU threads by the course's rule
    folder = Path(args.folder) if args.folder else data_dir() / "checkpoints"
    return [build_checkpoint(folder / checkpoint_name(v), v, overwrite=args.overwrite,
                             device=device) for v in args.variant]  # fmt: skip
