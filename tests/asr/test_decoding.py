"""Tests for course_utils.asr.decoding: greedy and beam decoding, CTC rescoring, alignment."""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
import torchaudio.functional as AF

from course_utils.asr import ASRConfig, CharTokenizer, Recognizer
from course_utils.asr.alignment import forced_align, word_segments
from course_utils.asr.decoding import (
    CTCPrefixScorer,
    attention_beam_search,
    attention_greedy_decode,
    beam_search,
    ctc_greedy_decode,
    ctc_log_likelihood,
)
from course_utils.attention import padding_mask

EOS, A, B = 1, 2, 3  # ids for the hand-built tables (blank = 0)


def _posteriors(frames: list[int], vocab: int = 5, peak: float = 0.9) -> torch.Tensor:
    """(len(frames), vocab) log-probabilities with `peak` on each frame's token."""
    probs = torch.full((len(frames), vocab), (1 - peak) / (vocab - 1))
    probs[torch.arange(len(frames)), torch.tensor(frames)] = peak
    return probs.log()


# ctc_greedy_decode ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "frames, expected",
    [
        ([A, A, A], [A]),  # repeats merge
        ([A, 0, A], [A, A]),  # a blank separates two of the same character
        ([0, A, A, 0, 0, B, B, A], [A, B, A]),
        ([0, 0, 0], []),
    ],
)
def test_ctc_greedy_merges_repeats_and_drops_blanks(frames, expected):
    assert ctc_greedy_decode(_posteriors(frames)[None]) == [expected]
    one_hot = F.one_hot(torch.tensor([frames]), 5).float()  # raw scores work too
    assert ctc_greedy_decode(one_hot) == [expected]


def test_ctc_greedy_respects_lengths_in_a_batch():
    first, second = [A, 0, A, B, B], [B, B, 0, 4, A]
    log_probs = torch.stack([_posteriors(first), _posteriors(second)])  # (2, 5, 5)
    assert ctc_greedy_decode(log_probs, torch.tensor([3, 4])) == [[A, A], [B, 4]]
    assert ctc_greedy_decode(log_probs) == [[A, A, B], [B, 4, A]]
    with pytest.raises(ValueError, match="batch, frames, vocab"):
        ctc_greedy_decode(log_probs[0])


# beam_search on a hand-built table --------------------------------------------------------

# p(first) = a 0.6, b 0.4; p(second | a) = a 0.55, b 0.45; p(second | b) = a 0.9, b 0.1; then
# <eos> for sure. Greedy takes a, a (0.6 * 0.55 = 0.33); "b a" is likelier (0.4 * 0.9 = 0.36).
TABLE = {
    (): {A: 0.6, B: 0.4},
    (A,): {A: 0.55, B: 0.45},
    (B,): {A: 0.9, B: 0.1},
}


def _table_step(table, vocab=4):
    calls = []

    def step(prefix, state):
        calls.append(tuple(prefix))
        probs = torch.zeros(vocab, dtype=torch.float64)
        for token, p in table.get(tuple(prefix), {EOS: 1.0}).items():
            probs[token] = p
        return probs.log(), state + 1  # the state counts the tokens read

    return step, calls


def _greedy(step, max_tokens):
    prefix, score, state = [], 0.0, 0
    for _ in range(max_tokens):
        log_probs, state = step(prefix, state)
        token = int(log_probs.argmax())
        score += float(log_probs[token])
        if token == EOS:
            break
        prefix.append(token)
    return prefix, score


def test_beam_one_is_greedy_and_misses_the_likelier_sequence():
    step, _ = _table_step(TABLE)
    (best,) = beam_search(step, 0, beam_size=1, max_tokens=5, eos=EOS)
    greedy_tokens, greedy_score = _greedy(_table_step(TABLE)[0], 5)
    assert best.tokens == greedy_tokens == [A, A]
    assert best.score == pytest.approx(greedy_score) and best.score == pytest.approx(
        math.log(0.6 * 0.55)
    )
    assert best.state == 3  # the state after reading <eos>, a, a


