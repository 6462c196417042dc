"""course_utils.codec.baselines: mu-law, Opus and MP3 through soundfile, delays."""

import numpy as np
import pytest
import soundfile as sf

from course_utils.audio.quality import stoi
from course_utils.codec.baselines import (
    CLASSIC_CODECS,
    ClassicCodec,
    check_codec_support,
    classic_roundtrip,
    estimate_delay,
    mu_law_roundtrip,
)
from course_utils.data import synthesize


@pytest.fixture(scope="module")
def clips():
    texts = ["three eight one", "turn off the office radio", "move left five steps"]
    return [synthesize(t, sample_rate=16000).astype(np.float32) for t in texts]


def test_mu_law_is_close_and_uses_256_levels(clips):
    decoded = mu_law_roundtrip(clips[0])
    assert len(np.unique(decoded)) <= 256
    assert stoi(clips[0], decoded, 16000) > 0.99


@pytest.mark.parametrize("shift", [0, 5, 123, -40])
def test_estimate_delay_finds_a_known_shift(shift):
    x = np.random.default_rng(0).standard_normal(6000)
    y = np.roll(x, shift)
    assert estimate_delay(x, y) == shift


@pytest.mark.parametrize("codec", CLASSIC_CODECS, ids=lambda c: f"{c.name}-{c.compression_level}")
def test_classic_roundtrip_keeps_lengths_and_counts_the_stream(clips, codec):
    decoded, bits_per_second, delay = classic_roundtrip(clips, 16000, codec)
    assert [len(d) for d in decoded] == [len(c) for c in clips]
    assert 4_000 < bits_per_second < 64_000
    assert abs(delay) < 4000
    assert np.mean([stoi(c, d, 16000) for c, d in zip(clips, decoded, strict=True)]) > 0.8


def test_higher_compression_level_means_fewer_bits(clips):
    opus = [c for c in CLASSIC_CODECS if c.name == "Opus"]
    opus.sort(key=lambda c: c.compression_level)
    rates = [classic_roundtrip(clips, 16000, c)[1] for c in opus]
    assert rates == sorted(rates, reverse=True)


def test_unsupported_codec_is_explained():
    with pytest.raises(RuntimeError, match="cannot write"):
        check_codec_support(ClassicCodec("AMR", "OGG", "AMR_WB", 0.5))


def test_installed_soundfile_writes_opus_and_mp3():
    assert "OPUS" in sf.available_subtypes("OGG") and "MP3" in sf.available_formats()


def test_classic_roundtrip_refuses_bad_clips(clips):
    with pytest.raises(ValueError, match="at least one"):
        classic_roundtrip([], 16000, CLASSIC_CODECS[0])
    with pytest.raises(ValueError, match="NaN"):
        classic_roundtrip([np.full(100, np.nan, dtype=np.float32)], 16000, CLASSIC_CODECS[0])
