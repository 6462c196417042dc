"""course_utils.tts.evaluation: which texts the recogniser judges, its CER, free-running scores."""

import pytest
import torch

from course_utils.asr import load_recognizer
from course_utils.tts import Tacotron, TTSConfig, judged, recognizer_cer, score_synthesizer
from course_utils.tts.data import TTSDataset, speak


def test_judged_keeps_digit_strings_and_command_sentences():
    texts = ["four one one", "turn on the kitchen lights", "yellow rocket stop",
             "move left five steps", "stop the", "one two banana"]  # fmt: skip
    assert judged(texts) == [0, 1, 3]


@pytest.fixture(scope="module")
def recognizer():
    return load_recognizer()[0]


def test_recognizer_cer_of_the_voice_itself_is_low_and_padding_matters(recognizer):
    texts = ["three eight one", "turn off the office radio"]
    voice = speak(texts)
    cer, heard = recognizer_cer(recognizer, texts, voice)
    assert cer <= 0.1 and len(heard) == 2
    unpadded, _ = recognizer_cer(recognizer, texts, voice, pad_seconds=0.0)
    assert unpadded >= cer


def test_recognizer_cer_refuses_mismatched_lists(recognizer):
    with pytest.raises(ValueError, match="one waveform per text"):
        recognizer_cer(recognizer, ["one", "two"], [torch.zeros(16000)])


def test_score_synthesizer_of_an_untrained_model_reports_every_measure(recognizer):
    data = TTSDataset(["two five", "yellow bed"], [torch.zeros(80, 20), torch.zeros(80, 30)])
    torch.manual_seed(0)
    model = Tacotron(TTSConfig.preset("tiny", max_decoder_steps=20))
    scores = score_synthesizer(model, data)
    assert scores["sentences"] == 2 and 0 < scores["focus"] <= 1 and "cer" not in scores
    with pytest.raises(ValueError, match="grammar"):
        score_synthesizer(model, TTSDataset(["yellow bed"], [torch.zeros(80, 20)]), recognizer)
