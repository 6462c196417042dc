"""Tests for course_utils.asr: tokenizer, subsampling, the recogniser's shapes, masks and losses."""

import math
import re

import pytest
import torch
import torch.nn.functional as F

from course_utils.asr.dataset import FeatureSet
from course_utils.asr.decoding import attention_greedy_decode
from course_utils.asr.inference import transcribe
from course_utils.asr.model import (
    ASRConfig,
    ASROutput,
    ConvSubsampling,
    Recognizer,
    ctc_loss,
    decoder_targets,
)
from course_utils.asr.tokenizer import CharTokenizer

TINY = ASRConfig.preset("tiny")
TOKENIZER = CharTokenizer()


def _frames_after(frames: int) -> int:
    """Frames left by two stride-2 convolutions (kernel 3, padding 1): ceil(ceil(T / 2) / 2)."""
    return math.ceil(math.ceil(frames / 2) / 2)


def _model(device, **overrides):
    torch.manual_seed(0)
    return Recognizer(ASRConfig.preset("tiny", **overrides)).to(device)


def _batch(texts, frames, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    features = torch.randn(len(frames), TINY.n_mels, max(frames), generator=g)
    targets, target_lengths = TOKENIZER.batch(texts)
    lengths = torch.tensor(frames)
    return features.to(device), lengths.to(device), targets.to(device), target_lengths.to(device)


# CharTokenizer ----------------------------------------------------------------------------


def test_tokenizer_round_trip_and_reserved_ids():
    ids = TOKENIZER.encode("go up")
    assert ids == [10, 18, 2, 24, 19]  # space = 2, a = 4, ..., z = 29
    assert TOKENIZER.decode(ids) == "go up" and TOKENIZER.decode(torch.tensor(ids)) == "go up"
    assert len(TOKENIZER) == 30 and TOKENIZER.tokens[:2] == ["<blank>", "<eos>"]
    every = TOKENIZER.encode(TOKENIZER.alphabet)
    assert every == list(range(2, 30))  # no character takes blank (0) or <eos> (1)
    assert TOKENIZER.decode([0, 10, 1, 0, 18, 1]) == "go"  # blank and <eos> are skipped
    small = CharTokenizer("ba")
    assert len(small) == 4 and small.encode("abba") == [3, 2, 2, 3]


def test_tokenizer_lowers_upper_case():
    assert TOKENIZER.encode("Go UP") == TOKENIZER.encode("go up")
    assert TOKENIZER.decode(TOKENIZER.encode("STOP")) == "stop"


def test_tokenizer_names_unknown_characters():
    with pytest.raises(ValueError, match=re.escape("['!', '3']")):
        TOKENIZER.encode("go 3 up!")
    with pytest.raises(ValueError, match="repeated"):
        CharTokenizer("abca")
    with pytest.raises(ValueError, match="non-empty"):
        CharTokenizer("")


def test_tokenizer_batch_pads_with_blank_and_returns_lengths():
    ids, lengths = TOKENIZER.batch(["go", "stop", ""])
    assert ids.dtype == lengths.dtype == torch.long
    assert lengths.tolist() == [2, 4, 0]
    expected = [[10, 18, 0, 0], [22, 23, 18, 19], [0, 0, 0, 0]]
    assert ids.tolist() == expected
    ids, lengths = TOKENIZER.batch([""])
    assert ids.shape == (1, 1) and lengths.tolist() == [0]  # never a zero-width tensor


# ConvSubsampling --------------------------------------------------------------------------


@pytest.mark.parametrize("frames", [*range(1, 21), 101, 250])
@pytest.mark.parametrize("n_mels", [13, 40])
def test_output_lengths_equal_the_frames_produced(frames, n_mels):
    torch.manual_seed(0)
    subsampling = ConvSubsampling(n_mels, channels=3, out_dim=5)
    shorter = max(1, frames - 3)
    features = torch.randn(2, n_mels, frames)
    out, lengths = subsampling(features, torch.tensor([frames, shorter]))
    assert out.shape == (2, _frames_after(frames), 5)
    assert lengths.tolist() == [_frames_after(frames), _frames_after(shorter)]
    # The shorter sequence alone produces exactly as many frames as its output length says.
    alone, alone_lengths = subsampling(features[1:, :, :shorter], torch.tensor([shorter]))
    assert alone.shape[1] == int(alone_lengths[0]) == int(lengths[1])
    assert torch.equal(ConvSubsampling.output_lengths(torch.tensor([frames])), lengths[:1])


@pytest.mark.parametrize("frames", range(1, 14))
def test_subsampling_ignores_padding(frames, device):
    # The valid output frames must not depend on what fills the padding (here 7.0).
    torch.manual_seed(0)
    subsampling = ConvSubsampling(12, channels=3, out_dim=5).to(device)
    clip = torch.randn(1, 12, frames, device=device)
    alone, _ = subsampling(clip, torch.tensor([frames], device=device))
    padded = torch.cat([clip, torch.full((1, 12, 5), 7.0, device=device)], dim=-1)
    together, lengths = subsampling(padded, torch.tensor([frames], device=device))
    assert int(lengths[0]) == alone.shape[1]
    torch.testing.assert_close(together[:, : alone.shape[1]], alone, atol=1e-6, rtol=1e-6)


# Recognizer -------------------------------------------------------------------------------

BATCHES = [(["go up"], [48]), (["one two", "go", "stop"], [60, 37, 52])]


@pytest.mark.parametrize("attention", ["location", "content"])
@pytest.mark.parametrize("texts, frames", BATCHES)
def test_output_shapes(attention, texts, frames, device):
    model = _model(device, attention=attention).eval()
    features, lengths, targets, target_lengths = _batch(texts, frames, device)
    out = model(features, lengths, targets, target_lengths)
    batch, steps, reduced = len(texts), targets.shape[1] + 1, _frames_after(max(frames))
    assert isinstance(out, ASROutput)
    assert out.ctc_log_probs.shape == (batch, reduced, TINY.vocab_size)
    assert out.logits.shape == (batch, steps, TINY.vocab_size)
    assert out.alignments.shape == (batch, steps, reduced)
    assert out.encoder_lengths.tolist() == [_frames_after(f) for f in frames]
    assert out.ctc_log_probs.device.type == torch.device(device).type
    for loss in (out.loss, out.ctc_loss, out.attention_loss):
        assert loss.shape == () and torch.isfinite(loss) and loss > 0
    torch.testing.assert_close(  # log-softmax over the vocabulary
        out.ctc_log_probs.exp().sum(-1), torch.ones(batch, reduced, device=device)
    )
    uses_location = hasattr(model.decoder.attention, "location_conv")
    assert uses_location == (attention == "location")


@pytest.mark.parametrize("attention", ["location", "content"])
def test_backward_reaches_every_parameter(attention, device):
    model = _model(device, attention=attention).train()
    out = model(*_batch(["one two", "go"], [60, 41], device))
    out.loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


def test_eval_is_deterministic(device):
    model = _model(device).eval()
    inputs = _batch(["one two", "go"], [60, 41], device)
    first, second = model(*inputs), model(*inputs)
    for name in ("loss", "ctc_log_probs", "logits", "alignments"):
        torch.testing.assert_close(getattr(first, name), getattr(second, name), rtol=0, atol=0)


@pytest.mark.parametrize("attention", ["location", "content"])
def test_attention_rows_sum_to_one_and_skip_padded_frames(attention, device):
    model = _model(device, attention=attention).eval()
    out = model(*_batch(["one two", "go"], [60, 30], device))
    steps, reduced = out.alignments.shape[1], _frames_after(60)
    short = _frames_after(30)
    assert short < reduced
    torch.testing.assert_close(out.alignments.sum(-1), torch.ones(2, steps, device=device))
    assert out.alignments[1, :, short:].abs().max() == 0  # exactly zero on padded frames
    assert (out.alignments[1, :, :short] > 0).all()


@pytest.mark.parametrize("attention", ["location", "content"])
@pytest.mark.parametrize("frames", [30, 31, 33, 34])
def test_batching_with_a_longer_utterance_changes_nothing(attention, frames, device):
    # One utterance alone, then padded (features with 7.0, targets with junk ids) next to a
    # longer one: same CTC log-probs on its valid frames, same logits and alignments, and
    # the batch losses are what the two utterances give alone.
    model = _model(device, attention=attention, dropout=0.0).eval()
    short_ids, long_ids = TOKENIZER.encode("go"), TOKENIZER.encode("one two")
    g = torch.Generator().manual_seed(1)
    clip, other = torch.randn(1, 40, frames, generator=g), torch.randn(1, 40, 50, generator=g)
    clip, other = clip.to(device), other.to(device)

    def alone(features, ids):
        targets = torch.tensor([ids], device=device)
        return model(features, torch.tensor([features.shape[-1]], device=device), targets,
                     torch.tensor([len(ids)], device=device))  # fmt: skip

    short, long = alone(clip, short_ids), alone(other, long_ids)
    padded = torch.cat([clip, torch.full((1, 40, 50 - frames), 7.0, device=device)], dim=-1)
    targets = torch.tensor([short_ids + [7] * (len(long_ids) - len(short_ids)), long_ids])
    together = model(
        torch.cat([padded, other]), torch.tensor([frames, 50], device=device),
        targets.to(device), torch.tensor([len(short_ids), len(long_ids)], device=device),
    )  # fmt: skip
    valid, steps = _frames_after(frames), len(short_ids) + 1
    tolerance = dict(atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(together.ctc_log_probs[0, :valid], short.ctc_log_probs[0],
                               **tolerance)  # fmt: skip
    torch.testing.assert_close(together.ctc_log_probs[1], long.ctc_log_probs[0], **tolerance)
    torch.testing.assert_close(together.logits[0, :steps], short.logits[0], **tolerance)
    torch.testing.assert_close(together.alignments[0, :steps, :valid], short.alignments[0],
                               **tolerance)  # fmt: skip
    # CTC: mean over utterances; attention: mean over tokens (each transcript plus <eos>).
    torch.testing.assert_close(together.ctc_loss, (short.ctc_loss + long.ctc_loss) / 2,
                               **tolerance)  # fmt: skip
    short_tokens, long_tokens = len(short_ids) + 1, len(long_ids) + 1
    attention_loss = (short.attention_loss * short_tokens + long.attention_loss * long_tokens) / (
        short_tokens + long_tokens
    )
    torch.testing.assert_close(together.attention_loss, attention_loss, **tolerance)


@pytest.mark.parametrize("ctc_weight", [0.0, 0.3, 0.8, 1.0])
def test_joint_loss_is_the_weighted_sum(ctc_weight, device):
    model = _model(device, ctc_weight=ctc_weight).eval()
    features, lengths, targets, target_lengths = _batch(["one two", "go"], [60, 41], device)
    out = model(features, lengths, targets, target_lengths)
    expected_ctc = ctc_loss(out.ctc_log_probs, targets, out.encoder_lengths, target_lengths)
    torch.testing.assert_close(out.ctc_loss, expected_ctc)
    if ctc_weight == 1.0:
        assert model.decoder is None
        assert out.attention_loss is None and out.logits is None and out.alignments is None
        torch.testing.assert_close(out.loss, out.ctc_loss, rtol=0, atol=0)
        return
    assert model.decoder is not None
    if ctc_weight == 0.0:
        torch.testing.assert_close(out.loss, out.attention_loss, rtol=0, atol=0)
    expected = ctc_weight * out.ctc_loss + (1 - ctc_weight) * out.attention_loss
    torch.testing.assert_close(out.loss, expected)
    assert not torch.isclose(out.ctc_loss, out.attention_loss)  # the weights matter


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_attention_loss_is_smoothed_cross_entropy_per_token(label_smoothing):
    model = _model("cpu", label_smoothing=label_smoothing).eval()
    features, lengths, targets, target_lengths = _batch(["one two", "go"], [60, 41], "cpu")
    out = model(features, lengths, targets, target_lengths)
    per_token = []
    for row, n in enumerate(target_lengths.tolist()):
        wanted = targets[row, :n].tolist() + [1]  # the transcript, then <eos>
        log_probs = out.logits[row, : n + 1].log_softmax(-1)  # (n + 1, vocab)
        for step, token in enumerate(wanted):
            nll, uniform = -log_probs[step, token], -log_probs[step].mean()
            per_token.append((1 - label_smoothing) * nll + label_smoothing * uniform)
    torch.testing.assert_close(out.attention_loss, torch.stack(per_token).mean())


# ctc_loss ---------------------------------------------------------------------------------


def _logsumexp(values):
    values = [v for v in values if v != -math.inf]
    if not values:
        return -math.inf
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def _ctc_nll(log_probs: torch.Tensor, target: list[int], blank: int = 0) -> float:
    """-log p(target | x) by the CTC forward recursion over the blank-extended labels."""
    lp = log_probs.tolist()  # (T, V)
    extended = [blank]
    for token in target:
        extended += [token, blank]
    alpha = [-math.inf] * len(extended)
    alpha[0] = lp[0][blank]
    if len(extended) > 1:
        alpha[1] = lp[0][extended[1]]
    for t in range(1, len(lp)):
        new = []
        for s, label in enumerate(extended):
            terms = [alpha[s]]
            if s >= 1:
                terms.append(alpha[s - 1])
            if s >= 2 and label != blank and label != extended[s - 2]:
                terms.append(alpha[s - 2])  # skip the blank between two different labels
            new.append(_logsumexp(terms) + lp[t][label])
        alpha = new
    return -_logsumexp(alpha[-2:])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ctc_loss_matches_torch_and_the_forward_algorithm(seed):
    g = torch.Generator().manual_seed(seed)
    batch, frames, vocab = 3, 9, 5
    log_probs = torch.randn(batch, frames, vocab, generator=g, dtype=torch.float64)
    log_probs = log_probs.log_softmax(-1)
    targets = torch.randint(1, vocab, (batch, 4), generator=g)
    targets[0, :3] = torch.tensor([2, 2, 3])  # a repeat: needs a blank between the two 2s
    input_lengths = torch.tensor([9, 7, 5])
    target_lengths = torch.tensor([3, 4, 1])
    loss = ctc_loss(log_probs, targets, input_lengths, target_lengths)
    per_utterance = F.ctc_loss(log_probs.transpose(0, 1), targets, input_lengths, target_lengths,
                               reduction="none")  # fmt: skip
    torch.testing.assert_close(loss, (per_utterance / target_lengths).mean())
    pairs = zip(input_lengths.tolist(), target_lengths.tolist(), strict=True)
    reference = [
        _ctc_nll(log_probs[b, :t], targets[b, :n].tolist()) / n for b, (t, n) in enumerate(pairs)
    ]
    torch.testing.assert_close(loss, torch.tensor(reference, dtype=torch.float64).mean())


def test_ctc_forward_reference_on_a_hand_worked_case():
    # Two frames, target [1]: paths "1 1", "_ 1", "1 _" -> p = 0.5*0.5 + 0.5*0.5 + 0.5*0.5.
    log_probs = torch.tensor([[0.5, 0.5], [0.5, 0.5]]).log()
    assert _ctc_nll(log_probs, [1]) == pytest.approx(-math.log(0.75))
    loss = ctc_loss(log_probs[None], torch.tensor([[1]]), torch.tensor([2]), torch.tensor([1]))
    assert loss.item() == pytest.approx(-math.log(0.75), rel=1e-6)


def test_ctc_loss_gives_zero_for_impossible_alignments():
    log_probs = torch.randn(2, 3, 4).log_softmax(-1)
    targets = torch.tensor([[2, 2, 2], [1, 2, 0]])  # 2 2 2 needs 5 frames, only 3 here
    loss = ctc_loss(log_probs, targets, torch.tensor([3, 3]), torch.tensor([3, 2]))
    possible = F.ctc_loss(log_probs[1:].transpose(0, 1), targets[1:, :2], torch.tensor([3]),
                          torch.tensor([2]), reduction="sum")  # fmt: skip
    assert torch.isfinite(loss)
    torch.testing.assert_close(loss, (0 + possible / 2) / 2)


# decoder_targets --------------------------------------------------------------------------


def test_decoder_targets_hand_worked():
    targets = torch.tensor([[5, 6, 7], [8, 9, 9]])  # the second row is "8" padded with 9s
    inputs, outputs = decoder_targets(targets, torch.tensor([3, 1]))
    assert inputs.tolist() == [[1, 5, 6, 7], [1, 8, 0, 0]]
    assert outputs.tolist() == [[5, 6, 7, 1], [8, 1, -100, -100]]
    inputs, outputs = decoder_targets(torch.tensor([[4, 4]]), torch.tensor([0]))  # empty text
    assert inputs.tolist() == [[1, 0, 0]] and outputs.tolist() == [[1, -100, -100]]


# Bad input --------------------------------------------------------------------------------


def test_bad_shapes_raise_in_forward():
    model = Recognizer(TINY)
    targets, target_lengths = TOKENIZER.batch(["go", "up"])
    features = torch.randn(2, 40, 50)
    with pytest.raises(ValueError, match=r"\(batch, n_mels=40, frames\), got \(2, 30, 50\)"):
        model(torch.randn(2, 30, 50), torch.tensor([50, 40]), targets, target_lengths)
    with pytest.raises(ValueError, match="n_mels=40"):
        model(torch.randn(40, 50), torch.tensor([50, 40]), targets, target_lengths)
    with pytest.raises(ValueError, match=r"lengths must have shape \(batch,\) = \(2,\)"):
        model(features, torch.tensor([[50, 40]]), targets, target_lengths)


def test_bad_values_raise_at_the_public_entry_points():
    """`forward` checks shapes only (no GPU sync per step); the decoders and `transcribe`
    check the values, once per call."""
    model = Recognizer(TINY).eval()
    features = torch.randn(2, 40, 50)
    for bad in (torch.tensor([51, 40]), torch.tensor([50, 0])):
        with pytest.raises(ValueError, match=r"lengths must be in \[1, frames=50\]"):
            attention_greedy_decode(model, features, bad)
    for bad in (math.nan, math.inf):
        broken = features.clone()
        broken[1, 3, 7] = bad
        with pytest.raises(ValueError, match="NaN or inf"):
            attention_greedy_decode(model, broken, torch.tensor([50, 40]))
        data = FeatureSet.from_features(list(broken), ["go", "up"], TOKENIZER)
        for decoder in ("ctc", "attention"):
            with pytest.raises(ValueError, match="NaN or inf"):
                transcribe(model, data, decoder, "cpu")


@pytest.mark.parametrize(
    "overrides, match",
    [
        (dict(attention="dot"), "attention must be 'location' or 'content'"),
        (dict(ctc_weight=-0.1), r"ctc_weight must be in \[0, 1\]"),
        (dict(ctc_weight=1.5), r"ctc_weight must be in \[0, 1\]"),
        (dict(encoder_dim=0), "encoder_dim must be a positive integer"),
        (dict(vocab_size=True), "vocab_size must be a positive integer"),
    ],
)
def test_bad_config_raises(overrides, match):
    with pytest.raises(ValueError, match=match):
        ASRConfig(**overrides)
    with pytest.raises(ValueError, match=match):
        ASRConfig.preset("tiny", **overrides)
