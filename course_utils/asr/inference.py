"""Speech recognition at use time: transcripts, scores, and one utterance at any sample rate.

- `transcribe`: every utterance of a `FeatureSet` with greedy CTC, the greedy speller, or
  beam search (with CTC rescoring or joint decoding);
- `score`: their character and word error rates;
- `recognize`: one waveform at any sample rate, resampled to 16 kHz, to text;
- `recognizer_cer`: the CER of a list of waveforms that should say given texts, each padded
  with `PAD_SECONDS` of silence first: lessons 09, 10 and 11 judge synthesised, decoded
  and restored speech with it.

These are public entry points: they check their input's values (lengths, NaN) once, which the
model's `forward` leaves to them. `course_utils.asr.recipe` re-exports all three.

Notebook: 08_speech_recognition.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from ..audio import resample
from ..core import check_features, check_sample_rate, check_waveform
from ..metrics import error_rate
from .dataset import SAMPLE_RATE, FeatureSet, log_mel_features
from .decoding import attention_beam_search, attention_greedy_decode, ctc_greedy_decode
from .model import Recognizer
from .tokenizer import CharTokenizer

__all__ = ["DECODERS", "PAD_SECONDS", "recognize", "recognizer_cer", "score", "transcribe"]

DECODERS = ("ctc", "attention", "beam")
# The recogniser was trained on clips with silence around the speech: clips cut tight to the
# speech (synthesised, or trimmed corpus audio) get this much silence on each side first.
PAD_SECONDS = 0.25


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
    progress: bool = False,
) -> list[str]:
    """Transcripts of every utterance of `data`, in its order.

    Args:
        decoder: "ctc" (greedy CTC), "attention" (greedy speller) or "beam" (speller beam
            search of `beam_size` with CTC weighted by `ctc_weight`, either re-ranking the
            finished hypotheses, ``ctc_mode="rescore"``, or scoring every step, "prefix";
            see `course_utils.asr.decoding.attention_beam_search`).
        batches: `data.batches(...)` to reuse (default: made here).
        progress: print a line after each quarter of the utterances (beam search only: it
            decodes one utterance at a time and can take minutes; default False).
    """
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
    was_training = model.training
    model.eval().to(device)
    decode = data.tokenizer.decode
    hypotheses: list[str] = [""] * len(data)
    if decoder == "beam":
        started, quarter = time.perf_counter(), max(len(data) // 4, 1)
        for i, features in enumerate(data.features):
            best = attention_beam_search(model, features.to(device), beam_size=beam_size,
                                         ctc_weight=ctc_weight, ctc_mode=ctc_mode)  # fmt: skip
            hypotheses[i] = decode(best[0].tokens if best else [])
            if progress and ((i + 1) % quarter == 0 or i + 1 == len(data)):
                seconds = time.perf_counter() - started
                print(f"  beam search: {i + 1}/{len(data)} utterances, {seconds:.0f} s", flush=True)
    else:  # greedy decoders run on batches
        for batch in batches if batches is not None else data.batches(64):
            if decoder == "ctc":  # the attention decoder checks its input itself
                check_features(batch["features"], model.config.n_mels, batch["lengths"])
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
    """CER and WER of `model` on `data` with `decoder` (options, `progress` among them: see
    `transcribe`)."""
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
        tokenizer: the model's characters (default `CharTokenizer()`).
        decoder: "ctc", "attention" or "beam" (see `transcribe`).

    Returns:
        the transcript. The waveform may be on any device: features are made on the CPU, as
        in training, and decoded on the model's device.
    """
    # Features are made on the CPU (as for training); `transcribe` moves them to the model.
    waveform = torch.as_tensor(waveform, dtype=torch.float32).detach().cpu()
    check_waveform(waveform, "waveform")
    check_sample_rate(sample_rate)
    waveform = resample(waveform, sample_rate, SAMPLE_RATE)  # unchanged at 16 kHz
    tokenizer = tokenizer or CharTokenizer()
    data = FeatureSet.from_features([log_mel_features(waveform)], [""], tokenizer)
    device = next(model.parameters()).device
    return transcribe(model, data, decoder, device)[0]


def recognizer_cer(
    recognizer: Recognizer,
    texts: list[str],
    waveforms: list[torch.Tensor],
    sample_rate: int = 16000,
    pad_seconds: float = PAD_SECONDS,
) -> tuple[float, list[str]]:
    """The recogniser's character error rate on `waveforms`, which should say `texts`.

    Args:
        recognizer: e.g. ``course_utils.asr.load_recognizer()[0]``.
        texts: what each waveform should say.
        waveforms: (time,) each, at `sample_rate`.
        pad_seconds: silence added on each side of every clip first.

    Returns:
        the CER over all of them (total edits / total characters) and the transcripts.
    """
    if len(texts) != len(waveforms) or not texts:
        raise ValueError(
            f"expected one waveform per text (at least one), got {len(waveforms)} waveforms "
            f"for {len(texts)} texts"
        )
    pad = int(pad_seconds * sample_rate)
    heard = [recognize(recognizer, F.pad(torch.as_tensor(w, dtype=torch.float32), (pad, pad)),
                       sample_rate) for w in waveforms]  # fmt: skip
    return error_rate(texts, heard), heard
