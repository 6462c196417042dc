"""Forced alignment: where each character and word of a known transcript lies in the audio.

Given CTC log-probabilities and the transcript, the most likely CTC path that spells exactly
that transcript (Viterbi, computed by torchaudio's `forced_align`) gives every frame a token;
grouping the path's characters between spaces gives word segments with start and end times.
The boundaries come in steps of the encoder's frame (40 ms here), but CTC only asks for the
characters in order: with a bidirectional encoder its spikes may come well before or after the
sound. Lesson 08 measures the shipped recogniser's: the first word starts in the silence before
the speech, and a word before a pause often ends tenths of a second late.

Notebook: 08_speech_recognition.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torchaudio.functional as AF

from .tokenizer import BLANK

__all__ = ["WordSegment", "forced_align", "word_segments"]


@dataclass
class WordSegment:
    """A word of a transcript and where it lies in the audio."""

    word: str
    start: float  # seconds
    end: float  # seconds
    score: float  # mean probability of its characters' frames


def forced_align(
    log_probs: torch.Tensor, tokens: list[int], blank: int = BLANK
) -> tuple[torch.Tensor, torch.Tensor]:
    """The most likely CTC path that spells exactly `tokens` (Viterbi, via torchaudio).

    Args:
        log_probs: (frames, vocab) CTC log-probabilities of one utterance.
        tokens: the transcript's ids (no blanks); it must fit: len(tokens) + repeats <= frames.

    Returns:
        path (frames,) long: the token of every frame (blank included), and its per-frame
        log-probabilities (frames,).
    """
    frames = log_probs.shape[0]
    repeats = sum(a == b for a, b in zip(tokens, tokens[1:], strict=False))
    if not tokens or len(tokens) + repeats > frames:
        raise ValueError(
            f"cannot align {len(tokens)} tokens ({repeats} repeats) to {frames} frames"
        )
    targets = torch.tensor([tokens], dtype=torch.int32)
    path, scores = AF.forced_align(log_probs[None].float().cpu(), targets, blank=blank)
    return path[0], scores[0]


def word_segments(
    path: torch.Tensor,
    scores: torch.Tensor,
    tokenizer,
    seconds_per_frame: float,
    separator: str = " ",
) -> list[WordSegment]:
    """Group an aligned path into words: the span of each word's first to last character.

    Args:
        path, scores: from `forced_align`.
        tokenizer: the `CharTokenizer` whose ids the path holds.
        seconds_per_frame: the encoder's frame step (hop x subsampling / sample rate).
    """
    spans = AF.merge_tokens(path, scores.exp(), blank=BLANK)  # one TokenSpan per character
    words, current = [], []
    for span in [*spans, None]:
        if span is None or tokenizer.tokens[span.token] == separator:
            if current:
                text = "".join(tokenizer.tokens[s.token] for s in current)
                score = sum(s.score * (s.end - s.start) for s in current)
                frames = sum(s.end - s.start for s in current)
                words.append(WordSegment(text, current[0].start * seconds_per_frame,
                                         current[-1].end * seconds_per_frame,
                                         score / frames))  # fmt: skip
            current = []
        else:
            current.append(span)
    return words
