"""Real people: lesson 06's spotter and lesson 08's recognisers on real recordings.

Runs only when ``COURSE_RECORDINGS`` names a folder of ``{digit}_{speaker}_{index}.wav``
recordings (e.g. the folder `course_utils.data.fetch_fsdd` returns); otherwise it writes one
row saying so. Nothing real is ever trained on: the recordings are measured, not learned.

- The shipped recognisers (location and content attention): the share of clips transcribed
  as exactly the digit said, and the CER, per speaker and overall.
- The ablation: lesson 06's CNN with attention pooling (full profile, `SpotterRecipe`, seed 0)
  trained on one corpus (or front end) after another (`VARIANTS`), each scored on the
  synthetic test voices (the test split of the default augmentation, the same clips for all)
  and on the real speakers (among all 35 classes and among the ten digits). Lesson 06's
  three models on the lesson's own corpus are scored on the real speakers by
  `python -m benchmarks classification`.
"""

from __future__ import annotations

import time
from dataclasses import replace

import course_utils as cu
from course_utils import kws, metrics
from course_utils.asr import load_recognizer
from course_utils.asr.real_speech import score_recordings as score_recognizer
from course_utils.augment import AugmentConfig
from course_utils.data import load_recordings, recordings_folder
from course_utils.kws.real_speech import score_recordings as score_spotter


def _row(measure, value, unit="", target="", met=None) -> dict:
    row = {"benchmark": "realspeech", "measure": measure, "value": value, "unit": unit}
    return row | ({"target": target} if target else {}) | ({"met": met} if met is not None else {})


def _percent(share: float) -> float:
    return round(100 * share, 1)


def _default_augmentation(profile):
    """Before: the course's default augmentation (rooms, phone lines, noise, gain)."""
    return kws.command_corpus_config(profile, augment=AugmentConfig())


def _band_limits(profile):
    """The default, with half the clips band-limited (down to an 8 kHz card's 3.7 kHz)."""
    augment = replace(AugmentConfig(), band_limit_prob=0.5,
                      band_limits_hz=((60.0, 3700.0), (100.0, 3700.0), (60.0, 5500.0),
                                      (150.0, 7000.0)))  # fmt: skip
    return kws.command_corpus_config(profile, augment=augment)


def _wider_voices(profile):
    """Recording devices, and eSpeak's whole pitch and intonation ranges, more speed and pitch."""
    augment = replace(AugmentConfig.recorded(), pitch_prob=0.5, semitone_range=(-4.0, 4.0),
                      speed_prob=0.5, speed_range=(0.85, 1.15))  # fmt: skip
    return kws.command_corpus_config(profile, pitch_range=(0, 99), intonation_range=(0, 99),
                                     rate_range=(100, 280), augment=augment)  # fmt: skip


class PerBandSpotter(kws.KeywordSpotter):
    """Standardised per mel band over the clip (cepstral mean and variance normalisation)."""

    def features(self, waveform, lengths=None):
        features, frames = super().features(waveform, lengths)
        return cu.audio.standardize(features, frames, per_band=True, validate=False), frames


# name: (corpus config of the profile, spotter class); each trained as lesson 06 trains.
VARIANTS = {
    "default augmentation (before)": (_default_augmentation, kws.KeywordSpotter),
    "band limits to 3.7 kHz on half the clips": (_band_limits, kws.KeywordSpotter),
    "recording devices (lesson 06's corpus)": (kws.command_corpus_config, kws.KeywordSpotter),
    "recording devices, per-band normalisation": (kws.command_corpus_config, PerBandSpotter),
    "recording devices, wider voices": (_wider_voices, kws.KeywordSpotter),
}


def _recogniser_rows(recordings) -> list[dict]:
    rows = []
    for attention in ("location", "content"):
        model, _ = load_recognizer(attention=attention)
        scores = score_recognizer(model, recordings)
        per = ", ".join(f"{name} {_percent(s['exact'])}" for name, s in scores["speakers"].items())
        rows += [
            _row(f"shipped recogniser ({attention}): isolated digits transcribed exactly",
                 _percent(scores["exact"]), "%", ">= 80" if attention == "location" else "",
                 scores["exact"] >= 0.8 if attention == "location" else None),
            _row(f"shipped recogniser ({attention}): per speaker, exact", per, "%"),
            _row(f"shipped recogniser ({attention}): CER", _percent(scores["cer"]), "%"),
        ]  # fmt: skip
    return rows


def _ablation_rows(recordings, profile, device) -> list[dict]:
    # The synthetic test voices of the default augmentation: the same clips for every variant.
    test = kws.clips(cu.build_corpus(_default_augmentation(profile), progress=False)["test"])
    rows = []
    for name, (make_config, spotter_class) in VARIANTS.items():
        corpus = cu.build_corpus(make_config(profile), progress=False)
        train, validation = kws.clips(corpus["train"]), kws.clips(corpus["validation"])
        cu.set_seed(0)
        model = kws.new_spotter("cnn_attention", corpus.labels, profile).model
        spotter = spotter_class(model, corpus.labels, corpus.config.sample_rate)
        kws.train_spotter(spotter, train, validation, kws.SpotterRecipe(epochs=profile.kws.epochs),
                          device, progress=False)  # fmt: skip
        spotter.eval().cpu()
        synthetic = metrics.accuracy(kws.predict_clips(spotter, test[0], "cpu"), test[1])
        real = score_spotter(spotter, recordings)
        per = ", ".join(f"{s} {_percent(v['accuracy'])}" for s, v in real["speakers"].items())
        figures = {"synthetic": _percent(synthetic), "real": _percent(real["accuracy"]),
                   "digits_only": _percent(real["digits_only"])}  # fmt: skip
        measure = (f"ablation: {name}: synthetic test voices / real, 35 classes / real, digits "
                   f"only ({per})")  # fmt: skip
        value = " / ".join(str(v) for v in figures.values())
        # the figures also as fields, for lesson 06's table
        rows.append(_row(measure, value, "%") | {"variant": name} | figures)
    return rows


def run() -> list[dict]:
    folder = recordings_folder()
    if folder is None:
        return [_row("real recordings", "skipped: COURSE_RECORDINGS is not set")]
    started = time.perf_counter()
    recordings = load_recordings(folder, sample_rate=None)
    speakers = sorted({r.speaker for r in recordings})
    rows = [_row("real recordings", f"{len(recordings)} clips, speakers: {', '.join(speakers)}")]
    rows += _recogniser_rows(recordings)
    rows += _ablation_rows(recordings, cu.get_profile("full"), cu.get_device())
    rows.append(_row("total", round(time.perf_counter() - started), "s"))
    return rows
