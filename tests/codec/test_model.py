"""course_utils.codec.model: shapes for any length, the hop, bitrates, the attention variant."""

import pytest
import torch

from course_utils.codec.conv import Decoder, Encoder
from course_utils.codec.model import Codec, CodecConfig, bitrate
from course_utils.codec.spectral import MagnitudeDecoder, STFTEncoder


@pytest.fixture(scope="module", params=["spectral", "conv"])
def tiny(request):
    torch.manual_seed(0)
    ends = {"spectral": {}, "conv": {"encoder": "conv", "decoder": "conv", "channels": 4}}
    return Codec(CodecConfig.preset("tiny", **ends[request.param])).eval()


def test_bitrate_formula():
    assert bitrate(50, 12, 1024) == 6000.0
    assert bitrate(75, 8, 1024) == 6000.0  # EnCodec 24 kHz at 6 kbps
    config = CodecConfig()
    assert config.hop == 320 and config.frame_rate == 50.0
    assert [config.bitrate(n) for n in (3, 6, 12)] == [1500.0, 3000.0, 6000.0]


@pytest.mark.parametrize("samples", [320, 321, 1000, 3200, 4799])
def test_round_trip_shapes_for_any_length(tiny, samples):
    wave = torch.randn(2, 1, samples) * 0.1
    reconstruction, codes, _ = tiny(wave)
    frames = max(2, -(-samples // tiny.config.hop))  # two frames at least
    assert tiny.waveform(reconstruction, samples).shape == wave.shape
    assert codes.shape == (2, tiny.config.n_q, frames)
    assert tiny.encode(wave).shape == codes.shape
    assert tiny.decode(codes, samples).shape == wave.shape
    assert tiny.decode(codes).shape == (2, 1, frames * tiny.config.hop)


def test_encode_then_decode_equals_forward(tiny):
    wave = torch.randn(1, 1, 2000) * 0.1
    with torch.no_grad():
        reconstruction, codes, _ = tiny(wave, n_q=2)
    assert torch.equal(tiny.encode(wave, n_q=2), codes)
    expected = tiny.waveform(reconstruction, 2000)
    assert torch.allclose(tiny.decode(codes, 2000), expected, atol=1e-5)


def test_conv_encoder_and_decoder_divide_and_multiply_by_the_hop():
    config = CodecConfig.preset("tiny", channels=4)
    z = Encoder(config)(torch.randn(3, 1, 320 * 7))
    assert z.shape == (3, config.latent_dim, 7)
    assert Decoder(config)(z).shape == (3, 1, 320 * 7)


def test_spectral_ends_make_two_stft_frames_per_latent_frame():
    config = CodecConfig.preset("tiny")
    z = STFTEncoder(config)(torch.randn(3, 1, 320 * 7))
    assert z.shape == (3, config.latent_dim, 7)
    decoder = MagnitudeDecoder(config)
    log_mag = decoder(z)
    assert log_mag.shape == (3, config.n_fft // 2 + 1, 14)
    assert decoder.waveform(log_mag).shape == (3, 1, 320 * 7)


def test_transformer_variant_keeps_shapes_and_attends_over_frames():
    torch.manual_seed(0)
    codec = Codec(CodecConfig.preset("tiny", transformer_layers=1)).eval()
    wave = torch.randn(2, 1, 3200) * 0.1
    assert codec.waveform(codec(wave)[0], 3200).shape == wave.shape
    z = codec.encoder(wave)
    _, weights = codec.encoder_attention(z, need_weights=True)
    assert torch.equal(codec.encoder_attention(z), z)  # untrained: the identity (zero output layer)
    assert weights.shape == (2, codec.config.heads, 10, 10)
    assert torch.allclose(weights.sum(-1), torch.ones(2, codec.config.heads, 10))


def test_gradients_reach_the_encoder_through_the_quantiser():
    codec = Codec(CodecConfig.preset("tiny")).train()
    output, _, commitment = codec(torch.randn(2, 1, 640) * 0.1)
    (output.pow(2).mean() + commitment).backward()
    first = codec.encoder.project.weight.grad
    assert first is not None and first.abs().sum() > 0


def test_unknown_ends_are_refused():
    with pytest.raises(ValueError, match="encoder must be one of"):
        CodecConfig(encoder="mel")
    with pytest.raises(ValueError, match="decoder must be one of"):
        CodecConfig(decoder="istft")


def test_unknown_preset():
    with pytest.raises(ValueError, match="tiny"):
        CodecConfig.preset("huge")
