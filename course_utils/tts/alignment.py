"""How well attention aligns text and sound: focus, jumps, diagonality and coverage.

A good text-to-speech alignment (one row of attention weights per decoder step, one
column per character) is sharp, moves forward steadily and ends on the last character:

- `focus_rate`: mean over decoder steps of the largest weight (1: every step reads one
  character; 1/N: attention spread evenly over N characters). A stuck alignment, always on
  one character, is also perfectly focused, so focus alone is not enough:
- `alignment_jumps`: steps where the attended peak moves backward (a repeat) or forward
  by more than `max_jump` characters (a skip);
- `diagonal_mass`: the share of attention near the diagonal n/N = t/T (a stuck or
  reversed alignment fails it);
- `coverage`: the share of characters that are the peak of at least one step (skipped
  words lower it);
- `word_errors`: the words of one text that attention skipped or came back to.

Every function takes alignments (batch, steps, chars) with optional lengths, or a single
(steps, chars) alignment, and returns one value per item: (batch,) or ().

Shapes: B batch, S decoder steps, L characters.

Notebook: 09_speech_synthesis.
"""

from __future__ import annotations

import torch

from ..attention import padding_mask

__all__ = ["alignment_jumps", "coverage", "diagonal_mass", "focus_rate", "word_errors"]


def _batched(
    alignments: torch.Tensor, text_lengths: torch.Tensor | None, step_lengths: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool]:
    """(B, S, L) alignments, text and step lengths (full when None), and whether it was 2-D."""
    single = alignments.ndim == 2
    if alignments.ndim not in (2, 3):
        raise ValueError(
            f"expected alignments of shape ([batch,] steps, chars), got {tuple(alignments.shape)}"
        )
    alignments = alignments[None] if single else alignments  # (B, S, L)
    batch, steps, chars = alignments.shape
    device = alignments.device
    full = lambda n: torch.full((batch,), n, dtype=torch.long, device=device)  # noqa: E731
    text_lengths = full(chars) if text_lengths is None else torch.as_tensor(text_lengths)
    step_lengths = full(steps) if step_lengths is None else torch.as_tensor(step_lengths)
    return alignments, text_lengths.to(device), step_lengths.to(device), single


def _per_item(values: torch.Tensor, single: bool) -> torch.Tensor:
    return values[0] if single else values


