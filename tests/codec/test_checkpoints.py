"""The codecs shipped in course_utils/codec/checkpoints: small, safe to load, as promised.

Their scores are recomputed from the models on the test clips (voices never heard in
training) against the full profile's bounds, and an untrained codec fails the same bounds.
"""

import numpy as np
import pytest
import torch

from course_utils import get_profile
from course_utils.audio.quality import stoi
from course_utils.codec import (
    CHECKPOINT_DIR,
    Codec,
    codebook_use,
    codec_roundtrip,
    load_codec,
    load_codec_speech,
    stages_for,
    test_clips,
)
from course_utils.codec.recipe import checkpoint_path
from course_utils.tts.recipe import checkpoint_path as synthesizer_path

FULL = get_profile("full")
MAX_BYTES = 10 * 2**20  # the limit per checkpoint


@pytest.mark.parametrize("variant", ["attention", "conv"])
def test_shipped_checkpoint_is_small_and_loads(variant):
    path = checkpoint_path(variant)
    assert path.parent == CHECKPOINT_DIR and path.is_file(), f"missing {path}"
    assert path.stat().st_size < MAX_BYTES
    torch.load(path, map_location="cpu", weights_only=True)  # no pickled code
    model, metadata = load_codec(variant=variant)
    assert isinstance(model, Codec) and not model.training
    assert (model.config.transformer_layers > 0) == (variant == "attention")
    assert metadata["recipe"]["transformer_layers"] == model.config.transformer_layers
    assert metadata["train_seconds"] > 0
    assert len(metadata["validation"]) == metadata["recipe"]["epochs"]


def test_other_files_are_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match="another model"):
        load_codec(synthesizer_path("location"))
    with pytest.raises(ValueError, match="variant must be one of"):
        load_codec(variant="lstm")


@pytest.fixture(scope="module")
def clips():
    return test_clips(FULL)


def _mean_stoi(model, clips, kbps):
    decoded = codec_roundtrip(model, clips.waves, stages_for(model, kbps))
    pairs = zip(clips.waves, decoded, strict=True)
    return float(np.mean([stoi(a, b, clips.sample_rate) for a, b in pairs]))


def test_shipped_codec_reaches_the_lessons_bounds(clips):
    model, _ = load_codec()
    assert _mean_stoi(model, clips, 6.0) >= FULL.codec.min_stoi_6kbps
    assert _mean_stoi(model, clips, 1.5) >= FULL.codec.min_stoi_1_5kbps


def test_shipped_codec_uses_its_codebooks():
    ci = get_profile("ci")  # 100 test utterances (the full profile's 1,000: make bench)
    model, _ = load_codec()
    least_used = min(u["used"] for u in codebook_use(model, load_codec_speech(ci, "test").waves))
    assert least_used >= ci.codec.min_codebook_use


def test_an_untrained_codec_fails_the_same_bound(clips):
    torch.manual_seed(0)
    model, _ = load_codec()
    untrained = Codec(model.config).eval()
    untrained.train()(torch.randn(4, 1, 16000) * 0.1)  # k-means start, nothing learned
    untrained.eval()
    assert _mean_stoi(untrained, clips, 6.0) < FULL.codec.min_stoi_6kbps
