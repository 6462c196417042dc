"""course_utils.restoration.model: shapes for any length, the identity at start, gains, config."""

import math

import numpy as np
import pytest
import torch

from course_utils.restoration.model import BOTTLENECKS, Restorer, RestorerConfig


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    return {
        (preset, bottleneck): Restorer(RestorerConfig.preset(preset, bottleneck=bottleneck)).eval()
        for preset in ("tiny", "small")
        for bottleneck in BOTTLENECKS
    }


def _trained_looking(model: Restorer, seed: int = 0) -> Restorer:
    """The last layer made non-zero, as after some training (it starts at zero)."""
    torch.manual_seed(seed)
    with torch.no_grad():
        model.decode.weight.normal_(0.0, 0.01)
    return model


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("samples", [512, 1000, 4001, 16000, 16001])
@pytest.mark.parametrize("bottleneck", BOTTLENECKS)
@pytest.mark.parametrize("preset", ["tiny", "small"])
def test_output_is_as_long_as_the_input(models, preset, bottleneck, samples, batch):
    model = models[preset, bottleneck]
    wave = torch.randn(batch, samples) * 0.1
    with torch.no_grad():
        out = model(wave)
    assert out.shape == wave.shape and out.dtype == torch.float32
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("bottleneck", BOTTLENECKS)
def test_trained_looking_output_is_as_long_as_the_input(bottleneck):
    model = _trained_looking(Restorer(RestorerConfig.preset("tiny", bottleneck=bottleneck)))
    for samples in (513, 4001, 8191):
        with torch.no_grad():
            assert model(torch.randn(2, samples) * 0.1).shape == (2, samples)


@pytest.mark.parametrize("bottleneck", BOTTLENECKS)
@pytest.mark.parametrize("preset", ["tiny", "small"])
def test_untrained_generator_is_the_identity(models, preset, bottleneck):
    model = models[preset, bottleneck]
    wave = torch.randn(2, 5000) * 0.1
    with torch.no_grad():
        out = model(wave)
        gains = model.log_gains(model.spectrum(wave))
    assert torch.equal(gains, torch.zeros_like(gains))
    assert (out - wave).abs().max() < 1e-3


@pytest.mark.parametrize("samples", [4000, 4001, 4095])
def test_attention_weights_are_per_head_and_sum_to_one(models, samples):
    model = models["tiny", "attention"]
    config = model.config
    with torch.no_grad():
        spectrum = model.spectrum(torch.randn(2, samples) * 0.1)
        gains, weights = model.log_gains(spectrum, need_weights=True)
    frames = samples // config.hop + 1
    assert spectrum.shape == (2, config.bins, frames)
    assert gains.shape == spectrum.shape and gains.dtype == torch.float32
    t4 = math.ceil(frames / 4)  # padded to a multiple of 4, halved twice
    assert weights.shape == (2, config.heads, t4, t4)
    assert torch.allclose(weights.sum(-1), torch.ones(2, config.heads, t4), atol=1e-5)
    assert (weights >= 0).all()


def test_conv_bottleneck_has_no_weights(models):
    model = models["tiny", "conv"]
    with torch.no_grad():
        spectrum = model.spectrum(torch.randn(1, 4000) * 0.1)
        gains, weights = model.log_gains(spectrum, need_weights=True)
    assert weights is None and gains.shape == spectrum.shape


def test_without_need_weights_only_the_gains_come_back(models):
    model = models["tiny", "attention"]
    with torch.no_grad():
        spectrum = model.spectrum(torch.randn(1, 2000) * 0.1)
        gains = model.log_gains(spectrum)
    assert isinstance(gains, torch.Tensor) and gains.shape == spectrum.shape


def test_presets_and_overrides():
    tiny = RestorerConfig.preset("tiny")
    assert (tiny.channels, tiny.layers, tiny.heads) == (96, 1, 2)
    small = RestorerConfig.preset("small", bottleneck="conv")
    assert (small.channels, small.layers, small.heads, small.bottleneck) == (192, 2, 4, "conv")
    assert RestorerConfig().bins == 257
    conv = Restorer(RestorerConfig.preset("tiny", bottleneck="conv"))
    assert len(conv.bottleneck) == 1


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match="bottleneck must be one of"):
        RestorerConfig(bottleneck="lstm")
    with pytest.raises(ValueError, match=r"heads \(5\) must divide channels \(96\)"):
        RestorerConfig(channels=96, heads=5)
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        RestorerConfig.preset("huge")
    with pytest.raises(ValueError, match="hop <= n_fft"):
        RestorerConfig(n_fft=256, hop=512)
    with pytest.raises(ValueError, match="positive sizes"):
        RestorerConfig(layers=0)


@pytest.mark.parametrize("bottleneck", BOTTLENECKS)
def test_gradients_reach_every_parameter(bottleneck):
    model = _trained_looking(Restorer(RestorerConfig.preset("tiny", bottleneck=bottleneck)))
    model.train()
    wave = torch.randn(2, 4000) * 0.1
    target = torch.randn(2, 4000) * 0.1
    (model(wave) - target).abs().mean().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


def test_a_zero_last_layer_still_passes_gradient_to_itself():
    """At start only the last layer learns (everything before it is multiplied by zero)."""
    model = Restorer(RestorerConfig.preset("tiny"))
    wave = torch.randn(1, 2000) * 0.1
    (model(wave) - 0.5 * wave).abs().mean().backward()
    assert model.decode.weight.grad.abs().sum() > 0
    assert model.decode.bias.grad.abs().sum() > 0


def test_a_constant_log_gain_scales_the_output():
    model = Restorer(RestorerConfig.preset("tiny")).eval()
    with torch.no_grad():
        model.decode.bias.fill_(math.log(10.0))  # g = ln 10 everywhere: 10x every bin
    t = torch.arange(8000) / 16000
    loud = (0.5 * torch.sin(2 * math.pi * 440 * t) + 0.1 * torch.randn(8000))[None]
    with torch.no_grad():
        out = model(loud)
    error = (out - 10 * loud).norm() / (10 * loud).norm()
    assert error < 0.01


def test_gains_in_the_high_band_raise_only_the_high_band():
    """Bandwidth extension's mechanism: +20 dB in the bins above 4 kHz."""
    model = Restorer(RestorerConfig.preset("tiny")).eval()
    with torch.no_grad():
        model.decode.bias[128:] = math.log(10.0)  # bins 128..256: 4 kHz and up
    wave = 0.2 * torch.randn(1, 16000, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = model(wave)

    def band_power(x, low_hz, high_hz):
        power = np.abs(np.fft.rfft(x[0].double().numpy())) ** 2
        freqs = np.fft.rfftfreq(x.shape[-1], 1 / 16000)
        return power[(freqs >= low_hz) & (freqs < high_hz)].sum()

    high = 10 * np.log10(band_power(out, 4300, 7900) / band_power(wave, 4300, 7900))
    low = 10 * np.log10(band_power(out, 100, 3700) / band_power(wave, 100, 3700))
    assert high == pytest.approx(20.0, abs=0.5)
    assert low == pytest.approx(0.0, abs=0.5)


def test_log_gain_is_capped():
    model = Restorer(RestorerConfig.preset("tiny", max_log_gain=2.0)).eval()
    with torch.no_grad():
        model.decode.bias.fill_(5.0)
        gains = model.log_gains(model.spectrum(torch.randn(1, 2000) * 0.1))
    assert torch.allclose(gains, torch.full_like(gains, 2.0))
