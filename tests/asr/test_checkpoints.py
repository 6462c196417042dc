"""The recognisers shipped in course_utils/asr/checkpoints: small, safe to load, as promised.

The scores are recomputed from the models: on a few fresh utterances of unseen test voices
(seconds), and, marked slow, on the full profile's test split regenerated alone (the same
utterances, byte for byte, as the full corpus holds: every split draws from its own seeds).
"""

from dataclasses import replace

import pytest
import torch
import torchaudio.functional as AF

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
from course_utils.metrics import error_rate, sampling_margin

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
    assert metadata["train_seconds"] > 0 and metadata["config"] == model.config.to_dict()


@pytest.fixture
def one_thread():
    """Greedy decoding runs small steps: one thread is faster, and steady on a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def unseen_voices():
    """A few utterances of the test voices (digit strings and sentences), made afresh."""
    configs = [replace(config, utterances=(0, 0, 10)) for config in asr_corpus_configs(FULL)]
    return [build_corpus(config, use_cache=False, progress=False)["test"] for config in configs]


def test_shipped_recognizer_scores_what_its_metadata_says(unseen_voices, one_thread):
    """The score is recomputed from the model on data: a CER no worse than the one stored at
    build time (on 1,000 utterances), give or take the sample, and within the lesson's target."""
    model, metadata = load_recognizer(attention="location")
    data = FeatureSet(unseen_voices, CharTokenizer())
    cer = score(model, data, "attention", "cpu")["cer"]
    stored = metadata["test"]["attention"]["cer"]
    margin = sampling_margin(1 - cer, 1 - stored, sum(len(text) for text in data.texts))
    assert cer <= stored + margin, (cer, stored, margin)
    assert cer <= FULL.asr.max_cer + margin, (cer, margin)


@pytest.fixture(scope="module")
def full_test_split():
    configs = [replace(config, utterances=(0, 0, config.utterances[2]))
               for config in asr_corpus_configs(FULL)]  # fmt: skip
    corpora = [build_corpus(config, progress=False) for config in configs]
    return FeatureSet([corpus["test"] for corpus in corpora], CharTokenizer())


@pytest.mark.slow
def test_shipped_recognizer_reaches_the_targets_on_the_test_split(full_test_split, one_thread):
    model, metadata = load_recognizer(attention="location")
    assert len(full_test_split) == 1000
    scores = score(model, full_test_split, "attention", "cpu")
    assert scores["cer"] <= FULL.asr.max_cer and scores["wer"] <= FULL.asr.max_wer, scores
    # The figures saved at build time are the ones a learner sees (up to float16 rounding).
    assert scores["cer"] == pytest.approx(metadata["test"]["attention"]["cer"], abs=0.003)


def test_load_recognizer_explains_missing_and_corrupt_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m course_utils.asr"):
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


def test_build_checkpoints_writes_to_the_data_folder_by_default(tmp_path, monkeypatch):
    """Not into the installed package: the shipped files change only when `folder` says so."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    existing = tmp_path / "checkpoints" / checkpoint_path("content").name
    existing.parent.mkdir()
    existing.write_bytes(b"a rebuilt checkpoint")
    with pytest.raises(FileExistsError, match=str(existing)):
        build_checkpoints(("content",))  # found the file where it would have written


def test_recognize_at_8_khz_equals_resampling_by_hand(unseen_voices, device, one_thread):
    """8 kHz audio is resampled to 16 kHz inside: the same transcript as doing it by hand,
    a right one, and not the one of the same samples taken for 16 kHz (lesson 08's mistake).
    On CUDA the model and the audio are on the GPU (features are still made on the CPU)."""
    model, _ = load_recognizer(attention="location")
    model.to(device)
    split = unseen_voices[1]  # sentences
    said = split.items[0]["text"]
    telephone = AF.resample(torch.from_numpy(split.waveform(0)), 16000, 8000).to(device)
    heard = recognize(model, telephone, 8000)
    assert heard == recognize(model, AF.resample(telephone.cpu(), 8000, 16000), 16000)
    wrong = recognize(model, telephone, 16000)
    assert error_rate([said], [heard]) <= 0.2 < error_rate([said], [wrong]), (said, heard, wrong)


def test_recognize_rejects_bad_audio():
    torch.manual_seed(0)
    model = Recognizer(ASRConfig.preset("tiny")).eval()
    waveform = 0.1 * torch.randn(8000)
    with pytest.raises(ValueError, match="sample"):
        recognize(model, waveform, 0)
    with pytest.raises(ValueError):
        recognize(model, torch.zeros(0), 16000)
    with pytest.raises(ValueError):
        recognize(model, torch.full((16000,), float("nan")), 16000)


def test_shipped_recognizer_hears_a_single_digit_as_one_word(one_thread):
    """Trained on isolated digits too, it no longer inserts words into one (unseen voices)."""
    from course_utils.asr import isolated_words_config

    config = replace(isolated_words_config(FULL), utterances=(0, 0, 100))  # as lesson 08
    split = build_corpus(config, use_cache=False, progress=False)["test"]
    single = [k for k, item in enumerate(split.items) if len(item["text"].split()) == 1]
    model, _ = load_recognizer(attention="location")
    heard = [recognize(model, torch.from_numpy(split.waveform(k)), 16_000) for k in single]
    said = [split.items[k]["text"] for k in single]
    exact = sum(h == s for h, s in zip(heard, said, strict=True)) / len(single)
    assert len(single) >= 40 and exact >= 0.9, list(zip(said, heard, strict=True))
