"""Lesson 10's exercises agree with the package they teach: the reference bitrate, nearest
code and residual-VQ codes are those of ``course_utils.codec`` (same formula, same distance,
same residual chain, codes (Q, N) as the codec's (B, Q, T)), on random inputs as well as on
the exercises' own cases, whose nearest codes are all clear of a tie."""

import math

import pytest
import torch

from course_utils.codec.model import CodecConfig, bitrate
from course_utils.codec.quantize import ResidualVQ, nearest_code
from course_utils.exercises import check, get_exercise


def _reference(name):
    return get_exercise(f"10.{name}").reference


def _cases(name):
    return get_exercise(f"10.{name}").make_cases(torch.Generator().manual_seed(0))


def _package_rvq(codebooks):
    """The codec's ResidualVQ in eval mode, its stages' codebooks replaced by `codebooks`."""
    n_q, size, dim = codebooks.shape
    rvq = ResidualVQ(n_q, dim, size)
    for stage, codebook in zip(rvq.stages, codebooks, strict=True):
        stage.codebook.copy_(codebook)
        stage.initialized.fill_(True)  # no data initialisation: keep these codebooks
    return rvq.eval()  # eval: no EMA update, no dead-code restart


def _package_codes(x, codebooks):
    with torch.no_grad():
        return _package_rvq(codebooks)(x[None])[1][0]  # codes (1, Q, N) -> (Q, N)


def _random_codebooks(g, count):
    for _ in range(count):
        n, dim, size, n_q = (
            int(torch.randint(1, high, (), generator=g)) for high in (40, 12, 64, 8)
        )
        scales = 0.6 ** torch.arange(n_q, dtype=torch.float32)
        codebooks = torch.randn(n_q, size, dim, generator=g) * scales[:, None, None]
        yield torch.randn(n, dim, generator=g), codebooks


def test_bitrate_is_the_package_bitrate():
    reference = _reference("bitrate")
    extra = [(50, 12, 1024), (16_000 / 320, 4, 256), (24_000 / 320, 32, 1024), (50, 3, 1000)]
    for frame_rate, stages, codebook_size in [*_cases("bitrate"), *extra]:
        mine = reference(frame_rate, stages, codebook_size)
        assert isinstance(mine, float)
        assert math.isclose(mine, bitrate(frame_rate, stages, codebook_size), rel_tol=1e-12)


@pytest.mark.parametrize("preset", ["tiny", "small"])
def test_bitrate_is_the_codec_configs_bitrate(preset):
    config = CodecConfig.preset(preset)
    for n_q in range(1, config.n_q + 1):
        mine = _reference("bitrate")(config.frame_rate, n_q, config.codebook_size)
        assert math.isclose(mine, config.bitrate(n_q), rel_tol=1e-12)


def test_nearest_code_is_the_package_nearest_code():
    reference = _reference("nearest_code")
    g = torch.Generator().manual_seed(1)
    pairs = list(_cases("nearest_code"))
    for _ in range(30):
        n, dim, size = (int(torch.randint(1, high, (), generator=g)) for high in (50, 16, 40))
        scale = float(torch.empty(()).uniform_(0.1, 5.0, generator=g))
        pairs.append(
            (torch.randn(n, dim, generator=g) * scale, torch.randn(size, dim, generator=g))
        )
    for x, codebook in pairs:
        mine = reference(x, codebook)
        assert mine.dtype == torch.int64 and mine.shape == (len(x),)
        assert torch.equal(mine, nearest_code(x, codebook))


def test_residual_codes_are_the_package_residual_vq_codes():
    reference = _reference("residual_codes")
    pairs = [*_cases("residual_codes"), *_random_codebooks(torch.Generator().manual_seed(2), 30)]
    for x, codebooks in pairs:
        mine = reference(x, codebooks)
        assert mine.dtype == torch.int64 and mine.shape == (len(codebooks), len(x))
        assert torch.equal(mine, _package_codes(x, codebooks))