@pytest.mark.parametrize("beam_size", [2, 3, 4])
def test_wider_beams_find_the_likelier_sequence_sorted_best_first(beam_size):
    step, _ = _table_step(TABLE)
    hypotheses = beam_search(step, 0, beam_size=beam_size, max_tokens=5, eos=EOS)
    expected = [([B, A], 0.4 * 0.9), ([A, A], 0.6 * 0.55), ([A, B], 0.6 * 0.45),
                ([B, B], 0.4 * 0.1)][: min(beam_size, 4)]  # fmt: skip
    assert [h.tokens for h in hypotheses] == [tokens for tokens, _ in expected]
    for hypothesis, (_, p) in zip(hypotheses, expected, strict=True):
        assert hypothesis.score == pytest.approx(math.log(p))
        assert EOS not in hypothesis.tokens
    scores = [h.score for h in hypotheses]
    assert scores == sorted(scores, reverse=True)


def test_beam_search_ranks_by_length_normalised_score():
    # "" (<eos> at once, p 0.6) beats "a a" (p 0.4) in total, but not per token:
    # log(0.6) / 1 = -0.51 < log(0.4) / 3 = -0.31.
    table = {(): {EOS: 0.6, A: 0.4}, (A,): {A: 1.0}}
    step, _ = _table_step(table)
    hypotheses = beam_search(step, 0, beam_size=2, max_tokens=5, eos=EOS)
    assert [h.tokens for h in hypotheses] == [[A, A], []]
    assert [h.score for h in hypotheses] == pytest.approx([math.log(0.4), math.log(0.6)])


def test_beam_search_returns_unfinished_prefixes_when_none_ends():
    step, calls = _table_step(TABLE)
    hypotheses = beam_search(step, 0, beam_size=2, max_tokens=2, eos=EOS)
    assert [h.tokens for h in hypotheses] == [[B, A], [A, A]]  # cut at 2 tokens, no <eos>
    assert calls == [(), (A,), (B,)]  # one step per kept prefix, no more


@pytest.mark.parametrize("beam_size, max_tokens", [(0, 5), (-1, 5), (2, 0)])
def test_beam_search_rejects_bad_sizes(beam_size, max_tokens):
    step, _ = _table_step(TABLE)
    with pytest.raises(ValueError, match="beam_size and max_tokens must be >= 1"):
        beam_search(step, 0, beam_size=beam_size, max_tokens=max_tokens, eos=EOS)


# ctc_log_likelihood -----------------------------------------------------------------------


def test_ctc_log_likelihood_equals_minus_torch_ctc_loss():
    torch.manual_seed(0)
    log_probs = torch.randn(8, 5).log_softmax(-1)
    candidates = [[A, B], [A, A], [4], [A, B, 4, A], []]
    scores = ctc_log_likelihood(log_probs, candidates)
    assert scores.shape == (5,)
    for score, candidate in zip(scores, candidates, strict=True):
        nll = F.ctc_loss(log_probs[:, None], torch.tensor(candidate, dtype=torch.long),
                         torch.tensor([8]), torch.tensor([len(candidate)]),
                         reduction="none")  # fmt: skip
        torch.testing.assert_close(score, -nll[0])
    torch.testing.assert_close(scores[-1], log_probs[:, 0].sum())  # "": blank on every frame
    assert (scores <= 0).all()


def test_ctc_log_likelihood_is_minus_inf_when_a_candidate_cannot_fit():
    log_probs = torch.randn(3, 5).log_softmax(-1)
    # 4 tokens in 3 frames; "a a a" needs 5 frames (blanks between repeats); "a a" needs 3.
    scores = ctc_log_likelihood(log_probs, [[A, B, 4, A], [A, A, A], [A, A]])
    assert scores[0] == -math.inf and scores[1] == -math.inf
    expected = log_probs[0, A] + log_probs[1, 0] + log_probs[2, A]  # the only path: a _ a
    torch.testing.assert_close(scores[2], expected)


# Attention decoding on a tiny untrained recogniser ----------------------------------------

MAX_TOKENS = 6


def _recognizer(device, eos_bias=0.0, **overrides):
    """Untrained, it never says <eos> within MAX_TOKENS; eos_bias=0.5 makes it stop at once."""
    torch.manual_seed(0)
    model = Recognizer(ASRConfig.preset("tiny", **overrides)).eval()
    if model.decoder is not None:
        with torch.no_grad():
            model.decoder.classifier.bias[EOS] += eos_bias
    return model.to(device)


def _features(device, frames=(48, 30)):
    g = torch.Generator().manual_seed(3)
    features = torch.randn(len(frames), 40, max(frames), generator=g)
    return features.to(device), torch.tensor(frames, device=device)


