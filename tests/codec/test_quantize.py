"""course_utils.codec.quantize: nearest codes, k-means, EMA updates, restarts, residual VQ."""

import math

import pytest
import torch

from course_utils.codec.quantize import (
    ResidualVQ,
    VectorQuantizer,
    codebook_usage,
    kmeans,
    nearest_code,
)


def test_nearest_code_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    x, codebook = torch.randn(200, 8, generator=g), torch.randn(50, 8, generator=g)
    brute = torch.stack([((codebook - row) ** 2).sum(1).argmin() for row in x])
    assert torch.equal(nearest_code(x, codebook), brute)


def test_kmeans_finds_well_separated_clusters():
    g = torch.Generator().manual_seed(1)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = torch.cat([c + 0.1 * torch.randn(100, 2, generator=g) for c in centres])
    found, counts = kmeans(x, 3, iterations=20, generator=torch.Generator().manual_seed(5))
    nearest = nearest_code(centres, found)
    assert sorted(nearest.tolist()) == [0, 1, 2]  # one centroid per cluster
    assert torch.allclose(found[nearest], centres, atol=0.05)
    assert counts.sum() == 300


def test_codebook_usage_counts_codes_and_perplexity():
    usage = codebook_usage(torch.tensor([[0, 0], [1, 1]]), 4)
    assert usage == {"used": 0.5, "perplexity": 2.0}
    assert codebook_usage(torch.arange(16), 16)["perplexity"] == pytest.approx(16.0)


def test_straight_through_gradient_is_the_identity():
    vq = VectorQuantizer(4, 16).eval()
    x = torch.randn(10, 4, requires_grad=True)
    quantized, codes, _ = vq(x)
    assert torch.allclose(quantized, vq.codebook[codes])  # forward: the codes' vectors
    weights = torch.randn(10, 4)
    (quantized * weights).sum().backward()
    assert torch.equal(x.grad, weights)  # backward: as if quantisation were not there


def test_commitment_loss_is_the_distance_to_the_codes_and_moves_only_the_input():
    vq = VectorQuantizer(2, 4).eval()
    x = torch.randn(6, 2, requires_grad=True)
    _, codes, commitment = vq(x)
    expected = ((x - vq.codebook[codes]) ** 2).mean()
    assert torch.allclose(commitment, expected)
    commitment.backward()
    assert torch.allclose(x.grad, 2 * (x - vq.codebook[codes]).detach() / x.numel())


def test_ema_update_by_hand():
    vq = VectorQuantizer(2, 3, decay=0.9, dead_ratio=0.0, eps=0.0)
    vq.codebook.copy_(torch.tensor([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]))
    vq.cluster_size.fill_(1.0)
    vq.embed_sum.copy_(vq.codebook)
    vq.initialized.fill_(True)
    x = torch.tensor([[0.2, 0.0], [0.0, 0.4], [1.2, 1.0]])  # codes 0, 0, 1; code 2 unused
    vq.train()(x)
    # N = 0.9 * 1 + 0.1 * n: code 0 saw 2 vectors, code 1 one, code 2 none
    assert torch.allclose(vq.cluster_size, torch.tensor([1.1, 1.0, 0.9]))
    # S = 0.9 * S + 0.1 * (sum of its vectors)
    s0 = 0.1 * torch.tensor([0.2, 0.4])
    s1 = 0.9 * torch.tensor([1.0, 1.0]) + 0.1 * torch.tensor([1.2, 1.0])
    assert torch.allclose(vq.embed_sum[0], s0) and torch.allclose(vq.embed_sum[1], s1)
    assert torch.allclose(vq.codebook[0], s0 / 1.1) and torch.allclose(vq.codebook[1], s1 / 1.0)
    assert torch.allclose(vq.codebook[2], torch.tensor([5.0, 5.0]))


def test_data_initialisation_runs_kmeans_on_the_first_batch():
    torch.manual_seed(0)
    vq = VectorQuantizer(2, 8, kmeans_iterations=10).train()
    x = torch.randn(400, 2) * 5 + 20  # far from the random codebook around 0
    before = float((x - vq.codebook[nearest_code(x, vq.codebook)]).pow(2).mean())
    assert not vq.initialized
    vq(x)
    assert vq.initialized
    codes = nearest_code(x, vq.codebook)
    after = float((x - vq.codebook[codes]).pow(2).mean())
    assert after < 0.05 * before  # the codes moved onto the data
    assert codebook_usage(codes, 8)["used"] == 1.0


def test_dead_codes_restart_on_the_data():
    vq = VectorQuantizer(2, 8, dead_ratio=0.5).train()
    vq.initialized.fill_(True)
    vq.codebook.copy_(torch.full((8, 2), 100.0))  # far from all data: only one gets chosen
    vq.codebook[0] = 0.0
    vq.cluster_size.copy_(torch.tensor([8.0] + [1e-3] * 7))
    vq.embed_sum.copy_(vq.codebook * vq.cluster_size[:, None])
    x = torch.randn(64, 2)
    vq(x)
    moved = vq.codebook[1:]
    assert (moved.abs() < 10).all()  # all seven dead codes now sit on data points
    assert all((x == row).all(dim=1).any() for row in moved)


def test_residual_vq_stages_refine_and_codes_decode():
    torch.manual_seed(0)
    rvq = ResidualVQ(4, 8, 32)
    x = torch.randn(2, 50, 8)
    rvq.train()
    for _ in range(20):
        rvq(x)
    rvq.eval()
    errors = []
    for n_q in range(1, 5):
        quantized, codes, _ = rvq(x, n_q)
        assert codes.shape == (2, n_q, 50) and codes.dtype == torch.int64
        assert torch.allclose(rvq.decode(codes), quantized, atol=1e-6)
        errors.append(float((x - quantized).pow(2).mean()))
    assert errors == sorted(errors, reverse=True) and errors[-1] < 0.5 * errors[0]


def test_residual_vq_refuses_impossible_stage_counts():
    rvq = ResidualVQ(3, 4, 8)
    with pytest.raises(ValueError, match="between 1 and 3"):
        rvq(torch.randn(1, 5, 4), n_q=4)
    with pytest.raises(ValueError, match="at least one"):
        ResidualVQ(0, 4, 8)


def test_bits_per_vector():
    assert VectorQuantizer(4, 1024).bits == 10
    assert math.isclose(VectorQuantizer(4, 3).bits, 1.585, abs_tol=1e-3)


def test_set_codebook_starts_the_ema_from_a_given_codebook():
    vq = VectorQuantizer(2, 3, decay=0.5, dead_ratio=0.0, eps=0.0)
    vq.set_codebook(torch.tensor([[0.0, 0.0], [4.0, 4.0], [9.0, 9.0]]), count=2.0)
    assert vq.initialized and torch.equal(vq.cluster_size, torch.full((3,), 2.0))
    vq.train()(torch.tensor([[1.0, 1.0]]))  # one vector, nearest to code 0
    # N_0 = 0.5 * 2 + 0.5 * 1 = 1.5; S_0 = 0.5 * 0 + 0.5 * (1, 1): code 0 -> (1/3, 1/3)
    assert torch.allclose(vq.codebook[0], torch.tensor([1 / 3, 1 / 3]))
    assert torch.allclose(vq.codebook[1:], torch.tensor([[4.0, 4.0], [9.0, 9.0]]))  # unused: kept
