"""Lesson 08's recipe in one epoch on a tiny model: it trains, scores and keeps its settings."""

import dataclasses
import math

import pytest
import torch

from course_utils.asr import ASRConfig, CharTokenizer, Recognizer
from course_utils.asr.recipe import (
    ASRHistory,
    ASRRecipe,
    FeatureSet,
    score,
    train_recognizer,
    transcribe,
)

TOKENIZER = CharTokenizer()
TEXTS = ["one two", "go", "stop now", "three", "yes", "no no", "up", "down left"]


def _data(n: int = 8, seed: int = 0) -> FeatureSet:
    g = torch.Generator().manual_seed(seed)
    features = [torch.randn(40, 30 + 9 * i, generator=g) for i in range(n)]  # (n_mels, frames)
    return FeatureSet.from_features(features, [TEXTS[i % len(TEXTS)] for i in range(n)], TOKENIZER)


def test_recipe_is_frozen_and_complete():
    recipe = ASRRecipe()
    with pytest.raises(dataclasses.FrozenInstanceError):
        recipe.epochs = 3
    stored = dataclasses.asdict(recipe)  # what build_checkpoints writes
    assert set(stored) == {f.name for f in dataclasses.fields(ASRRecipe)}
    assert stored["spec_augment"]["freq_masks"] == 2


@pytest.mark.parametrize("ctc_weight", [0.3, 1.0])
def test_one_epoch_trains_and_transcribes(ctc_weight):
    torch.manual_seed(0)
    model = Recognizer(ASRConfig.preset("tiny", ctc_weight=ctc_weight))
    train, validation = _data(8), _data(4, seed=1)
    recipe = ASRRecipe(epochs=1, batch_size=4, validation_utterances=None)
    history = train_recognizer(model, train, validation, recipe, "cpu", progress=False, watch=0)
    assert isinstance(history, ASRHistory) and len(history.epochs) == 1
    assert len(history.train_losses) == train.num_batches(4) == 2
    assert all(math.isfinite(loss) for loss in history.train_losses + history.ctc_losses)
    assert 0.0 <= history.epochs[0]["cer"]
    if ctc_weight < 1:
        assert len(history.attention_losses) == 2 and history.alignments[0].ndim == 2
    decoders = ("ctc",) if ctc_weight == 1 else ("ctc", "attention", "beam")
    for decoder in decoders:
        texts = transcribe(model, validation, decoder, "cpu")
        assert len(texts) == len(validation) and all(isinstance(t, str) for t in texts)
    assert set(score(model, validation, "ctc", "cpu")) == {"cer", "wer"}


def test_num_batches_counts_without_padding():
    data = _data(7)
    assert data.num_batches(3) == len(data.batches(3)) == 3
    assert data.num_batches(7) == 1 and data.num_batches(100) == 1


def test_train_recognizer_checks_its_data_once():
    model = Recognizer(ASRConfig.preset("tiny"))
    broken = _data(4)
    broken.features[2][0, 5] = float("nan")
    with pytest.raises(ValueError, match="utterance 2.*NaN or inf"):
        train_recognizer(model, broken, _data(2), ASRRecipe(epochs=1), "cpu", progress=False)


def test_beam_search_reports_progress_by_quarters(capsys):
    torch.manual_seed(0)
    model = Recognizer(ASRConfig.preset("tiny")).eval()
    data = _data(8)
    quiet = transcribe(model, data, "beam", "cpu", beam_size=2)
    assert capsys.readouterr().out == ""  # silent unless asked
    texts = transcribe(model, data, "beam", "cpu", beam_size=2, progress=True)
    lines = capsys.readouterr().out.splitlines()
    assert texts == quiet
    assert [line.split(",")[0].strip() for line in lines] == [
        f"beam search: {n}/8 utterances" for n in (2, 4, 6, 8)
    ]


def test_training_configs_add_isolated_digits_through_recording_devices():
    from course_utils import get_profile
    from course_utils.asr import asr_corpus_configs, isolated_words_config, training_configs
    from course_utils.augment import AugmentConfig
    from course_utils.data import build_corpus

    profile = get_profile("ci")
    configs = training_configs(profile)
    assert configs[:2] == asr_corpus_configs(profile)  # the test sets are unchanged
    isolated = isolated_words_config(profile)
    assert configs[2] == isolated
    assert isolated.task == "digits" and isolated.digits_per_string == (1, 2)
    assert isolated.augment == AugmentConfig.recorded()
    assert isolated.utterances[0] == profile.sentences_per_split // 2
    small = dataclasses.replace(isolated, utterances=(0, 0, 12))
    texts = [item["text"] for item in build_corpus(small, progress=False)["test"].items]
    assert {len(text.split()) for text in texts} <= {1, 2} and len(texts) == 12