def test_attention_greedy_decode_shapes_and_alignments(device):
    model = _recognizer(device)
    features, lengths = _features(device)
    decoded, alignments = attention_greedy_decode(model, features, lengths, MAX_TOKENS)
    assert len(decoded) == 2 and all(len(tokens) <= MAX_TOKENS for tokens in decoded)
    assert all(EOS not in tokens for tokens in decoded)
    steps = alignments.shape[1]
    assert alignments.shape == (2, steps, 12) and 1 <= steps <= MAX_TOKENS
    assert max(len(tokens) for tokens in decoded) <= steps
    torch.testing.assert_close(alignments.sum(-1), torch.ones(2, steps, device=device))
    assert alignments[1, :, 8:].abs().max() == 0  # 30 frames -> 8 encoder frames
    # The second utterance decodes the same alone as padded in the batch.
    alone, alone_alignments = attention_greedy_decode(
        model, features[1:, :, :30], lengths[1:], MAX_TOKENS
    )
    assert alone[0] == decoded[1]
    shared = min(steps, alone_alignments.shape[1], len(decoded[1]) + 1)
    torch.testing.assert_close(alignments[1, :shared, :8], alone_alignments[0, :shared],
                               atol=1e-5, rtol=1e-5)  # fmt: skip


def test_attention_greedy_decode_matches_step_by_step_argmax(device):
    model = _recognizer(device)
    features, lengths = _features(device, frames=(40,))
    decoded, _ = attention_greedy_decode(model, features, lengths, MAX_TOKENS)
    encoded, encoder_lengths = model.encode(features, lengths)
    padding = padding_mask(encoder_lengths, encoded.shape[1])
    expected, prefix = [], [EOS]
    with torch.no_grad():
        for _ in range(MAX_TOKENS):  # teacher forcing on its own output: argmax of the last step
            logits, _ = model.decoder(encoded, padding, torch.tensor([prefix], device=device))
            token = int(logits[0, -1].argmax())
            if token == EOS:
                break
            expected.append(token)
            prefix.append(token)
    assert decoded == [expected]


def _attention_log_prob(model, features, tokens, finished):
    """Total log p_att of `tokens` (plus <eos> when finished), by teacher forcing."""
    length = torch.tensor([features.shape[-1]], device=features.device)
    encoded, encoder_lengths = model.encode(features[None], length)
    padding = padding_mask(encoder_lengths, encoded.shape[1])
    inputs = torch.tensor([[EOS, *tokens]], device=features.device)
    with torch.no_grad():
        log_probs = model.decoder(encoded, padding, inputs)[0][0].log_softmax(-1)
    wanted = [*tokens, EOS] if finished else tokens
    return sum(float(log_probs[i, token]) for i, token in enumerate(wanted))


@pytest.mark.parametrize("eos_bias", [0.0, 0.5])
@pytest.mark.parametrize("beam_size", [1, 3])
def test_attention_beam_search_scores_are_attention_log_probabilities(beam_size, eos_bias, device):
    model = _recognizer(device, eos_bias)
    features, _ = _features(device, frames=(40,))
    hypotheses = attention_beam_search(model, features[0], beam_size=beam_size,
                                       max_tokens=MAX_TOKENS)  # fmt: skip
    assert len(hypotheses) == beam_size
    ended = [len(h.tokens) < MAX_TOKENS for h in hypotheses]
    assert all(ended) if eos_bias else not any(ended)  # both branches of the score are checked
    for hypothesis in hypotheses:
        assert len(hypothesis.tokens) <= MAX_TOKENS and EOS not in hypothesis.tokens
        finished = len(hypothesis.tokens) < MAX_TOKENS  # a finished one ended before the cap
        expected = _attention_log_prob(model, features[0], hypothesis.tokens, finished)
        assert hypothesis.score == pytest.approx(expected, abs=1e-4)
    if beam_size == 1:
        greedy, _ = attention_greedy_decode(model, features, torch.tensor([40]), MAX_TOKENS)
        assert hypotheses[0].tokens == greedy[0]


def test_beam_of_one_equals_greedy_on_a_padded_length(device):
    model = _recognizer(device)
    features, lengths = _features(device)
    greedy, _ = attention_greedy_decode(model, features, lengths, MAX_TOKENS)
    for row in range(2):
        (best,) = attention_beam_search(model, features[row], int(lengths[row]), beam_size=1,
                                        max_tokens=MAX_TOKENS)  # fmt: skip
        assert best.tokens == greedy[row]