def test_residual_codes_take_a_list_of_codebooks_as_well():
    reference = _reference("residual_codes")
    for x, codebooks in _cases("residual_codes"):
        assert torch.equal(reference(x, list(codebooks)), reference(x, codebooks))


def test_residual_codes_decode_to_the_package_quantized_vectors():
    """Summing each stage's chosen code gives back what the codec's quantiser outputs."""
    for x, codebooks in _cases("residual_codes"):
        codes = _reference("residual_codes")(x, codebooks)
        summed = sum(codebook[c] for codebook, c in zip(codebooks, codes, strict=True))
        with torch.no_grad():
            quantized = _package_rvq(codebooks)(x[None])[0][0]
        torch.testing.assert_close(summed, quantized)


@pytest.mark.parametrize(
    "name, function",
    [
        ("10.bitrate", bitrate),
        ("10.nearest_code", nearest_code),
        ("10.nearest_code", lambda x, codebook: torch.cdist(x, codebook).argmin(dim=1)),
        ("10.residual_codes", _package_codes),
    ],
)
def test_the_package_functions_pass_the_checks(name, function):
    result = check(name, function)
    assert result.passed, result.message


def _margins(x, codebook):
    """For each row, how much farther its second-nearest code is than its nearest (squared
    distances), relative to the squared lengths at hand; inf with a single code."""
    distances = (x[:, None, :] - codebook[None, :, :]).double().pow(2).sum(-1)
    if distances.shape[1] == 1:
        return torch.full((len(x),), math.inf)
    nearest, second = distances.topk(2, dim=1, largest=False).values.T
    return (second - nearest) / (x.double().pow(2).sum(1) + codebook.double().pow(2).sum(1).max())


def test_every_nearest_code_of_the_cases_is_clear_of_a_tie():
    for x, codebook in _cases("nearest_code"):
        assert len(x) >= 1 and _margins(x, codebook).min() > 1e-4
    for x, codebooks in _cases("residual_codes"):
        residual = x
        for codebook in codebooks:
            assert len(x) >= 1 and _margins(residual, codebook).min() > 1e-4
            residual = residual - codebook[nearest_code(residual, codebook)]


def test_nearest_code_cases_hold_each_edge_case():
    cases = _cases("nearest_code")
    reference = _reference("nearest_code")
    assert any(len(x) == 1 for x, _ in cases)  # a single vector
    assert any(len(codebook) == 1 for _, codebook in cases)  # a single code
    assert any(x.shape[1] == 1 for x, _ in cases)  # scalar quantisation
    lengths = [codebook.norm(dim=1) for _, codebook in cases]
    assert any(n.max() / n.min() > 50 for n in lengths)  # codes of very different lengths
    assert any(torch.allclose(n, n[0].expand_as(n)) for n in lengths)  # of equal length
    assert any(not torch.equal((x @ c.T).argmax(1), reference(x, c)) for x, c in cases)
    assert any(len(x) != len(c) for x, c in cases)  # the wrong axis shows in the shape


def test_residual_codes_cases_hold_each_edge_case():
    cases = _cases("residual_codes")
    assert any(len(codebooks) == 1 for _, codebooks in cases)  # Q = 1: plain VQ
    assert any(len(x) == 1 for x, _ in cases)  # a single vector
    assert any(len(codebooks) >= 3 for _, codebooks in cases)  # the running residual matters
    assert all(len(x) != len(codebooks) for x, codebooks in cases)  # (N, Q) shows in the shape
    reference = _reference("residual_codes")
    exact = [(x, c) for x, c in cases if reference(x, c).shape[0] > 1]
    assert any(  # rows built from one code per stage: residual VQ gets down to 0
        torch.allclose(
            x, sum(cb[codes] for cb, codes in zip(c, reference(x, c), strict=True)), atol=1e-5
        )
        for x, c in exact
    )
