"""Tests for course_utils.tts config, encoder, decoder and model: shapes, padding invariance,
gradients, the prenet's dropout and errors on bad input."""

import pytest
import torch
from torch.testing import assert_close

from course_utils.tts.config import TTSConfig
from course_utils.tts.decoder import Prenet
from course_utils.tts.encoder import TextEncoder
from course_utils.tts.losses import tacotron_loss
from course_utils.tts.model import Tacotron, TacotronOutput
from course_utils.tts.text import TextTokenizer

TOKENIZER = TextTokenizer()
TEXTS = ["turn on the lights", "go", "set the volume to five"]


def _model(device="cpu", **overrides) -> Tacotron:
    torch.manual_seed(0)
    return Tacotron(TTSConfig.preset("tiny", **overrides)).to(device)


def _batch(texts, frames, device="cpu", seed=0):
    tokens, text_lengths = TOKENIZER.batch(texts)
    g = torch.Generator().manual_seed(seed)
    mels = torch.randn(len(texts), 80, max(frames), generator=g)
    mel_lengths = torch.tensor(frames)
    return tokens.to(device), text_lengths.to(device), mels.to(device), mel_lengths.to(device)


@pytest.mark.parametrize("reduction_factor", [1, 2, 3])
@pytest.mark.parametrize("n", [1, 3])
def test_output_shapes(device, n, reduction_factor):
    model = _model(device, reduction_factor=reduction_factor)
    frames = [11, 7, 9][:n]
    tokens, text_lengths, mels, mel_lengths = _batch(TEXTS[:n], frames, device)
    out = model(tokens, text_lengths, mels, mel_lengths)
    steps = -(-max(frames) // reduction_factor)
    assert isinstance(out, TacotronOutput)
    assert out.mel.shape == out.mel_postnet.shape == (n, 80, max(frames))
    assert out.stop_logits.shape == (n, steps)
    assert out.alignments.shape == (n, steps, tokens.shape[1])


@pytest.mark.parametrize("kind", ["location", "content"])
def test_attention_rows_sum_to_one_and_skip_padded_characters(kind):
    model = _model(attention_kind=kind).eval()
    tokens, text_lengths, mels, mel_lengths = _batch(TEXTS, [11, 7, 9])
    alignments = model(tokens, text_lengths, mels, mel_lengths).alignments
    assert_close(alignments.sum(-1), torch.ones(alignments.shape[:2]))
    assert alignments[1, :, 2:].abs().max() == 0  # "go" has 2 characters
    assert hasattr(model.decoder.attention, "location_conv") == (kind == "location")


def test_encoder_is_padding_invariant():
    encoder = TextEncoder(TTSConfig.preset("tiny")).eval()
    tokens, lengths = TOKENIZER.batch(["go", "turn on the kitchen lights"])
    alone = encoder(tokens[:1, :2], lengths[:1])
    batched = encoder(tokens, lengths)
    assert_close(batched[:1, :2], alone)
    assert batched[0, 2:].abs().max() == 0  # padding stays zero


@pytest.mark.parametrize("kind", ["location", "content"])
def test_model_is_padding_invariant(kind):
    """An item's outputs do not change when it is batched with a longer one (eval mode,
    prenet dropout switched off for the comparison)."""
    model = _model(attention_kind=kind, prenet_dropout_at_inference=False).eval()
    tokens, text_lengths, mels, mel_lengths = _batch(["go up", "set the volume to five"], [9, 20])
    alone = model(tokens[:1, :5], text_lengths[:1], mels[:1, :, :9], mel_lengths[:1])
    batched = model(tokens, text_lengths, mels, mel_lengths)
    steps = alone.stop_logits.shape[1]  # ceil(9 / r)
    assert_close(batched.mel[:1, :, :9], alone.mel)
    assert_close(batched.mel_postnet[:1, :, :9], alone.mel_postnet)
    assert_close(batched.stop_logits[:1, :steps], alone.stop_logits)
    assert_close(batched.alignments[:1, :steps, :5], alone.alignments)


@pytest.mark.parametrize("kind", ["location", "content"])
def test_every_parameter_gets_a_gradient(device, kind):
    model = _model(device, attention_kind=kind).train()
    tokens, text_lengths, mels, mel_lengths = _batch(TEXTS, [11, 7, 9], device)
    out = model(tokens, text_lengths, mels, mel_lengths)
    tacotron_loss(out, mels, mel_lengths, text_lengths, model.config).loss.backward()
    missing = [name for name, p in model.named_parameters()
               if p.requires_grad and (p.grad is None or p.grad.abs().sum() == 0)]  # fmt: skip
    assert not missing, f"no gradient reaches {missing}"


def test_prenet_dropout_stays_on_in_eval_mode_unless_switched_off():
    torch.manual_seed(0)
    x = torch.ones(64, 80)
    prenet = Prenet(80, 32, dropout=0.5).eval()
    assert not torch.equal(prenet(x), prenet(x))  # still random in eval mode (Tacotron 2)
    prenet.dropout_at_inference = False
    assert torch.equal(prenet(x), prenet(x))
    assert _model().decoder.prenet.dropout_at_inference is True
    assert _model(prenet_dropout_at_inference=False).decoder.prenet.dropout_at_inference is False


def test_eval_mode_is_deterministic_without_prenet_dropout():
    model = _model(prenet_dropout_at_inference=False).eval()
    batch = _batch(TEXTS, [11, 7, 9])
    assert torch.equal(model(*batch).mel_postnet, model(*batch).mel_postnet)


def test_mels_of_the_wrong_number_of_bands_are_refused():
    model = _model()
    tokens, text_lengths, _, _ = _batch(["go"], [5])
    with pytest.raises(ValueError, match="n_mels=80"):
        model(tokens, text_lengths, torch.randn(1, 40, 5), torch.tensor([5]))
    with pytest.raises(ValueError, match="n_mels=80"):
        model.check_batch(tokens, text_lengths, torch.randn(1, 40, 5), torch.tensor([5]))


def test_check_batch_refuses_bad_values():
    model = _model()
    tokens, text_lengths, mels, mel_lengths = _batch(["go"], [5])
    model.check_batch(tokens, text_lengths, mels, mel_lengths)  # a good batch passes
    with pytest.raises(ValueError, match="mel_lengths|lengths"):
        model.check_batch(tokens, text_lengths, mels, torch.tensor([6]))
    with pytest.raises(ValueError, match="text_lengths"):
        model.check_batch(tokens, torch.tensor([3]), mels, mel_lengths)
    with pytest.raises(ValueError, match="token ids"):
        model.check_batch(tokens + 100, text_lengths, mels, mel_lengths)
    with pytest.raises(ValueError, match="NaN"):
        model.check_batch(tokens, text_lengths, mels * float("nan"), mel_lengths)
    with pytest.raises(ValueError, match="tokens"):
        model(tokens.float(), text_lengths, mels, mel_lengths)


def test_presets_and_config_errors():
    tiny, small = TTSConfig.preset("tiny"), TTSConfig.preset("small")
    assert tiny.encoder_dim < small.encoder_dim < TTSConfig().encoder_dim
    assert TTSConfig().vocab_size == len(TOKENIZER)
    assert TTSConfig.preset("small", guided_weight=0.0).guided_weight == 0.0
    n_tiny = sum(p.numel() for p in Tacotron(tiny).parameters())
    assert n_tiny < 30_000
    with pytest.raises(ValueError, match="unknown preset"):
        TTSConfig.preset("huge")
    with pytest.raises(ValueError, match="attention_kind"):
        TTSConfig(attention_kind="dot")
    with pytest.raises(ValueError, match="odd"):
        TTSConfig(location_kernel=4)
    with pytest.raises(ValueError, match="reduction_factor"):
        TTSConfig(reduction_factor=0)
    with pytest.raises(ValueError, match="mel_loss"):
        TTSConfig(mel_loss="l3")