@pytest.mark.parametrize("eos_bias", [0.0, 0.5])
@pytest.mark.parametrize("ctc_weight", [0.3, 1.0])
def test_ctc_rescoring_mixes_attention_and_ctc_log_likelihoods(ctc_weight, eos_bias, device):
    model = _recognizer(device, eos_bias)
    features, lengths = _features(device, frames=(48,))
    plain = attention_beam_search(model, features[0], beam_size=3, max_tokens=MAX_TOKENS)
    rescored = attention_beam_search(model, features[0], beam_size=3, ctc_weight=ctc_weight,
                                     max_tokens=MAX_TOKENS)  # fmt: skip
    attention = {tuple(h.tokens): h.score for h in plain}
    assert set(attention) == {tuple(h.tokens) for h in rescored}  # rescoring only re-ranks
    with torch.no_grad():
        encoded, encoder_lengths = model.encode(features, lengths)
        log_probs = model.ctc_log_probs(encoded)[0, : int(encoder_lengths[0])].cpu()
    for hypothesis in rescored:
        tokens = torch.tensor(hypothesis.tokens, dtype=torch.long)
        ctc = -F.ctc_loss(log_probs[:, None], tokens, torch.tensor([log_probs.shape[0]]),
                          torch.tensor([len(tokens)]), reduction="none")[0]  # fmt: skip
        expected = (1 - ctc_weight) * attention[tuple(hypothesis.tokens)] + ctc_weight * ctc
        assert hypothesis.score == pytest.approx(float(expected), abs=1e-4)
    per_token = [h.score / (len(h.tokens) + 1) for h in rescored]  # the ranking beam_search uses
    assert per_token == sorted(per_token, reverse=True)


# CTC prefix scores and joint decoding ------------------------------------------------------


def _prefix_score(scorer, tokens):
    """psi(tokens) and the state after extending one token at a time."""
    state, score = scorer.initial_state(), torch.tensor(0.0, dtype=torch.float64)
    for i, token in enumerate(tokens):
        scores, states = scorer.extend(tokens[:i], state, torch.tensor([token]))
        score, state = scores[0], states[0]
    return score, state


@pytest.mark.parametrize("tokens", [[2], [2, 2], [2, 3, 2], [3, 3, 3], [4, 2, 4, 3]])
def test_prefix_score_with_eos_is_the_ctc_log_likelihood(tokens):
    torch.manual_seed(0)
    log_probs = torch.randn(8, 5).log_softmax(-1)
    scorer = CTCPrefixScorer(log_probs)
    _, state = _prefix_score(scorer, tokens)
    full = scorer.extend(tokens, state, torch.tensor([EOS]))[0][0]
    assert float(full) == pytest.approx(float(ctc_log_likelihood(log_probs, [tokens])[0]), abs=1e-5)


@pytest.mark.parametrize("prefix", [[2], [3], [2, 2], [2, 3]])
def test_prefix_score_sums_every_transcript_that_starts_with_the_prefix(prefix):
    torch.manual_seed(1)
    log_probs = torch.randn(5, 4).log_softmax(-1)  # blank 0 and three other symbols
    score, _ = _prefix_score(CTCPrefixScorer(log_probs), prefix)
    continuations = [prefix + list(rest) for n in range(6)
                     for rest in itertools.product([1, 2, 3], repeat=n)]  # fmt: skip
    likelihoods = ctc_log_likelihood(log_probs, continuations)
    expected = torch.logsumexp(likelihoods[likelihoods > -math.inf], dim=0)
    assert float(score) == pytest.approx(float(expected), abs=1e-5)


def test_prefix_scorer_rejects_bad_input():
    with pytest.raises(ValueError, match="frames, vocab"):
        CTCPrefixScorer(torch.zeros(3, 4, 5))


@pytest.mark.parametrize("eos_bias", [0.0, 0.5])
def test_joint_decoding_scores_mix_attention_and_ctc(eos_bias, device):
    model = _recognizer(device, eos_bias)
    features, lengths = _features(device, frames=(48,))
    ctc_weight = 0.4
    hypotheses = attention_beam_search(model, features[0], beam_size=3, ctc_weight=ctc_weight,
                                       max_tokens=MAX_TOKENS, ctc_mode="prefix")  # fmt: skip
    assert hypotheses
    with torch.no_grad():
        encoded, encoder_lengths = model.encode(features, lengths)
        log_probs = model.ctc_log_probs(encoded)[0, : int(encoder_lengths[0])].cpu()
    scorer = CTCPrefixScorer(log_probs)
    for hypothesis in hypotheses:
        finished = len(hypothesis.tokens) < MAX_TOKENS
        attention = _attention_log_prob(model, features[0], hypothesis.tokens, finished)
        if finished:
            ctc = float(ctc_log_likelihood(log_probs, [hypothesis.tokens])[0])
        else:  # unfinished: the CTC part is the prefix score
            ctc = float(_prefix_score(scorer, hypothesis.tokens)[0])
        expected = (1 - ctc_weight) * attention + ctc_weight * ctc
        assert hypothesis.score == pytest.approx(expected, abs=1e-3)


