"""Synthesis: greedy autoregressive decoding with a stop rule and a length cap (lesson 09).

At inference nothing is teacher-forced: each decoder step reads the last frame it wrote.
Decoding stops when the stop token says so (sigmoid(stop logit) > 0.5, Tacotron 2's rule),
or at the length cap: `TTSConfig.max_steps(characters)`, proportional to the text and
never above `max_decoder_steps`, so an alignment that never reaches the end of the text
cannot loop forever. Each result says which of the two ended it (`Synthesis.stopped`).

The prenet's dropout stays on (see `course_utils.tts.decoder`), so two syntheses of one
text differ slightly; seed torch for a repeatable one.

Shapes: B batch, L characters, M mel bands, S decoder steps, r frames a step.

Notebook: 09_speech_synthesis.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..core import check_lengths
from .model import Tacotron
from .text import TextTokenizer

__all__ = ["STOP_THRESHOLD", "Synthesis", "generate", "synthesize"]

STOP_THRESHOLD = 0.5  # stop once sigmoid(stop logit) exceeds this


@dataclass
class Synthesis:
    """One synthesised text: its mel frames, its alignment and how decoding ended."""

    mel: torch.Tensor  # (n_mels, frames) after the postnet, frames = steps * r
    alignment: torch.Tensor  # (steps, chars) attention weights, one row per decoder step
    stopped: bool  # True: the stop token ended it; False: it ran into the length cap

    @property
    def steps(self) -> int:
        return self.alignment.shape[0]


@torch.no_grad()
def generate(model: Tacotron, tokens: torch.Tensor, text_lengths: torch.Tensor) -> list[Synthesis]:
    """Greedy decoding of a batch of texts, each ended by its stop token or its length cap.

    The model runs in eval mode (restored afterwards), on its own device.

    Args:
        model: a `Tacotron`.
        tokens: (batch, chars) long, padded with 0 (`TextTokenizer.batch`).
        text_lengths: (batch,) valid characters.

    Returns:
        one `Synthesis` per text, in order, on the CPU.

    Raises:
        ValueError: a text longer than ``config.max_text_length``, or lengths out of range.
    """
    config = model.config
    check_lengths(text_lengths, tokens.shape[0], tokens.shape[1], True, "text_lengths")
    if int(text_lengths.max()) > config.max_text_length:
        raise ValueError(
            f"a text has {int(text_lengths.max())} characters, more than this model's "
            f"max_text_length={config.max_text_length}; split it into sentences"
        )
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        mel, alignment, ends, stopped = _decode(model, tokens.to(device), text_lengths.to(device))
    finally:
        model.train(was_training)
    steps, chars, r = ends.tolist(), text_lengths.tolist(), config.reduction_factor
    return [
        Synthesis(mel[i, :, : steps[i] * r], alignment[i, : steps[i], : chars[i]], bool(stopped[i]))
        for i in range(len(steps))
    ]


def _decode(
    model: Tacotron, tokens: torch.Tensor, text_lengths: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The decoding loop: mel (B, M, S * r) and alignments (B, S, L) on the CPU, and per text
    its steps (B,) and whether its stop token ended it (B,) bool."""
    config, decoder = model.config, model.decoder
    caps = torch.tensor([config.max_steps(int(n)) for n in text_lengths], device=tokens.device)
    memory, padding = model.encode(tokens, text_lengths)  # (B, L, D), (B, L)
    projected_keys = decoder.attention.project_keys(memory)  # once, not at every step
    state, frame = decoder.initial_state(memory), decoder.go_frame(memory)
    ends = caps.clone()  # the step count of each text, set when it stops
    stopped = torch.zeros_like(caps, dtype=torch.bool)
    done = torch.zeros_like(stopped)
    outputs, alignments = [], []
    for step in range(int(caps.max())):
        frames, stop_logit, state = decoder.step(frame, state, memory, padding, projected_keys)
        outputs.append(frames)  # (B, r, M)
        alignments.append(state.weights)  # (B, L)
        stops_now = (torch.sigmoid(stop_logit) > STOP_THRESHOLD) & ~done
        ends = torch.where(stops_now, step + 1, ends)
        stopped |= stops_now
        done |= stops_now | (caps <= step + 1)  # a text that reaches its cap is done too
        if bool(done.all()):
            break
        frame = frames[:, -1]  # the last frame written is the next step's input
    mel = torch.cat(outputs, dim=1).transpose(1, 2)  # (B, S * r, M) -> (B, M, S * r)
    mel = mel + model.postnet(mel, ends * config.reduction_factor)
    alignment = torch.stack(alignments, dim=1)  # (B, S, L)
    return mel.cpu(), alignment.cpu(), ends.cpu(), stopped.cpu()


def synthesize(
    model: Tacotron, texts: str | list[str], tokenizer: TextTokenizer | None = None
) -> Synthesis | list[Synthesis]:
    """Text to mel frames: one `Synthesis` for a string, a list of them for a list.

    Hear the result with ``mel_to_waveform(result.mel)``.

    Args:
        model: a trained `Tacotron`.
        texts: a sentence, or a list of sentences (decoded as one batch).
        tokenizer: its front end (default `TextTokenizer()`; its size must match the model's
            vocabulary).

    Raises:
        ValueError: an empty text, characters outside the alphabet (named), or a text longer
            than ``model.config.max_text_length``.

    Example:
        >>> from course_utils.tts import TTSConfig
        >>> result = synthesize(Tacotron(TTSConfig.preset("tiny")), "go up")
        >>> result.mel.shape[0], result.alignment.shape[1]
        (80, 5)
    """
    tokenizer = tokenizer or TextTokenizer()
    if len(tokenizer) != model.config.vocab_size:
        raise ValueError(
            f"the tokenizer has {len(tokenizer)} symbols but the model's vocabulary has "
            f"{model.config.vocab_size}: they were not made for each other"
        )
    single = isinstance(texts, str)
    tokens, text_lengths = tokenizer.batch([texts] if single else list(texts))
    results = generate(model, tokens, text_lengths)
    return results[0] if single else results
