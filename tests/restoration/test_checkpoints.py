"""The generators shipped in course_utils/restoration/checkpoints: small, safe, as promised.

Their scores are recomputed on the CI profile's test pairs (voices never heard in training,
the same damage as the lesson's) against the CI profile's bounds, which sit below the full
profile's figures (the lesson and the benchmark measure those on 40 utterances).
"""

import pytest
import torch

from course_utils import get_profile, restoration
from course_utils.restoration import (
    VARIANTS,
    Degradation,
    Restorer,
    checkpoint_path,
    load_restorer,
    restore_all,
    score_pairs,
    wiener_filter,
)
from course_utils.restoration.recipe import CHECKPOINT_DIR
from course_utils.tts.recipe import checkpoint_path as synthesizer_path

CI = get_profile("ci")
BOUNDS = CI.restoration
MAX_BYTES = 10 * 2**20  # the limit per checkpoint


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_shipped_generator_is_small_and_loads(variant):
    path = checkpoint_path(variant)
    assert path.parent == CHECKPOINT_DIR and path.is_file(), f"missing {path}"
    assert path.stat().st_size < MAX_BYTES
    torch.load(path, map_location="cpu", weights_only=True)  # no pickled code
    model, metadata = load_restorer(variant)
    assert isinstance(model, Restorer) and not model.training
    recipe = metadata["recipe"]
    for field, value in VARIANTS[variant].items():
        assert recipe[field] == value, f"{variant}: recipe {field} is {recipe[field]}"
    assert model.config.bottleneck == recipe["bottleneck"]
    history = metadata["history"]
    assert history["seconds"] > 0
    assert history["steps"][-1] == recipe["reconstruction_steps"] + recipe["adversarial_steps"]


def test_other_files_are_refused_clearly():
    with pytest.raises(ValueError, match="another model"):
        load_restorer(path=synthesizer_path("location"))


@pytest.fixture(scope="module")
def speech():
    return restoration.test_speech(CI)


def test_shipped_denoiser_beats_the_noisy_input_and_the_wiener_filter(speech):
    pairs = restoration.test_pairs(speech, Degradation("denoise"), BOUNDS.eval_clips)
    noisy = [p[0] for p in pairs]
    measures = ("si_sdr", "pesq")
    before = score_pairs(pairs, noisy, measures)
    wiener = score_pairs(pairs, [wiener_filter(x) for x in noisy], ("si_sdr",))
    after = score_pairs(pairs, restore_all(load_restorer("denoiser")[0], noisy), measures)
    assert after["si_sdr"] - before["si_sdr"] >= BOUNDS.min_si_sdr_gain_db
    assert after["pesq"] - before["pesq"] >= BOUNDS.min_pesq_gain
    assert after["si_sdr"] - wiener["si_sdr"] >= BOUNDS.min_margin_over_wiener_db
    untrained = score_pairs(pairs, restore_all(Restorer(), noisy), ("si_sdr",))
    assert untrained["si_sdr"] - before["si_sdr"] < BOUNDS.min_si_sdr_gain_db  # the bound bites


def test_shipped_extender_fills_the_high_band(speech):
    pairs = restoration.test_pairs(speech, Degradation("bandwidth"), BOUNDS.eval_clips)
    narrow = [p[0] for p in pairs]
    measures = ("stoi", "lsd_high")
    sinc = score_pairs(pairs, narrow, measures)
    gan = score_pairs(pairs, restore_all(load_restorer("bandwidth")[0], narrow), measures)
    l1 = score_pairs(pairs, restore_all(load_restorer("bandwidth_l1")[0], narrow), measures)
    assert gan["lsd_high"] <= BOUNDS.max_lsd_ratio * sinc["lsd_high"]
    assert gan["lsd_high"] < l1["lsd_high"]
    assert gan["stoi"] >= l1["stoi"] - 0.01