def test_unknown_ctc_mode_is_rejected():
    model = _recognizer("cpu")
    features, _ = _features("cpu")
    with pytest.raises(ValueError, match="ctc_mode"):
        attention_beam_search(model, features[0], ctc_weight=0.3, ctc_mode="fusion")


def test_attention_decoders_need_a_decoder():
    model = _recognizer("cpu", ctc_weight=1.0)
    features, lengths = _features("cpu")
    with pytest.raises(ValueError, match="no attention decoder"):
        attention_greedy_decode(model, features, lengths)
    with pytest.raises(ValueError, match="no attention decoder"):
        attention_beam_search(model, features[0])


# forced_align and word_segments -----------------------------------------------------------


def test_forced_align_follows_the_posteriors_when_they_spell_the_transcript():
    log_probs = _posteriors([A, A, 0, B])
    path, scores = forced_align(log_probs, [A, B])
    assert path.tolist() == [A, A, 0, B]
    torch.testing.assert_close(scores, log_probs[torch.arange(4), path.long()])
    spans = AF.merge_tokens(path, scores.exp())
    assert [(s.token, s.start, s.end) for s in spans] == [(A, 0, 2), (B, 3, 4)]
    assert spans[0].score == pytest.approx(0.9)


def test_forced_align_obeys_the_transcript_against_the_posteriors():
    # The frames say "a a a b", i.e. "ab"; the transcript "aab" forces a blank in frame 1.
    log_probs = _posteriors([A, A, A, B])
    path, _ = forced_align(log_probs, [A, A, B])
    assert path.tolist() == [A, 0, A, B]
    spans = AF.merge_tokens(path, torch.zeros(4))
    assert [(s.token, s.start, s.end) for s in spans] == [(A, 0, 1), (A, 2, 3), (B, 3, 4)]


@pytest.mark.parametrize("tokens", [[A, B, A, B, A], [A, A, A], []])
def test_forced_align_rejects_transcripts_that_cannot_fit(tokens):
    # 4 frames: five tokens, or "a a a" (needs 5 frames with its blanks), or nothing.
    with pytest.raises(ValueError, match="cannot align"):
        forced_align(_posteriors([A, A, 0, B]), tokens)


def test_word_segments_hand_worked():
    tokenizer = CharTokenizer()
    g, o, space, u, p = tokenizer.encode("go up")
    path = torch.tensor([0, g, g, o, 0, space, space, 0, u, p, p, 0], dtype=torch.int32)
    probs = torch.tensor([0.99, 0.9, 0.7, 0.8, 0.99, 0.6, 0.6, 0.99, 0.6, 0.5, 0.4, 0.99])
    words = word_segments(path, probs.log(), tokenizer, seconds_per_frame=0.04)
    assert [w.word for w in words] == ["go", "up"]
    # "go": frames 1-3 (end exclusive 4); "up": frames 8-10 (end exclusive 11).
    assert [w.start for w in words] == pytest.approx([0.04, 0.32])
    assert [w.end for w in words] == pytest.approx([0.16, 0.44])
    assert [w.score for w in words] == pytest.approx([(0.9 + 0.7 + 0.8) / 3, 0.5], rel=1e-6)


def test_word_segments_after_forced_align_end_to_end():
    tokenizer = CharTokenizer()
    ids = tokenizer.encode("a b")  # a, space, b
    frames = [0, ids[0], ids[0], 0, ids[1], 0, ids[2], 0]
    log_probs = _posteriors(frames, vocab=len(tokenizer))
    path, scores = forced_align(log_probs, ids)
    assert path.tolist() == frames
    words = word_segments(path, scores, tokenizer, seconds_per_frame=0.5)
    assert [(w.word, w.start, w.end) for w in words] == [("a", 0.5, 1.5), ("b", 3.0, 3.5)]
    assert [w.score for w in words] == pytest.approx([0.9, 0.9], rel=1e-5)
