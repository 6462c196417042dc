"""Tests for course_utils.kws.model: shapes, masks, backward, determinism, the spotter."""

import pytest
import torch

from course_utils.kws.model import (
    ClassifierConfig,
    CNNClassifier,
    KeywordSpotter,
    KeywordTransformer,
    build_classifier,
    standardize,
)

KINDS = ["cnn_mean", "cnn_attention", "kwt"]


def _model(kind, num_classes=5, device="cpu"):
    torch.manual_seed(0)
    return build_classifier(ClassifierConfig.preset("tiny", num_classes, kind)).to(device)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch", [1, 3])
def test_output_shapes_and_weights(kind, batch, device):
    model = _model(kind, device=device).eval()
    out = model(torch.randn(batch, 16, 40, device=device))
    frames = 20  # tiny CNN halves the frames once; tiny KWT has patches of 2 frames
    assert out.logits.shape == (batch, 5)
    assert out.weights.shape == (batch, frames)
    torch.testing.assert_close(out.weights.sum(-1), torch.ones(batch, device=device))


@pytest.mark.parametrize("kind", KINDS)
def test_padding_gets_no_weight_and_does_not_change_the_output(kind, device):
    model = _model(kind, device=device).eval()
    features = torch.randn(2, 16, 40, device=device)
    lengths = torch.tensor([40, 24], device=device)
    out = model(features, lengths)
    valid = 12
    assert out.weights[1, valid:].abs().max() == 0
    if kind == "kwt":
        # Transformer: padded tokens cannot change the valid ones' result.
        alone = model(features[1:, :, :24])
        torch.testing.assert_close(out.logits[1:], alone.logits, atol=1e-5, rtol=1e-4)


def test_mean_pooling_weights_are_uniform_over_valid_frames():
    model = _model("cnn_mean").eval()
    out = model(torch.randn(2, 16, 40), torch.tensor([40, 20]))
    torch.testing.assert_close(out.weights[0], torch.full((20,), 1 / 20))
    torch.testing.assert_close(out.weights[1, :10], torch.full((10,), 1 / 10))


def test_attention_pooling_starts_as_mean_pooling():
    torch.manual_seed(0)
    model = CNNClassifier(ClassifierConfig.preset("tiny", 4, "cnn_attention")).eval()
    out = model(torch.randn(2, 16, 40))
    torch.testing.assert_close(out.weights, torch.full((2, 20), 1 / 20))


@pytest.mark.parametrize("kind", KINDS)
def test_backward_reaches_every_parameter(kind, device):
    model = _model(kind, device=device).train()
    out = model(
        torch.randn(4, 16, 40, device=device), torch.tensor([40, 30, 20, 40], device=device)
    )
    torch.nn.functional.cross_entropy(
        out.logits, torch.tensor([0, 1, 2, 3], device=device)
    ).backward()
    for name, parameter in model.named_parameters():
        if kind == "cnn_attention" and name == "pooling.proj.weight":
            continue  # zero-initialised scorer: its first gradient reaches w only
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name


@pytest.mark.parametrize("kind", KINDS)
def test_eval_is_deterministic(kind):
    model = _model(kind).eval()
    x = torch.randn(2, 16, 40)
    torch.testing.assert_close(model(x).logits, model(x).logits)


def test_bad_inputs_raise_clear_errors():
    model = _model("cnn_attention")
    with pytest.raises(ValueError, match="n_mels=16"):
        model(torch.randn(2, 40, 40))
    with pytest.raises(ValueError, match="max_frames"):
        _model("kwt")(torch.randn(1, 16, 500))
    with pytest.raises(ValueError, match="kind"):
        ClassifierConfig(5, kind="rnn")
    with pytest.raises(ValueError, match="num_classes"):
        ClassifierConfig(1)
    with pytest.raises(ValueError, match="time_pools"):
        ClassifierConfig(5, channels=(8,), time_pools=2)
    with pytest.raises(ValueError, match="KeywordTransformer"):
        KeywordTransformer(ClassifierConfig.preset("tiny", 3))


def test_standardize_uses_valid_frames_only():
    x = torch.randn(2, 4, 10) * 3 + 7
    x[1, :, 6:] = 1000.0  # padding must not move the statistics
    out = standardize(x, torch.tensor([10, 6]))
    valid = out[1, :, :6]
    assert abs(valid.mean().item()) < 1e-5
    assert abs(valid.std(unbiased=False).item() - 1) < 1e-3
    assert out[1, :, 6:].abs().max() == 0


def _spotter():
    torch.manual_seed(0)
    model = build_classifier(ClassifierConfig(3, n_mels=40, channels=(8, 16), dim=16))
    return KeywordSpotter(model, ("a", "b", "c")).eval()


@pytest.mark.parametrize("sample_rate", [8000, 16000, 44100])
def test_spotter_accepts_any_sample_rate(sample_rate):
    spotter = _spotter()
    t = torch.arange(sample_rate) / sample_rate
    label, probs = spotter.predict(0.3 * torch.sin(2 * torch.pi * 440 * t), sample_rate)
    assert label in ("a", "b", "c")
    torch.testing.assert_close(probs.sum(), torch.tensor(1.0))


def test_spotter_resampling_matches_native_rate():
    spotter = _spotter()

    def tone(hz, rate):
        t = torch.arange(rate) / rate
        return 0.3 * torch.sin(2 * torch.pi * hz * t)

    _, native = spotter.predict(tone(440, 16000), 16000)
    _, resampled = spotter.predict(tone(440, 8000), 8000)
    _, other = spotter.predict(tone(1500, 16000), 16000)
    # Resampling changes the answer far less than a different sound does.
    assert (native - resampled).abs().max() < 0.2 * (native - other).abs().max()


def test_spotter_rejects_bad_audio():
    spotter = _spotter()
    with pytest.raises(ValueError):
        spotter.predict(torch.randn(2, 16000), 16000)
    with pytest.raises(ValueError):
        spotter.predict(torch.full((16000,), float("nan")), 16000)
    with pytest.raises(ValueError):
        spotter.predict(torch.randn(16000), 0)
    with pytest.raises(ValueError, match="labels"):
        KeywordSpotter(spotter.model, ("a", "b"))
