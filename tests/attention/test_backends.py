"""Tests for course_utils.attention.backends: forcing SDPA backends, listing the available ones,
and counting attention's FLOPs."""

import pytest
import torch

from course_utils.attention.backends import (
    SDPA_BACKENDS,
    attention_flops,
    available_backends,
    sdpa,
)
from course_utils.attention.functional import causal_mask, scaled_dot_product_attention


def _qkv(device="cpu", dtype=torch.float32, shape=(2, 3, 10, 16)):
    torch.manual_seed(0)
    return tuple(torch.randn(shape, device=device, dtype=dtype) for _ in range(3))


def test_backend_names():
    assert SDPA_BACKENDS == ("math", "flash", "efficient", "cudnn")


def test_math_runs_everywhere(device):
    assert "math" in available_backends(device)
    assert set(available_backends(device)) <= set(SDPA_BACKENDS)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_math_equals_the_functional_attention(device, causal, dtype):
    q, k, v = _qkv(device, dtype)
    mask = causal_mask(10, device=device) if causal else None
    expected, _ = scaled_dot_product_attention(q, k, v, mask)
    atol = 1e-10 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(sdpa(q, k, v, "math", causal), expected, rtol=0, atol=atol)


def test_every_available_cpu_backend_agrees_with_math():
    q, k, v = _qkv()
    expected = sdpa(q, k, v, "math")
    for name in available_backends("cpu"):
        torch.testing.assert_close(sdpa(q, k, v, name), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("causal", [False, True])
def test_every_available_cuda_backend_agrees_with_math(causal):
    q, k, v = _qkv("cuda", torch.float16, shape=(2, 4, 128, 64))
    expected = sdpa(q.float(), k.float(), v.float(), "math", causal)
    names = available_backends("cuda", torch.float16)
    assert "math" in names
    for name in names:
        got = sdpa(q, k, v, name, causal)
        assert got.dtype == torch.float16
        torch.testing.assert_close(got.float(), expected, rtol=1e-2, atol=2e-3)


def test_attention_flops_by_hand():
    # Scores: 3 * 5 dot products of length 4 = 60 multiply-adds = 120 FLOPs; the same again
    # for weights @ values: 240 per head, times 2 heads, times batch 2.
    assert attention_flops(batch=2, heads=2, queries=3, keys=5, head_dim=4) == 960.0
    assert attention_flops(2, 2, 3, 5, 4, causal=True) == 480.0
    assert attention_flops(1, 8, 1000, 1000, 64) == 4 * 8 * 1000 * 1000 * 64


# Errors --------------------------------------------------------------------------------------


def test_unknown_backend_lists_the_names():
    q, k, v = _qkv()
    with pytest.raises(ValueError, match=r"one of \('math', 'flash', 'efficient', 'cudnn'\)"):
        sdpa(q, k, v, "fast")


def test_a_backend_that_cannot_run_says_which_and_where():
    q, k, v = _qkv()
    missing = [name for name in SDPA_BACKENDS if name not in available_backends("cpu")]
    if not missing:
        pytest.skip("every backend runs on this CPU")
    with pytest.raises(
        RuntimeError, match=rf"'{missing[0]}' .* on cpu in torch.float32.*available_backends"
    ):
        sdpa(q, k, v, missing[0])


def test_flops_reject_negative_sizes():
    with pytest.raises(ValueError, match="keys must be an int >= 0"):
        attention_flops(1, 1, 4, -1, 8)
