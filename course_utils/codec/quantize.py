"""Vector quantisation (VQ) and residual vector quantisation (RVQ), as in SoundStream and EnCodec.

A codebook is K vectors of D numbers; quantising a latent frame means replacing it by its
nearest codebook vector and sending only that vector's index: log2(K) bits. Residual VQ
quantises what the first codebook missed with a second codebook, and so on: N codebooks of
K codes send N * log2(K) bits per frame, and the first n stages alone already give a coarser
version (what quantiser dropout trains for).

The tricks that make codebooks work (van den Oord et al. 2017; Razavi et al. 2019;
Zeghidour et al. 2021):
- data initialisation: the codebook starts as k-means centroids of the first batch;
- EMA updates: each code moves to the running mean of the vectors assigned to it
  (no gradient for the codebook itself);
- dead-code restarts: a code that no vector chose for a long while is moved onto a
  random vector of the current batch, so all K codes stay in use;
- the commitment loss pulls the encoder's output towards its codes;
- straight-through gradients: the decoder's gradient passes through the rounding
  unchanged, ``x + (q - x).detach()``.

Shapes: N vectors, D dimensions, K codes, B batch, T frames, Q stages.

Notebook: 10_neural_audio_compression.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "ResidualVQ",
    "VectorQuantizer",
    "codebook_usage",
    "kmeans",
    "nearest_code",
]


def nearest_code(x: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """Index of the nearest codebook vector (squared Euclidean distance) for each row.

    Shapes: x (N, D), codebook (K, D) -> codes (N,) int64.

    Example:
        >>> nearest_code(torch.tensor([[0.9, 0.1], [-2.0, 0.0]]), torch.eye(2))
        tensor([0, 1])
    """
    # |x - c|^2 = |x|^2 - 2 x.c + |c|^2; |x|^2 is the same for every code of a row.
    distances = -2 * x @ codebook.T + codebook.pow(2).sum(1)
    return distances.argmin(dim=1)


def kmeans(x: torch.Tensor, k: int, iterations: int = 10, generator=None):
    """Plain k-means (Lloyd's algorithm) from `k` distinct random rows of `x`.

    Shapes: x (N, D) -> centroids (k, D), counts (k,). With fewer rows than `k` some
    centroids start on the same row; a centroid that loses all its rows stays where it is
    (training then restarts it as a dead code).
    """
    if len(x) >= k:
        pick = torch.randperm(len(x), generator=generator, device=x.device)[:k]
    else:
        pick = torch.randint(len(x), (k,), generator=generator, device=x.device)
    centroids = x[pick].clone()
    for _ in range(iterations):
        codes = nearest_code(x, centroids)
        counts = torch.bincount(codes, minlength=k).to(x.dtype)
        sums = torch.zeros_like(centroids).index_add_(0, codes, x)
        used = counts > 0
        centroids[used] = sums[used] / counts[used, None]
    return centroids, counts


def codebook_usage(codes: torch.Tensor, codebook_size: int) -> dict[str, float]:
    """How many of the K codes a set of codes uses, and its perplexity.

    Perplexity is 2 to the entropy (in bits) of the codes' histogram: K when every code is
    equally frequent, 1 when one code is always chosen.

    Shapes: codes (any shape) of ints in [0, codebook_size).

    Example:
        >>> codebook_usage(torch.tensor([0, 1, 2, 3]), 8)
        {'used': 0.5, 'perplexity': 4.0}
    """
    counts = torch.bincount(codes.flatten().long(), minlength=codebook_size).double()
    p = counts / counts.sum()
    entropy = -(p[p > 0] * p[p > 0].log2()).sum()
    return {
        "used": float((counts > 0).double().mean()),
        "perplexity": round(float(2**entropy), 6),
    }


class VectorQuantizer(nn.Module):
    """One codebook with EMA updates, data initialisation and dead-code restarts.

    Args:
        dim: D, the size of a latent vector.
        codebook_size: K codes (log2(K) bits per vector).
        decay: EMA decay of the codes' counts and sums (0.99: about 100 batches of memory).
        dead_ratio: a code is dead (restarted) when its EMA count falls below this share of
            the count an evenly used code would have.
        kmeans_iterations: Lloyd iterations of the data initialisation (0: random rows).

    Shapes: forward x (..., D) -> quantized (..., D) with straight-through gradients,
    codes (...) int64, commitment loss (scalar).
    """

    def __init__(
        self,
        dim: int,
        codebook_size: int,
        decay: float = 0.99,
        dead_ratio: float = 0.25,
        kmeans_iterations: int = 10,
        eps: float = 1e-5,
    ):
        super().__init__()
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay must be in (0, 1), got {decay}")
        self.dim, self.codebook_size = dim, codebook_size
        self.decay, self.dead_ratio, self.eps = decay, dead_ratio, eps
        self.kmeans_iterations = kmeans_iterations
        self.register_buffer("codebook", torch.randn(codebook_size, dim))
        self.register_buffer("cluster_size", torch.ones(codebook_size))
        # embed_sum = codebook x cluster_size is training state only: not saved, rebuilt on load.
        self.register_buffer("embed_sum", self.codebook.clone(), persistent=False)
        self.register_buffer("initialized", torch.tensor(False))
        self.register_load_state_dict_post_hook(_rebuild_embed_sum)

    @property
    def bits(self) -> float:
        """Bits per quantised vector: log2(K)."""
        return math.log2(self.codebook_size)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        codes = self.assign(x)
        quantized = self.decode(codes)
        commitment = F.mse_loss(x, quantized.detach())
        return x + (quantized - x).detach(), codes, commitment  # straight-through

    @torch.no_grad()
    def assign(self, x: torch.Tensor) -> torch.Tensor:
        """The nearest code of each vector of `x` (..., D) -> codes (...); in training mode,
        the codebook is first initialised (once) and then updated from these vectors."""
        flat = x.detach().reshape(-1, self.dim)
        if self.training and not bool(self.initialized):
            self.initialize(flat)
        codes = nearest_code(flat, self.codebook)
        if self.training:
            self.ema_update(flat, codes)
        return codes.reshape(x.shape[:-1])

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes (...) -> their vectors (..., D)."""
        return self.codebook[codes]

    @torch.no_grad()
    def set_codebook(self, codebook: torch.Tensor, count: float = 1.0) -> None:
        """Start from `codebook` (K, D) instead of k-means, each code with EMA count `count`."""
        self.codebook.copy_(codebook)
        self.cluster_size.fill_(count)
        self.embed_sum.copy_(codebook * count)
        self.initialized.fill_(True)

    @torch.no_grad()
    def initialize(self, flat: torch.Tensor) -> None:
        """Data initialisation: the codebook becomes k-means centroids of `flat` (N, D)."""
        centroids, counts = kmeans(flat, self.codebook_size, self.kmeans_iterations)
        self.codebook.copy_(centroids)
        self.cluster_size.copy_(counts.clamp(min=1.0))
        self.embed_sum.copy_(centroids * self.cluster_size[:, None])
        self.initialized.fill_(True)

    @torch.no_grad()
    def ema_update(self, flat: torch.Tensor, codes: torch.Tensor) -> None:
        """Move each code to the running mean of its vectors, then restart dead codes.

        With counts n_k and sums s_k of this batch: N_k <- d N_k + (1 - d) n_k,
        S_k <- d S_k + (1 - d) s_k, code_k = S_k / N_k (N_k smoothed so it is never 0).
        """
        counts = torch.bincount(codes, minlength=self.codebook_size).to(flat.dtype)
        sums = torch.zeros_like(self.embed_sum).index_add_(0, codes, flat)
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.embed_sum.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        total = self.cluster_size.sum()
        smoothed = (self.cluster_size + self.eps) / (total + self.codebook_size * self.eps)
        self.codebook.copy_(self.embed_sum / (smoothed * total)[:, None])
        self.restart_dead_codes(flat, expected=len(flat) / self.codebook_size)

    @torch.no_grad()
    def restart_dead_codes(self, flat: torch.Tensor, expected: float) -> int:
        """Move every code whose EMA count is below ``dead_ratio * expected`` onto a random
        row of `flat` (N, D); returns how many were restarted."""
        dead = self.cluster_size < self.dead_ratio * expected
        n_dead = int(dead.sum())
        if n_dead:
            rows = flat[torch.randint(len(flat), (n_dead,), device=flat.device)]
            self.codebook[dead] = rows
            self.cluster_size[dead] = expected
            self.embed_sum[dead] = rows * expected
        return n_dead


def _rebuild_embed_sum(module: VectorQuantizer, incompatible_keys) -> None:
    with torch.no_grad():
        module.embed_sum.copy_(module.codebook * module.cluster_size[:, None])


class ResidualVQ(nn.Module):
    """Q codebooks in a chain: stage q quantises what stages 1..q-1 left over.

    The straight-through gradient and the commitment loss apply to the sum of the stages:
    the encoder is pulled towards the whole quantised vector, not stage by stage.

    Shapes: forward x (B, T, D), n_q stages (default all) -> quantized (B, T, D),
    codes (B, n_q, T), commitment loss (scalar).
    """

    def __init__(self, n_q: int, dim: int, codebook_size: int, **vq_options):
        super().__init__()
        if n_q < 1:
            raise ValueError(f"need at least one quantiser stage, got n_q={n_q}")
        self.stages = nn.ModuleList(
            VectorQuantizer(dim, codebook_size, **vq_options) for _ in range(n_q)
        )

    @property
    def n_q(self) -> int:
        return len(self.stages)

    def forward(self, x: torch.Tensor, n_q: int | None = None):
        n_q = self._check_n_q(n_q)
        residual, quantized = x.detach(), torch.zeros_like(x)
        codes = []
        for stage in self.stages[:n_q]:
            c = stage.assign(residual)
            q = stage.decode(c)
            quantized, residual = quantized + q, residual - q
            codes.append(c)
        commitment = F.mse_loss(x, quantized)  # quantized carries no gradient
        return x + (quantized - x).detach(), torch.stack(codes, dim=1), commitment

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes (B, n_q, T) -> the sum of their vectors (B, T, D)."""
        self._check_n_q(codes.shape[1])
        stages = self.stages[: codes.shape[1]]
        return sum(stage.decode(codes[:, i]) for i, stage in enumerate(stages))

    def _check_n_q(self, n_q: int | None) -> int:
        n_q = self.n_q if n_q is None else int(n_q)
        if not 1 <= n_q <= self.n_q:
            raise ValueError(f"n_q must be between 1 and {self.n_q} stages, got {n_q}")
        return n_q
