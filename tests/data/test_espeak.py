"""Speech synthesis: deterministic, non-silent, every voice usable, clear errors."""

import numpy as np
import pytest

from course_utils.data import espeak
from course_utils.data.espeak import Voice, synthesize, synthesize_batch


def test_synthesis_is_non_silent_speech_of_plausible_length():
    wave = synthesize("seven", Voice("en-us", "m3"), sample_rate=16_000)
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert 0.2 < len(wave) / 16_000 < 1.5
    assert np.sqrt(np.mean(wave**2)) > 0.01
    assert np.abs(wave).max() <= 1.0


def test_synthesis_is_deterministic_byte_for_byte():
    voice = Voice("en-gb-x-rp", "f2", rate=150, pitch=60)
    first = synthesize("turn on the lights", voice)
    synthesize("something else in between", Voice("en-029", "m1"))
    second = synthesize("turn on the lights", voice)
    assert first.tobytes() == second.tobytes()


def test_batch_is_deterministic_and_matches_its_own_rerun():
    requests = [("one", Voice("en-us", "m1")), ("two", Voice("en", "f3")), ("left", Voice())]
    assert all(
        a.tobytes() == b.tobytes()
        for a, b in zip(
            synthesize_batch(requests, seed=3), synthesize_batch(requests, seed=3), strict=True
        )
    )


def test_accents_and_variants_change_the_sound():
    base = synthesize("water", Voice("en-us", "m3"))
    assert not np.array_equal(base, synthesize("water", Voice("en-gb-x-rp", "m3")))
    assert not np.array_equal(base, synthesize("water", Voice("en-us", "f2")))


def test_rate_changes_duration():
    slow = synthesize("one two three", Voice(rate=100))
    fast = synthesize("one two three", Voice(rate=300))
    assert len(slow) > 1.5 * len(fast)


@pytest.mark.parametrize("rate", [8_000, 16_000, 22_050, 44_100])
def test_output_sample_rate_scales_length(rate):
    native = synthesize("go", sample_rate=espeak.native_sample_rate())
    wave = synthesize("go", sample_rate=rate)
    assert abs(len(wave) - len(native) * rate / espeak.native_sample_rate()) <= 2


def test_many_variants_are_listed_and_all_english_accents_work():
    variants = espeak.list_variants()
    assert len(variants) >= 100 and "m3" in variants and "f2" in variants
    for accent in espeak.list_accents():
        assert synthesize("yes", Voice(accent, "m1")).size > 0


def test_unknown_voice_error_lists_valid_ones():
    with pytest.raises(ValueError, match="expected one of.*m3"):
        synthesize("yes", Voice("en-us", "nobody"))
    with pytest.raises(ValueError, match="unknown accent.*en-us"):
        synthesize("yes", Voice("xx-yy", "m3"))


@pytest.mark.parametrize("text", ["", "   ", "?!", None])
def test_empty_text_is_rejected(text):
    with pytest.raises(ValueError, match="at least one letter or digit"):
        synthesize(text)


@pytest.mark.parametrize("rate", [0, 1_000, 500_000, 16_000.5, "16k"])
def test_unsupported_sample_rate_is_rejected(rate):
    with pytest.raises(ValueError, match="sample"):
        synthesize("yes", sample_rate=rate)


@pytest.mark.parametrize("field,value", [("rate", 10), ("pitch", 120), ("pitch_range", -1)])
def test_out_of_range_voice_settings_are_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        synthesize("yes", Voice(**{field: value}))
