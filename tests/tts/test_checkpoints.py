"""The synthesisers shipped in course_utils/tts/checkpoints: small, safe to load, as promised.

Their scores are recomputed from the models on the test sentences (never seen in training):
free-running alignments, and lesson 08's recogniser transcribing what they say.
"""

import pytest
import torch

from course_utils import get_profile
from course_utils.asr import load_recognizer
from course_utils.asr.recipe import checkpoint_path as recognizer_path
from course_utils.tts import Tacotron, TTSConfig, build_tts_data, score_synthesizer
from course_utils.tts.recipe import CHECKPOINT_DIR, checkpoint_path, load_synthesizer

FULL = get_profile("full")
MAX_BYTES = 10 * 2**20  # the limit per checkpoint


@pytest.mark.parametrize("attention", ["location", "content"])
def test_shipped_checkpoint_is_small_and_loads(attention):
    path = checkpoint_path(attention)
    assert path.parent == CHECKPOINT_DIR and path.is_file(), f"missing {path}"
    assert path.stat().st_size < MAX_BYTES
    torch.load(path, map_location="cpu", weights_only=True)  # no pickled code
    model, metadata = load_synthesizer(attention=attention)
    assert isinstance(model, Tacotron) and not model.training
    assert model.config.attention_kind == attention
    assert metadata["config"] == model.config.to_dict() and metadata["train_seconds"] > 0
    assert metadata["recipe"]["guided_steps"] is not None


def test_a_checkpoint_of_another_model_is_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match="another model"):
        load_synthesizer(recognizer_path("location"))
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="corrupt"):
        load_synthesizer(broken)
    with pytest.raises(FileNotFoundError, match="python -m course_utils.tts"):
        load_synthesizer(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="attention must be one of"):
        load_synthesizer(attention="bahdanau")


@pytest.fixture(scope="module")
def test_sentences():
    return build_tts_data()["test"]


def test_shipped_synthesizer_reaches_the_lesson_targets(test_sentences):
    """Recomputed, not read from the metadata: focus, stop tokens and the recogniser's CER
    on the test sentences, within the full profile's bound (the lesson asserts the same)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small steps: one thread is faster and steady on a busy CPU
    try:
        model, metadata = load_synthesizer()
        scores = score_synthesizer(model, test_sentences, load_recognizer()[0])
    finally:
        torch.set_num_threads(threads)
    assert scores["stopped"] == 1.0 and scores["focus"] >= 0.7
    assert scores["cer_griffin_lim"] <= 0.05
    assert scores["cer"] <= FULL.tts.max_cer, scores
    assert scores["cer"] == pytest.approx(metadata["test"]["cer"], abs=0.05)


def test_untrained_weights_are_far_from_the_shipped_scores(test_sentences):
    """The targets above can fail: an untrained model of the same size does not meet them."""
    torch.manual_seed(0)
    model = Tacotron(TTSConfig.preset("fast", max_decoder_steps=60))
    few = type(test_sentences)(test_sentences.texts[:4], test_sentences.mels[:4])
    scores = score_synthesizer(model, few)
    assert scores["focus"] < 0.7 or scores["stopped"] < 1.0
