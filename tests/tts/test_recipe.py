"""Smoke test of course_utils.tts.recipe: a tiny synthesiser trains and is measured."""

import pytest
import torch

from course_utils.tts import Tacotron, TTSConfig
from course_utils.tts.data import TTSDataConfig, TTSDataset, build_tts_data
from course_utils.tts.recipe import TTSRecipe, train_synthesizer


@pytest.fixture(scope="module")
def data():
    config = TTSDataConfig(
        commands=0, digits=12, digits_per_string=(1, 2), phrases=0, validation=0.25, test=0.1
    )  # short texts: few decoder steps
    return build_tts_data(config, use_cache=False)


def test_a_tiny_synthesizer_learns_and_its_alignment_is_measured(data):
    torch.manual_seed(0)
    model = Tacotron(TTSConfig.preset("tiny", reduction_factor=3))
    recipe = TTSRecipe(epochs=4, batch_size=4, learning_rate=1e-2, warmup=0.1)
    history = train_synthesizer(model, data["train"], data["validation"], recipe, "cpu",
                                progress=False)  # fmt: skip
    steps = 4 * 2  # 8 training sentences in batches of 4, 4 epochs
    assert len(history.train_losses) == len(history.mel_losses) == steps
    assert sum(history.train_losses[-2:]) < sum(history.train_losses[:2])
    assert len(history.epochs) == len(history.alignments) == 4
    last = history.epochs[-1]
    assert 0 < last["focus"] <= 1 and 0 < last["diagonal"] <= 1 and last["step"] == steps
    chars = len(data["validation"].texts[0])
    assert history.alignments[0].shape[1] == chars
    assert not model.training


def test_empty_data_is_refused(data):
    empty = TTSDataset([], [])
    with pytest.raises(ValueError, match="empty"):
        train_synthesizer(Tacotron(TTSConfig.preset("tiny")), data["train"], empty,
                          TTSRecipe(epochs=1), "cpu", progress=False)  # fmt: skip


def test_the_guided_loss_stops_after_guided_steps(data):
    """Step 1 with and without the guided term: same weights, same batch, so the totals
    differ by exactly guided_weight x the guided loss; after `guided_steps` it is left out."""
    runs = {}
    for guided_steps in (None, 0, 1):
        torch.manual_seed(0)
        model = Tacotron(TTSConfig.preset("tiny", reduction_factor=3, guided_weight=2.0))
        recipe = TTSRecipe(epochs=1, batch_size=4, guided_steps=guided_steps)
        runs[guided_steps] = train_synthesizer(model, data["train"], data["validation"], recipe,
                                               "cpu", progress=False)  # fmt: skip
    with_term, without = runs[None].train_losses[0], runs[0].train_losses[0]
    assert with_term - without == pytest.approx(2.0 * runs[0].guided_losses[0], rel=1e-4)
    assert runs[1].train_losses[0] == pytest.approx(with_term)  # step 1 still guided
    assert runs[1].train_losses[1] < runs[None].train_losses[1]  # step 2 no longer
