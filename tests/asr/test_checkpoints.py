"""The recognisers shipped in course_utils/asr/checkpoints: small, safe to load, as promised.

The score test regenerates the full profile's test split alone (the same utterances, byte for
byte, as the full corpus holds: every split draws from its own seeds) and decodes it.
"""

from dataclasses import replace

import pytest
import torch

from course_utils import get_profile
from course_utils.asr import ASRConfig, CharTokenizer, Recognizer
from course_utils.asr.recipe import (
    CHECKPOINT_DIR,
    FeatureSet,
    asr_corpus_configs,
    build_checkpoints,
    checkpoint_path,
    load_recognizer,
    recognize,
    score,
)
from course_utils.data import build_corpus

FULL = get_profile("full")
MAX_BYTES = 10 * 2**20  # the limit per checkpoint


@pytest.mark.parametrize("attention", ["location", "content"])
def test_shipped_checkpoint_is_small_and_loads(attention):
    path = checkpoint_path(attention)
    assert path.parent == CHECKPOINT_DIR and path.is_file(), f"missing {path}"
    assert path.stat().st_size < MAX_BYTES
    torch.load(path, map_location="cpu", weights_only=True)  # no pickled code
    model, metadata = load_recognizer(attention=attention)
    assert isinstance(model, Recognizer) and not model.training
    assert model.config.attention == attention and model.config.ctc_weight == 0.3
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert metadata["train_seconds"] > 0 and metadata["test"]["attention"]["cer"] < 0.1


@pytest.fixture(scope="module")
def full_test_split():
    configs = [replace(config, utterances=(0, 0, config.utterances[2]))
               for config in asr_corpus_configs(FULL)]  # fmt: skip
    corpora = [build_corpus(config, progress=False) for config in configs]
    return FeatureSet([corpus["test"] for corpus in corpora], CharTokenizer())


@pytest.mark.slow
def test_shipped_recognizer_reaches_the_targets_on_the_test_split(full_test_split):
    model, metadata = load_recognizer(attention="location")
    assert len(full_test_split) == 1000
    scores = score(model, full_test_split, "attention", "cpu")
    assert scores["cer"] <= FULL.asr_max_cer and scores["wer"] <= FULL.asr_max_wer, scores
    # The figures saved at build time are the ones a learner sees (up to float16 rounding).
    assert scores["cer"] == pytest.approx(metadata["test"]["attention"]["cer"], abs=0.003)


def test_load_recognizer_explains_missing_and_corrupt_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m course_utils.asr.recipe"):
        load_recognizer(tmp_path / "nothing.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="corrupt"):
        load_recognizer(corrupt)


def test_build_checkpoints_never_overwrites_silently(tmp_path):
    existing = tmp_path / checkpoint_path("location").name
    existing.write_bytes(b"a learner's own checkpoint")
    with pytest.raises(FileExistsError, match="overwrite"):
        build_checkpoints(("location",), folder=tmp_path)
    assert existing.read_bytes() == b"a learner's own checkpoint"


def test_recognize_resamples_and_rejects_bad_audio():
    torch.manual_seed(0)
    model = Recognizer(ASRConfig.tiny()).eval()
    waveform = 0.1 * torch.randn(8000)
    text = recognize(model, waveform, 8000, decoder="ctc")
    assert isinstance(text, str)
    with pytest.raises(ValueError, match="sample"):
        recognize(model, waveform, 0)
    with pytest.raises(ValueError):
        recognize(model, torch.zeros(0), 16000)
    with pytest.raises(ValueError):
        recognize(model, torch.full((16000,), float("nan")), 16000)
