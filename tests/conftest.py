"""Shared fixtures: every device test runs on the CPU, and on CUDA when a GPU is present."""

import pytest
import torch


@pytest.fixture(
    params=[
        "cpu",
        pytest.param(
            "cuda",
            marks=[
                pytest.mark.cuda,
                pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
            ],
        ),
    ]
)
def device(request) -> str:
    """The device to run on: "cpu", then "cuda" (skipped without a GPU)."""
    return request.param