def focus_rate(alignments: torch.Tensor, step_lengths: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over valid decoder steps of the largest attention weight (1 = perfectly focused).

    Args:
        alignments: (batch, steps, chars) or (steps, chars), rows summing to 1.
        step_lengths: (batch,) valid steps of each item (default: all).

    Returns:
        (batch,) or (): 1 for one-hot rows, 1/chars for uniform rows.

    Example:
        >>> focus_rate(torch.eye(4)).item(), focus_rate(torch.full((3, 4), 0.25)).item()
        (1.0, 0.25)
    """
    alignments, _, step_lengths, single = _batched(alignments, None, step_lengths)
    valid = ~padding_mask(step_lengths, alignments.shape[1], validate=False)  # (B, S)
    peaks = alignments.max(dim=-1).values  # (B, S)
    return _per_item((peaks * valid).sum(1) / valid.sum(1).clamp(min=1), single)


def alignment_jumps(
    alignments: torch.Tensor,
    step_lengths: torch.Tensor | None = None,
    max_jump: int = 3,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Count the steps whose attended peak moves backward, or forward by more than `max_jump`.

    A backward move re-reads text already spoken (a repeat); a long forward jump skips
    characters (a skip). A monotonic, steady alignment has neither.

    Args:
        alignments: (batch, steps, chars) or (steps, chars).
        step_lengths: (batch,) valid steps (default: all).
        max_jump: the largest forward move, in characters, that still counts as steady
            (default 3: a step of r frames may cover a few characters of fast speech).

    Returns:
        backward, forward: (batch,) or () integer counts.

    Example:
        >>> peaks = torch.tensor([0, 1, 2, 1, 8, 9])
        >>> alignment_jumps(torch.eye(10)[peaks])
        (tensor(1), tensor(1))
    """
    alignments, _, step_lengths, single = _batched(alignments, None, step_lengths)
    peaks = alignments.argmax(dim=-1)  # (B, S)
    moves = peaks[:, 1:] - peaks[:, :-1]  # (B, S - 1)
    valid = ~padding_mask((step_lengths - 1).clamp(min=0), moves.shape[1], validate=False)
    backward = ((moves < 0) & valid).sum(1)
    forward = ((moves > max_jump) & valid).sum(1)
    return _per_item(backward, single), _per_item(forward, single)


def diagonal_mass(
    alignments: torch.Tensor,
    text_lengths: torch.Tensor | None = None,
    step_lengths: torch.Tensor | None = None,
    width: float = 0.2,
) -> torch.Tensor:
    """Share of the attention weight within `width` of the diagonal: |n/N - t/T| <= width.

    Positions are taken at cell centres, (n + 0.5) / N and (t + 0.5) / T, so a square
    identity matrix lies exactly on the diagonal.

    Args:
        alignments: (batch, steps, chars) or (steps, chars).
        text_lengths, step_lengths: (batch,) N and T of each item (default: all).
        width: half-width of the band, as a fraction of the text and of the time (default
            0.2, the guided-attention loss's g).

    Returns:
        (batch,) or (), in [0, 1]: 1 for a diagonal alignment, low for a stuck one.

    Example:
        >>> stuck = torch.zeros(8, 8); stuck[:, 0] = 1
        >>> diagonal_mass(torch.eye(8)).item(), diagonal_mass(stuck).item()
        (1.0, 0.25)
    """
    alignments, text_lengths, step_lengths, single = _batched(alignments, text_lengths,
                                                              step_lengths)  # fmt: skip
    _, steps, chars = alignments.shape
    n = (torch.arange(chars, device=alignments.device) + 0.5)[None, None, :]  # (1, 1, L)
    t = (torch.arange(steps, device=alignments.device) + 0.5)[None, :, None]  # (1, S, 1)
    distance = (n / text_lengths[:, None, None] - t / step_lengths[:, None, None]).abs()
    valid_chars = ~padding_mask(text_lengths, chars, validate=False)  # (B, L)
    valid_steps = ~padding_mask(step_lengths, steps, validate=False)  # (B, S)
    valid = valid_steps[:, :, None] & valid_chars[:, None, :]  # (B, S, L)
    near = (distance <= width) & valid
    total = (alignments * valid).sum((1, 2)).clamp(min=1e-12)
    return _per_item((alignments * near).sum((1, 2)) / total, single)


def coverage(
    alignments: torch.Tensor,
    text_lengths: torch.Tensor | None = None,
    step_lengths: torch.Tensor | None = None,
) -> torch.Tensor:
    """Share of the characters that are the attended peak of at least one valid step.

    Args:
        alignments: (batch, steps, chars) or (steps, chars).
        text_lengths, step_lengths: (batch,) valid characters and steps (default: all).

    Returns:
        (batch,) or (), in [0, 1]: 1 when every character is read, 1/N when stuck.

    Example:
        >>> coverage(torch.eye(4)).item(), coverage(torch.eye(4)[[0, 0, 3, 3]]).item()
        (1.0, 0.5)
    """
    alignments, text_lengths, step_lengths, single = _batched(alignments, text_lengths,
                                                              step_lengths)  # fmt: skip
    batch, steps, chars = alignments.shape
    valid_steps = ~padding_mask(step_lengths, steps, validate=False)  # (B, S)
    peaks = torch.where(valid_steps, alignments.argmax(-1), chars)  # (B, S); chars = none
    read = torch.zeros(batch, chars + 1, device=alignments.device)
    read.scatter_(1, peaks, 1.0)  # (B, L + 1): 1 where some step peaked
    return _per_item(read[:, :chars].sum(1) / text_lengths.clamp(min=1), single)


def word_errors(alignment: torch.Tensor, text: str) -> tuple[int, int]:
    """Words of `text` that one alignment skipped, and words it came back to.

    Each step reads the word of its attended peak (a peak on a space reads no word). A word
    no step reads is skipped; a word read again after attention has moved to another word
    is repeated (once per return).

    Args:
        alignment: (steps, chars), one text's attention weights, chars = len(text).
        text: the characters attended over.

    Returns:
        skipped, repeated: word counts.

    Example:
        >>> text = "go up now"  # words at characters 0-1, 3-4, 6-8
        >>> peaks = torch.tensor([0, 1, 3, 0, 1])  # "go", "up", back to "go"; "now" never read
        >>> word_errors(torch.eye(9)[peaks], text)
        (1, 1)
    """
    if alignment.ndim != 2 or alignment.shape[1] != len(text):
        raise ValueError(
            f"expected an alignment of shape (steps, {len(text)}) for {text!r}, got "
            f"{tuple(alignment.shape)}"
        )
    word_of, word = [], 0  # the word index of every character; -1 for spaces
    for i, char in enumerate(text):
        word += char == " " and i > 0 and text[i - 1] != " "
        word_of.append(-1 if char == " " else word)
    words_read = [word_of[p] for p in alignment.argmax(-1).tolist() if word_of[p] >= 0]
    visits = [w for i, w in enumerate(words_read) if i == 0 or w != words_read[i - 1]]
    n_words = len(text.split())
    skipped = n_words - len(set(visits))
    return skipped, len(visits) - len(set(visits))
