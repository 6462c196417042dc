"""From a trained recogniser to text: greedy and beam-search decoding with CTC, alignment.

- `ctc_greedy_decode`: the best token per frame, repeats merged, blanks dropped.
- `attention_greedy_decode`: the speller's most likely character at each step, batched.
- `beam_search`: keep the `beam_size` best prefixes of any step function (tested on a
  hand-built table); `attention_beam_search` runs it on the speller, with CTC either
  re-ranking the finished hypotheses (``(1 - w) log p_att + w log p_ctc``, Kim et al. 2017) or
  scoring every prefix as it grows (`CTCPrefixScorer`, joint decoding, Watanabe et al. 2017).

Forced alignment (`forced_align`, `word_segments`) is in `course_utils.asr.alignment`. The
decoders are public entry points: they check their input's values once per call
(`check_features`), which the model's `forward` does not.

Shapes: B batch, T frames of the scores (encoder frames), T' encoder frames, V vocabulary,
N hypotheses, K candidate tokens.

Notebook: 08_speech_recognition.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..attention import padding_mask
from ..core import check_features
from .model import DecoderState, Recognizer
from .tokenizer import BLANK, EOS

__all__ = [
    "CTCPrefixScorer",
    "Hypothesis",
    "attention_beam_search",
    "attention_greedy_decode",
    "beam_search",
    "ctc_greedy_decode",
    "ctc_log_likelihood",
]


def ctc_greedy_decode(
    log_probs: torch.Tensor, lengths: torch.Tensor | None = None, blank: int = BLANK
) -> list[list[int]]:
    """Best path decoding: argmax per frame, merge repeats, drop blanks.

    Args:
        log_probs: (batch, frames, vocab) scores (log-probabilities or logits).
        lengths: (batch,) valid frames; None means all.
        blank: id of the blank token (default 0).

    Returns:
        one list of token ids per utterance.

    Example:
        >>> frames = torch.tensor([[2, 2, 0, 2, 3, 3, 0]])  # "a a _ a b b _"
        >>> ctc_greedy_decode(F.one_hot(frames, 4).float())
        [[2, 2, 3]]
    """
    if log_probs.ndim != 3:
        raise ValueError(f"expected (batch, frames, vocab), got {tuple(log_probs.shape)}")
    best = log_probs.argmax(dim=-1)  # (B, T)
    if lengths is None:
        lengths = torch.full((best.shape[0],), best.shape[1], dtype=torch.long)
    decoded = []
    for path, length in zip(best.tolist(), lengths.tolist(), strict=True):
        path = path[:length]
        tokens = [t for i, t in enumerate(path) if t != blank and (i == 0 or t != path[i - 1])]
        decoded.append(tokens)
    return decoded


def _encoder_padding(model: Recognizer, features, lengths):
    """Check the input once (decoders are public entry points), encode, mask the padding."""
    check_features(features, model.config.n_mels, lengths)  # values too: once per call
    encoded, encoder_lengths = model.encode(features, lengths)
    return encoded, encoder_lengths, padding_mask(encoder_lengths, encoded.shape[1], False)


@torch.no_grad()
def attention_greedy_decode(
    model: Recognizer,
    features: torch.Tensor,
    lengths: torch.Tensor,
    max_tokens: int | None = None,
) -> tuple[list[list[int]], torch.Tensor]:
    """Spell each utterance with the most likely character at every step, until <eos>.

    Args:
        model: a `Recognizer` with a decoder (ctc_weight < 1), in eval mode.
        features: (batch, n_mels, frames); lengths: (batch,) valid frames.
        max_tokens: stop after this many characters (default: one per encoder frame).

    Returns:
        token ids per utterance (without <eos>) and the attention weights
        (batch, steps, frames'): the alignment the decoder followed.
    """
    if model.decoder is None:
        raise ValueError("this model has no attention decoder (ctc_weight = 1): use CTC decoding")
    encoded, _, padding = _encoder_padding(model, features, lengths)
    batch = encoded.shape[0]
    max_tokens = max_tokens or encoded.shape[1]
    state = model.decoder.initial_state(encoded, padding)
    keys = model.decoder.attention.project_keys(encoded)
    tokens = torch.full((batch,), EOS, dtype=torch.long, device=encoded.device)
    finished = torch.zeros(batch, dtype=torch.bool, device=encoded.device)
    outputs, alignments = [], []
    for _ in range(max_tokens):
        logits, state = model.decoder.step(tokens, state, encoded, padding, keys)
        tokens = logits.argmax(dim=-1)  # (B,)
        outputs.append(torch.where(finished, EOS, tokens))
        alignments.append(state.weights)
        finished |= tokens == EOS
        if finished.all():
            break
    ids = torch.stack(outputs, dim=1).tolist()  # (B, steps)
    decoded = [row[: row.index(EOS)] if EOS in row else row for row in ids]
    return decoded, torch.stack(alignments, dim=1)


@dataclass
class Hypothesis:
    """One candidate transcript of a beam search."""

    tokens: list[int]  # ids, without the start symbol or <eos>
    score: float  # total log-probability (attention), or the rescored total
    state: object = None  # the step function's state after the last token


def beam_search(
    step: Callable[[list[int], object], tuple[torch.Tensor, object]],
    initial_state: object,
    beam_size: int,
    max_tokens: int,
    eos: int = EOS,
) -> list[Hypothesis]:
    """Keep the `beam_size` most likely prefixes at every step; return finished ones, best first.

    A prefix ends when it emits `eos`; it is set aside (up to `beam_size` finished ones are
    kept) and the beam is refilled with unfinished prefixes. Scores are sums of
    log-probabilities, so they only fall as a prefix grows: the search stops when the best
    unfinished prefix is already below the worst kept hypothesis. The final ranking divides
    each score by its length (+1 for <eos>), so short hypotheses are not favoured.

    Args:
        step: ``step(prefix, state) -> (log_probs (vocab,), new_state)``: the model's
            distribution over the next token after `prefix` (a list of ids).
        initial_state: the state before the first token.
        beam_size: prefixes kept per step (1 = greedy).
        max_tokens: the longest transcript considered.
        eos: the id that ends a hypothesis.

    Returns:
        finished hypotheses sorted by length-normalised score (unfinished ones if none ended).

    Example:
        >>> table = torch.log(torch.tensor([[0.0, 0.4, 0.6], [0.0, 1.0, 0.0]]))
        >>> step = lambda prefix, state: (table[min(len(prefix), 1)], state)
        >>> beam_search(step, None, beam_size=2, max_tokens=3, eos=1)[0].tokens
        [2]
    """
    if beam_size < 1 or max_tokens < 1:
        raise ValueError(f"beam_size and max_tokens must be >= 1, got {beam_size}, {max_tokens}")
    beam = [Hypothesis([], 0.0, initial_state)]
    finished: list[Hypothesis] = []
    for _ in range(max_tokens):
        candidates = []
        for hypothesis in beam:
            log_probs, state = step(hypothesis.tokens, hypothesis.state)
            top = torch.topk(log_probs, min(beam_size + 1, log_probs.numel()))
            for value, token in zip(top.values.tolist(), top.indices.tolist(), strict=True):
                if value == -math.inf:
                    continue
                candidates.append(Hypothesis(hypothesis.tokens + [token],
                                             hypothesis.score + value, state))  # fmt: skip
        candidates.sort(key=lambda h: h.score, reverse=True)
        beam = []
        for candidate in candidates:  # the best candidates: an ending one is set aside ...
            if candidate.tokens[-1] == eos:
                if len(finished) < beam_size or candidate.score > finished[-1].score:
                    finished.append(Hypothesis(candidate.tokens[:-1], candidate.score,
                                               candidate.state))  # fmt: skip
                    finished.sort(key=lambda h: h.score, reverse=True)
            elif len(beam) < beam_size:  # ... and the beam is refilled with unfinished ones
                beam.append(candidate)
        finished = finished[:beam_size]
        # Scores only fall as tokens are added: stop once no prefix can beat a finished one.
        if not beam or (len(finished) == beam_size and beam[0].score < finished[-1].score):
            break
    ranked = finished or beam
    return sorted(ranked, key=lambda h: h.score / (len(h.tokens) + 1), reverse=True)


def ctc_log_likelihood(
    log_probs: torch.Tensor, candidates: list[list[int]], blank: int = BLANK
) -> torch.Tensor:
    """log p_ctc(y | x) of each candidate transcript of one utterance.

    Args:
        log_probs: (frames, vocab) CTC log-probabilities of one utterance.
        candidates: token id lists (no blanks).

    Returns:
        (candidates,) log-likelihoods; -inf where a candidate cannot fit the frames.
    """
    n = len(candidates)
    lengths = torch.tensor([len(c) for c in candidates], dtype=torch.long)
    targets = torch.zeros(n, max(int(lengths.max()), 1), dtype=torch.long)
    for i, candidate in enumerate(candidates):
        targets[i, : len(candidate)] = torch.tensor(candidate, dtype=torch.long)
    frames = torch.full((n,), log_probs.shape[0], dtype=torch.long)
    expanded = log_probs[:, None].expand(-1, n, -1).float().cpu()  # (T, N, V)
    nll = F.ctc_loss(expanded, targets, frames, lengths, blank=blank, reduction="none")
    return -nll


class CTCPrefixScorer:
    """log p_ctc(prefix...): the CTC probability of every transcript that starts with a prefix.

    The prefix score of Watanabe et al. (2017, Algorithm 2), which lets CTC judge a hypothesis
    while the speller is still writing it. For a prefix g, two arrays over the frames hold the
    log-probability of having written g by frame t with a last frame that is g's last character
    (``non_blank``) or a blank (``blank``). Extending g by c is a pair of linear recursions over
    t, computed here in closed form with `torch.logcumsumexp` (no loop over frames):
    ``non_blank_t = x_t(c) + logaddexp(non_blank_{t-1}, phi_t)`` and
    ``blank_t = x_t(blank) + logaddexp(blank_{t-1}, non_blank_{t-1})``, where phi_t is g's
    probability by frame t-1 (without its non-blank part when c repeats g's last character).

    Args:
        log_probs: (frames, vocab) CTC log-probabilities of one utterance.
        blank: the blank id (default 0).

    Example:
        >>> log_probs = torch.randn(6, 5).log_softmax(-1)
        >>> scorer = CTCPrefixScorer(log_probs)
        >>> root = scorer.initial_state()
        >>> scores, states = scorer.extend([], root, torch.tensor([2]))
        >>> full = scorer.extend([2], states[0], torch.tensor([EOS]))[0]  # prefix "2", then end
        >>> torch.allclose(full, ctc_log_likelihood(log_probs, [[2]]).double())
        True
    """

    def __init__(self, log_probs: torch.Tensor, blank: int = BLANK):
        if log_probs.ndim != 2 or log_probs.shape[0] < 1:
            raise ValueError(
                f"expected (frames, vocab) log-probabilities, got {tuple(log_probs.shape)}"
            )
        self.x = log_probs.detach().double().cpu()  # (T, V)
        self.blank = blank
        self.cum_blank = self.x[:, blank].cumsum(0)  # B_t = sum of log x_u(blank), u <= t

    def initial_state(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(non_blank, blank) of the empty prefix: nothing written, blanks only."""
        return torch.full_like(self.cum_blank, -math.inf), self.cum_blank.clone()

    def extend(
        self, prefix: list[int], state: tuple[torch.Tensor, torch.Tensor], candidates: torch.Tensor
    ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """Prefix scores log p_ctc(prefix + c ...) for each candidate c (K,), and their states.

        For c = <eos> the score is the whole transcript's CTC log-likelihood.
        """
        non_blank, blank = state  # (T,) each
        minus_inf = torch.tensor(-math.inf, dtype=torch.float64)
        scores, states = [], []
        for c in candidates.tolist():
            if c == EOS:
                scores.append(torch.logaddexp(non_blank[-1], blank[-1]))
                states.append(state)
                continue
            repeat = bool(prefix) and prefix[-1] == c
            previous = blank if repeat else torch.logaddexp(non_blank, blank)  # (T,)
            phi = torch.cat(
                [
                    (minus_inf if prefix else torch.zeros((), dtype=torch.float64))[None],
                    previous[:-1],
                ]
            )  # phi_t, (T,)
            emit = self.x[:, c].cumsum(0)  # L_t
            shifted = torch.cat([torch.zeros(1, dtype=torch.float64), emit[:-1]])  # L_{t-1}
            new_non_blank = emit + torch.logcumsumexp(phi - shifted, dim=0)
            carried = torch.cat([minus_inf[None], new_non_blank[:-1] - self.cum_blank[:-1]])
            new_blank = self.cum_blank + torch.logcumsumexp(carried, dim=0)
            scores.append(torch.logsumexp(phi + self.x[:, c], dim=0))
            states.append((new_non_blank, new_blank))
        return torch.stack(scores), states


@torch.no_grad()
def attention_beam_search(
    model: Recognizer,
    features: torch.Tensor,
    length: int | None = None,
    beam_size: int = 4,
    ctc_weight: float = 0.0,
    max_tokens: int | None = None,
    ctc_mode: str = "rescore",
) -> list[Hypothesis]:
    """Beam search over the speller for one utterance, optionally with CTC.

    A finished hypothesis y scores ``(1 - w) log p_att(y) + w log p_ctc(y)``. With
    ``ctc_mode="rescore"`` the beam is the speller's alone and CTC only re-ranks its finished
    hypotheses; with ``"prefix"`` CTC's prefix score (`CTCPrefixScorer`) joins at every step
    (one-pass joint decoding, Watanabe et al. 2017), so a hypothesis that skips or repeats
    words is pruned as soon as it does.

    Args:
        model: a `Recognizer` with a decoder, in eval mode.
        features: (n_mels, frames) of one utterance.
        length: its valid frames (default all).
        beam_size: hypotheses kept per step.
        ctc_weight: w above (0 = attention alone).
        max_tokens: the longest transcript (default: one per encoder frame).
        ctc_mode: "rescore" or "prefix" (used when ctc_weight > 0).

    Returns:
        hypotheses, best first by score per token; `score` is the (rescored) log-probability.
    """
    if model.decoder is None:
        raise ValueError("this model has no attention decoder (ctc_weight = 1): use CTC decoding")
    length = features.shape[-1] if length is None else length
    lengths = torch.tensor([length], device=features.device)
    encoded, encoder_lengths, padding = _encoder_padding(model, features[None], lengths)
    decoder = model.decoder
    keys = decoder.attention.project_keys(encoded)

    if ctc_mode not in ("rescore", "prefix"):
        raise ValueError(f"ctc_mode must be 'rescore' or 'prefix', got {ctc_mode!r}")
    log_probs = model.ctc_log_probs(encoded)[0, : int(encoder_lengths[0])]  # (T', V)
    max_tokens = max_tokens or encoded.shape[1]

    def step(prefix: list[int], state: DecoderState):
        token = torch.tensor([prefix[-1] if prefix else EOS], device=encoded.device)
        logits, state = decoder.step(token, state, encoded, padding, keys)
        return F.log_softmax(logits[0], dim=-1), state

    if ctc_weight > 0 and ctc_mode == "prefix":
        return _joint_beam_search(step, decoder.initial_state(encoded, padding), log_probs,
                                  beam_size, max_tokens, ctc_weight)  # fmt: skip
    hypotheses = beam_search(step, decoder.initial_state(encoded, padding), beam_size, max_tokens)
    if ctc_weight > 0 and hypotheses:
        ctc = ctc_log_likelihood(log_probs, [h.tokens for h in hypotheses])
        for hypothesis, ctc_score in zip(hypotheses, ctc.tolist(), strict=True):
            hypothesis.score = (1 - ctc_weight) * hypothesis.score + ctc_weight * ctc_score
    # Rank as `beam_search` does: per token (+1 for <eos>), so short hypotheses gain nothing.
    return sorted(hypotheses, key=lambda h: h.score / (len(h.tokens) + 1), reverse=True)


def _joint_beam_search(step, initial_state, log_probs, beam_size, max_tokens, ctc_weight):
    """`beam_search` whose step scores add CTC prefix scores to the speller's (see above).

    The step of a prefix g scores only the speller's best candidates (2 x beam_size, blank
    excluded): ``(1 - w) log p_att(c | g) + w (psi(g + c) - psi(g))``, where psi is the CTC
    prefix score. Summed along a hypothesis, the CTC terms telescope to log p_ctc(y).
    `beam_search` hands every child the state its parent's step returned, so that state is a
    table: last token -> (speller state, CTC state, psi) of the child ending in it.
    """
    scorer = CTCPrefixScorer(log_probs)
    root = {None: (initial_state, scorer.initial_state(), 0.0)}

    def joint_step(prefix, table):
        speller_state, ctc_state, psi = table[prefix[-1] if prefix else None]
        attention, speller_state = step(prefix, speller_state)
        attention = attention.double().cpu()
        attention[BLANK] = -math.inf  # the speller never writes CTC's blank
        candidates = torch.topk(attention, min(2 * beam_size, len(attention) - 1)).indices
        ctc_scores, ctc_states = scorer.extend(prefix, ctc_state, candidates)
        scores = torch.full_like(attention, -math.inf)
        scores[candidates] = (1 - ctc_weight) * attention[candidates] + ctc_weight * (
            ctc_scores - psi
        )
        children = {c: (speller_state, state, float(score)) for c, state, score
                    in zip(candidates.tolist(), ctc_states, ctc_scores, strict=True)}  # fmt: skip
        return scores, children

    return beam_search(joint_step, root, beam_size, max_tokens)
